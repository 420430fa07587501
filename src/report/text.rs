//! The text summary printed after a run, and the live progress line.

use std::io::{self, Write};
use std::time::Duration;

use super::{LatencyMs, RunReport, ServerCheck};
use crate::checks::Check;
use crate::metrics::{Bucket, Counts, Kind};
use crate::scenario::{Model, Rate, StopRule};
use crate::spec::{MUTATIONS, RuleSet};
use crate::verdict::{Cause, Source, measured_text};

/// Under the errors row, the first reason seen for each error class, so a
/// count comes with its cause ("first tls: the certificate is self-signed …").
fn write_error_reasons(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    for (kind, reason) in run.error_reasons.iter() {
        let class = match kind {
            Kind::Connect => "connect",
            Kind::Tls => "tls",
            Kind::Local => "local",
            Kind::Io => "io",
            Kind::Protocol => "protocol",
            _ => continue,
        };
        writeln!(out, "             first {class}: {reason}")?;
    }
    Ok(())
}

/// `1234567` as `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

fn stop_rule(stop: StopRule) -> String {
    match (stop.duration, stop.requests) {
        (Some(d), Some(n)) => format!(
            "{} requests or {}, whichever comes first",
            grouped(n),
            humantime::format_duration(d)
        ),
        (Some(d), None) => format!("for {}", humantime::format_duration(d)),
        (None, Some(n)) => format!("{} requests", grouped(n)),
        (None, None) => String::new(),
    }
}

/// Shown where there is no figure (nothing was answered).
pub(super) const NONE: &str = "—";

/// Answers per second: whole above 10/s, with two decimals below (a slow
/// run's 0.5/s is not 1/s).
pub(super) fn throughput_text(rps: f64) -> String {
    if rps >= 10.0 {
        format!("{}/s", grouped(rps.round() as u64))
    } else {
        format!("{rps:.2}/s")
    }
}

/// A rate as people write it: `500/s`, `2.5/s`.
pub fn rate_text(rate: f64) -> String {
    if rate.fract() == 0.0 && rate < 1e15 {
        format!("{}/s", grouped(rate as u64))
    } else {
        format!("{rate}/s")
    }
}

/// What the load model is, in one line: the run's summary and `mcload
/// validate` both describe a model with this. `threads` is left out where
/// it is not known yet.
pub fn describe_load(
    model: &Model,
    stop: StopRule,
    warmup: Option<Duration>,
    threads: Option<usize>,
) -> String {
    let threads = threads.map_or(String::new(), |n| {
        format!("{n} thread{}", if n == 1 { "" } else { "s" })
    });
    let warmup = warmup.map_or(String::new(), |w| {
        format!(" after a {} warm-up", humantime::format_duration(w))
    });
    match model {
        Model::Closed { concurrency } => {
            let on = if threads.is_empty() {
                String::new()
            } else {
                format!(" on {threads}")
            };
            format!(
                "closed model: {concurrency} worker{}{on}, {}{warmup}",
                if *concurrency == 1 { "" } else { "s" },
                stop_rule(stop)
            )
        }
        Model::Open(open) => {
            let rate = match &open.rate {
                Rate::Constant(r) => format!("{} {}", rate_text(*r), stop_rule(stop)),
                Rate::Stages { start, stages } => {
                    let mut ramp = rate_text(*start);
                    for stage in stages {
                        ramp.push_str(&format!(
                            " → {} in {}",
                            rate_text(stage.rate),
                            humantime::format_duration(stage.duration)
                        ));
                    }
                    match stop.requests {
                        Some(n) => format!("{ramp}, at most {} requests", grouped(n)),
                        None => ramp,
                    }
                }
            };
            let threads = if threads.is_empty() {
                String::new()
            } else {
                format!(" · {threads}")
            };
            // Unknown in a report from before pacing was a choice.
            let pacing = open
                .pacing
                .map_or_else(String::new, |p| format!(" · pacing {p}"));
            format!(
                "open model: {rate}{warmup} · {} connections · at most {} in flight{pacing}{threads}",
                grouped(u64::from(open.connections)),
                grouped(open.max_in_flight),
            )
        }
    }
}

/// The first two lines of a run's summary: what runs, where, and how.
/// `mcload run` prints them when the load starts.
#[derive(Clone, Debug)]
pub struct RunHeader {
    pub scenario: String,
    /// The target's base URL.
    pub target: String,
    /// The endpoint path appended to it.
    pub path: String,
    pub embedded: bool,
    /// The target's certificate is not verified (`--insecure`).
    pub insecure: bool,
    pub model: Model,
    pub stop: StopRule,
    pub warmup: Option<Duration>,
    pub threads: usize,
    pub seed: u64,
}

impl RunHeader {
    /// The header of a finished run.
    pub fn of(run: &RunReport) -> RunHeader {
        RunHeader {
            scenario: run.scenario.clone(),
            target: run.target.clone(),
            path: run.path.clone(),
            embedded: run.embedded,
            insecure: run.insecure,
            model: run.model.clone(),
            stop: run.stop,
            warmup: run.warmup.as_ref().map(|(w, _)| *w),
            threads: run.threads,
            seed: run.seed,
        }
    }
}

/// Writes the header: target, then model and plan.
pub fn write_header(h: &RunHeader, out: &mut dyn Write) -> io::Result<()> {
    let target_note = match (h.embedded, h.insecure) {
        (true, _) => " (embedded reference server)",
        (false, true) => " (certificate NOT verified: --insecure)",
        (false, false) => "",
    };
    writeln!(
        out,
        "mcload {} · {} → {}{}{}",
        env!("CARGO_PKG_VERSION"),
        h.scenario,
        h.target,
        h.path,
        target_note
    )?;
    writeln!(
        out,
        "{} · seed {}",
        describe_load(&h.model, h.stop, h.warmup, Some(h.threads)),
        h.seed
    )?;
    out.flush()
}

/// Writes the human summary of a run: the header, then the rest.
pub fn write_text(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    write_header(&RunHeader::of(run), out)?;
    write_summary(run, out)
}

/// Writes the summary of a run after its header (which `mcload run`
/// printed when the load started).
pub fn write_summary(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.tally.counts;
    let total = run.measured_scheduled();
    if let Some(line) = plan_line(run) {
        writeln!(out, "{line}")?;
    }
    if let Some(a) = &run.aborted {
        writeln!(
            out,
            "STOPPED EARLY at {} s: `{}` failed (abort = true); the counts cover every request started until then",
            a.second + 1,
            a.threshold.expression()
        )?;
    }
    // Times and rates as the JSON report keeps them (the window to the
    // millisecond, the throughput to a thousandth), so that a saved report
    // shown again (`mcload report`) reads the same.
    let (from, to) = run.measured_window();
    let window = (to - from).as_secs_f64();
    let window = (window * 1000.0).round() / 1000.0;
    let throughput = (run.throughput() * 1000.0).round() / 1000.0;
    if run.interrupted {
        // Interrupted, the window ends when the run did.
        writeln!(
            out,
            "INTERRUPTED after {:.2} s: the counts cover every request started until then",
            from.as_secs_f64() + window
        )?;
    }
    if run.insecure {
        writeln!(
            out,
            "INSECURE: the target's TLS certificate was not verified (--insecure or target.insecure)"
        )?;
    }
    if let Some(reason) = run.invalid_reason() {
        writeln!(
            out,
            "INVALID RUN: {reason}; the figures say nothing reliable about the target"
        )?;
    }
    writeln!(out)?;
    // The window runs to the end of the plan or the last answer: say how
    // much of it was the wait for the last answers.
    let last_start = run.sending.max(from);
    writeln!(
        out,
        "requests   {} scheduled · {} answered · {} over {window:.2} s{}",
        grouped(total),
        grouped(c.completed()),
        throughput_text(throughput),
        match run.elapsed.saturating_sub(last_start) {
            wait if wait >= Duration::from_millis(50) && total > 0 => format!(
                " (the last request started at {:.2} s; the rest is the wait for the answers)",
                (last_start - from).as_secs_f64()
            ),
            _ => String::new(),
        }
    )?;
    for (name, n, detail) in outcome_rows(run) {
        let line = format!(
            "  {name:<9} {:>11} {:>8}   {detail}",
            grouped(n),
            share(n, total)
        );
        writeln!(out, "{}", line.trim_end())?;
        if name == "errors" {
            write_error_reasons(run, out)?;
        }
    }
    if let (Some((_, t)), Some(ran)) = (&run.warmup, run.warmup_ran()) {
        let wc = &t.counts;
        writeln!(
            out,
            "warm-up    {} requests in {}, kept out of every figure here: {} × 201 · {} × 400 · {} × 500 · {} other · {} errors · {} dropped · p99 {} ms",
            grouped(wc.total()),
            humantime::format_duration(Duration::from_millis(ran.as_millis() as u64)),
            grouped(wc.created()),
            grouped(wc.bad_request()),
            grouped(wc.server_error()),
            grouped(wc.other()),
            grouped(wc.errors()),
            grouped(wc.dropped()),
            LatencyMs::of(&t.all).map_or(NONE.into(), |l| format!("{:.3}", l.p99))
        )?;
    }
    let backoff = run.generator.backoff;
    if !backoff.is_zero() {
        writeln!(
            out,
            "backoff    workers waited {:.2} s in all after failed connects before trying again (10 ms doubling to 1 s); waits are not requests",
            (backoff.as_secs_f64() * 1000.0).round() / 1000.0
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "latency ms {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "min", "p50", "p90", "p99", "p99.9", "max", "mean"
    )?;
    let mut latency_row = |name: &str, l: Option<LatencyMs>| match l {
        Some(l) => writeln!(
            out,
            "  {name:<8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            l.min, l.p50, l.p90, l.p99, l.p999, l.max, l.mean
        ),
        // Nothing answered: no figure, rather than a zero that reads as fast.
        None => writeln!(
            out,
            "  {name:<8} {NONE:>9} {NONE:>9} {NONE:>9} {NONE:>9} {NONE:>9} {NONE:>9} {NONE:>9}"
        ),
    };
    for (name, l) in latency_rows(run) {
        latency_row(name, l)?;
    }
    let note = if matches!(run.model, Model::Open(_)) {
        "(latency counts from each request's intended start, so waiting for a connection is included; service time from the send)"
    } else {
        "(closed model: a request starts when its worker is free, so a stalling target lowers the rate instead of showing in latency; --rate gives the open model)"
    };
    writeln!(out, "  {note}")?;
    writeln!(out)?;
    write_checks(run, out)?;
    // A ✓ only when the verdict passes: a line that holds in a failed run
    // must not read as a pass.
    let tick = if run.passed() { " ✓" } else { "" };
    let (relation, mark) = if run.accounted() {
        ("=", tick)
    } else {
        ("≠", " ✗ (a request was lost: this is a bug in mcload)")
    };
    writeln!(
        out,
        "accounted  {} scheduled {relation} {} (201) + {} (400) + {} (500) + {} (other) + {} (errors) + {} (dropped){}{}{mark}",
        grouped(run.scheduled),
        grouped(c.created()),
        grouped(c.bad_request()),
        grouped(c.server_error()),
        grouped(c.other()),
        grouped(c.errors()),
        grouped(c.dropped()),
        match c.cancelled() {
            0 => String::new(),
            n => format!(" + {} (cancelled)", grouped(n)),
        },
        run.warmup.as_ref().map_or(String::new(), |(_, t)| format!(
            " + {} (warm-up)",
            grouped(t.counts.total())
        ))
    )?;
    if let Some(line) = server_line(run, tick) {
        writeln!(out, "server     {line}")?;
    }
    write_verdict(run, out)
}

/// What the embedded server counted and how that compares with mcload's
/// counts, when it was the target; `tick` follows "equal" when the verdict
/// may show one.
/// A sharded run's shard and plan (or a merged report's shards), and a
/// shared start's lateness, e.g.
/// `shard 2/3 of plan 1f2e… · started 0.4 ms after 2026-11-30T17:00:00.000Z`.
pub(super) fn plan_line(run: &RunReport) -> Option<String> {
    let plan = super::fingerprint_hex(run.plan_fingerprint);
    let shard = match (run.shard, run.shards) {
        (Some(s), _) => Some(format!("shard {}/{} of plan {plan}", s.index, s.count)),
        (None, Some(n)) => Some(format!("{n} shards of plan {plan}, merged")),
        (None, None) => None,
    };
    let start = run.start.map(|s| {
        format!(
            "started {:.1} ms after {}",
            s.lateness.as_secs_f64() * 1e3,
            humantime::format_rfc3339_millis(s.at)
        )
    });
    match (shard, start) {
        (Some(a), Some(b)) => Some(format!("{a} · {b}")),
        (a, b) => a.or(b),
    }
}

pub(super) fn server_line(run: &RunReport, tick: &str) -> Option<String> {
    let (s, check) = (run.server?, run.server_check()?);
    let verdict = match check {
        ServerCheck::Equal => format!("equal to mcload's counts{tick}"),
        ServerCheck::Consistent { unseen } => format!(
            "consistent with mcload's counts{tick} ({} answered after mcload gave up on them)",
            grouped(unseen)
        ),
        ServerCheck::Different => "DIFFERENT from mcload's counts ✗".to_string(),
    };
    Some(format!(
        "{} received · {} × 201 · {} × 400 · {} × 500 · {} other: {verdict}",
        grouped(s.requests),
        grouped(s.answers.created()),
        grouped(s.answers.bad_request()),
        grouped(s.answers.server_error()),
        grouped(s.answers.other())
    ))
}

/// The outcome rows of the summary: name, count and detail. Dropped shows
/// in the open model only and cancelled only when there are any, unless
/// they are not zero.
pub(super) fn outcome_rows(run: &RunReport) -> Vec<(&'static str, u64, String)> {
    let c = &run.tally.counts;
    let others = run.tally.other_statuses();
    let other_detail = others
        .iter()
        .map(|(code, n)| format!("{code}: {}", grouped(*n)))
        .collect::<Vec<_>>()
        .join(" · ");
    let dropped_detail = if c.dropped() > 0 {
        "never sent: max in flight reached, or interrupted".to_string()
    } else {
        String::new()
    };
    let cancelled_detail = if c.cancelled() > 0 {
        "on the wire when the run was cut short (second Ctrl-C or end of the grace)".to_string()
    } else {
        String::new()
    };
    let rows: [(&str, u64, String); 7] = [
        ("201", c.created(), String::new()),
        ("400", c.bad_request(), String::new()),
        ("500", c.server_error(), String::new()),
        ("other", c.other(), other_detail),
        (
            "errors",
            c.errors(),
            format!(
                "connect {} · tls {} · local {} · timeout {} · io {} · protocol {}",
                grouped(c.connect()),
                grouped(c.tls()),
                grouped(c.local()),
                timeouts(c),
                grouped(c.io()),
                grouped(c.protocol())
            ),
        ),
        ("dropped", c.dropped(), dropped_detail),
        ("cancelled", c.cancelled(), cancelled_detail),
    ];
    let open = matches!(run.model, Model::Open(_));
    rows.into_iter()
        .filter(|(name, n, _)| !((*name == "dropped" && !open || *name == "cancelled") && *n == 0))
        .collect()
}

/// The latency rows of the summary: every answer, their service time,
/// valid and invalid bodies apart when there were invalid ones, then each
/// outcome with answers.
pub(super) fn latency_rows(run: &RunReport) -> Vec<(&'static str, Option<LatencyMs>)> {
    let mut rows = vec![
        ("answered", LatencyMs::of(&run.tally.all)),
        ("service", LatencyMs::of(&run.tally.service)),
    ];
    // The generator's own lateness, beside the service time; no row when
    // nothing was sent (or the report predates it), rather than zeros.
    if let Some(lag) = LatencyMs::of(&run.tally.send_lag) {
        rows.push(("send lag", Some(lag)));
    }
    if run.checks.invalid() > 0 {
        rows.push(("valid", LatencyMs::of(&run.checks.latency_valid)));
        rows.push(("invalid", LatencyMs::of(run.checks.latency_invalid())));
    }
    for bucket in Bucket::ALL {
        let h = run.tally.bucket(bucket);
        if !h.is_empty() {
            let name = bucket.name().trim_start_matches("status.");
            rows.push((name, LatencyMs::of(h)));
        }
    }
    rows
}

/// The thresholds, each with its measured value, PASS or FAIL and where
/// it was given, then the verdict.
fn write_verdict(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    if !run.thresholds.is_empty() {
        writeln!(out)?;
        writeln!(out, "thresholds")?;
        let rows = threshold_rows(run);
        let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
        let (expression, measured) = (width(0), width(1));
        for [e, m, verdict, source] in &rows {
            writeln!(
                out,
                "  {e:<expression$}  {m:>measured$}  {verdict}  {source}"
            )?;
        }
    }
    writeln!(out)?;
    if run.passed() {
        return writeln!(out, "verdict    passed ✓");
    }
    let causes: Vec<String> = run.causes.iter().map(Cause::message).collect();
    writeln!(out, "verdict    FAILED: {}", causes.join("; "))
}

/// Each threshold as expression, measured value, PASS or FAIL, and where
/// it was given (with its abort, when it has one).
pub(super) fn threshold_rows(run: &RunReport) -> Vec<[String; 4]> {
    run.thresholds
        .iter()
        .map(|e| {
            let measured = measured_in_worst_window(e);
            let mut source = match &e.threshold.source {
                Source::Default => "(default)".to_string(),
                other => other.to_string(),
            };
            if let Some(after) = e.threshold.abort {
                let stopped = run
                    .aborted
                    .as_ref()
                    .is_some_and(|a| a.threshold == e.threshold);
                source.push_str(&format!(
                    " · abort after {}{}",
                    humantime::format_duration(after),
                    if stopped { ": stopped the run" } else { "" }
                ));
            }
            let verdict = if e.pass { "PASS" } else { "FAIL" };
            [e.threshold.expression(), measured, verdict.into(), source]
        })
        .collect()
}

/// Timeouts, with those that never got a connection named apart.
fn timeouts(c: &Counts) -> String {
    if c.timeouts_never_sent() > 0 {
        format!(
            "{} ({} never sent)",
            grouped(c.timeouts()),
            grouped(c.timeouts_never_sent())
        )
    } else {
        grouped(c.timeouts())
    }
}

/// Bodies by kind and the response checks, with samples of what failed.
fn write_checks(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.checks;
    let invalid = c.invalid();
    let mutations = c.by_mutation.iter().filter(|&&n| n > 0).count();
    if invalid > 0 {
        writeln!(
            out,
            "bodies     {} valid (expect 201) · {} invalid ({}) by {} of {} mutations",
            grouped(c.valid),
            grouped(invalid),
            match run.rules {
                RuleSet::Strict => "expect 400",
                RuleSet::Documented => "expect 400 if the documented rules reject them, else 201",
            },
            mutations,
            MUTATIONS.len()
        )?;
    } else {
        writeln!(out, "bodies     {} valid (expect 201)", grouped(c.valid))?;
    }
    let line = Check::ALL
        .iter()
        .map(|&k| format!("{} {}", k.name(), grouped(c.count(k))))
        .collect::<Vec<_>>()
        .join(" · ");
    let mark = if c.contract_broken() {
        "✗ (the endpoint broke the response contract)"
    } else if c.all_clear() {
        if run.passed() { "✓" } else { "" }
    } else {
        "(unexpected statuses count in `unexpected`, judged by the thresholds)"
    };
    writeln!(out, "{}", format!("checks     {line} {mark}").trim_end())?;
    for check in Check::ALL {
        if c.count(check) == 0 {
            continue;
        }
        let sign = if check == Check::UnexpectedStatus {
            "·"
        } else {
            "✗"
        };
        for sample in c.samples(check) {
            let location = if sample.location.is_empty() {
                "no Location".to_string()
            } else {
                format!("Location {}", sample.location)
            };
            writeln!(
                out,
                "  {sign} {:<22} {} for a {} body, {location}",
                check.name(),
                sample.status,
                sample.kind
            )?;
        }
    }
    writeln!(out)
}

/// A threshold's measured value, with its worst window for `over`.
pub fn measured_in_worst_window(e: &crate::verdict::Evaluated) -> String {
    match e.worst_window {
        Some((start, seconds)) => format!(
            "{} (worst window {start}–{} s)",
            measured_text(e),
            start + seconds
        ),
        None => measured_text(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_and_its_shared_start_are_named_in_one_line() {
        let mut run = RunReport::example();
        assert_eq!(plan_line(&run), None);
        run.shard = Some(crate::scenario::Shard { index: 2, count: 3 });
        run.plan_fingerprint = 0x1f2e;
        run.start = Some(super::super::SharedStart {
            at: std::time::UNIX_EPOCH + Duration::from_secs(60),
            lateness: Duration::from_micros(400),
        });
        assert_eq!(
            plan_line(&run).unwrap(),
            "shard 2/3 of plan 0000000000001f2e · started 0.4 ms after 1970-01-01T00:01:00.000Z"
        );
        // A merged report is no one shard: it names how many it holds.
        run.shard = None;
        run.shards = Some(3);
        run.start = None;
        assert_eq!(
            plan_line(&run).unwrap(),
            "3 shards of plan 0000000000001f2e, merged"
        );
    }

    /// One description of a model serves the run's summary (which knows
    /// its threads) and `mcload validate` (which does not yet).
    #[test]
    fn a_load_is_described_the_same_with_or_without_its_threads() {
        let stop = StopRule {
            duration: Some(Duration::from_secs(3)),
            requests: None,
        };
        let closed = Model::Closed { concurrency: 8 };
        assert_eq!(
            describe_load(&closed, stop, None, Some(2)),
            "closed model: 8 workers on 2 threads, for 3s"
        );
        assert_eq!(
            describe_load(&closed, stop, Some(Duration::from_secs(1)), None),
            "closed model: 8 workers, for 3s after a 1s warm-up"
        );
        assert_eq!(
            describe_load(&Model::Closed { concurrency: 1 }, stop, None, Some(1)),
            "closed model: 1 worker on 1 thread, for 3s"
        );
        let open = Model::Open(crate::scenario::OpenModel {
            rate: Rate::Constant(500.0),
            connections: 64,
            max_in_flight: 10_000,
            pacing: Some(crate::engine::Pacing::DEFAULT),
        });
        assert_eq!(
            describe_load(&open, stop, None, Some(1)),
            "open model: 500/s for 3s · 64 connections · at most 10,000 in flight · pacing batched:200us · 1 thread"
        );
        assert_eq!(
            describe_load(&open, stop, None, None),
            "open model: 500/s for 3s · 64 connections · at most 10,000 in flight · pacing batched:200us"
        );
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1_000, "1,000"),
            (93_412, "93,412"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(grouped(n), text);
        }
    }
}
