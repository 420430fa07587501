//! The text summary printed after a run, and the live progress line.

use std::io::{self, Write};
use std::time::Duration;

use super::{LatencyMs, RunReport, ServerCheck};
use crate::metrics::{Bucket, LiveSnapshot};

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

fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

fn stop_rule(run: &RunReport<'_>) -> String {
    match (run.stop.duration, run.stop.requests) {
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

/// Writes the human summary of a run.
pub fn write_text(run: &RunReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.tally.counts;
    let total = run.scheduled;
    let target_note = if run.embedded {
        " (embedded reference server)"
    } else {
        ""
    };
    writeln!(
        out,
        "mcload {} · {} → {}{}{}",
        env!("CARGO_PKG_VERSION"),
        run.scenario,
        run.target,
        run.path,
        target_note
    )?;
    writeln!(
        out,
        "closed model: {} workers on {} thread{}, {} · seed {}",
        run.concurrency,
        run.threads,
        if run.threads == 1 { "" } else { "s" },
        stop_rule(run),
        run.seed
    )?;
    if run.interrupted {
        writeln!(
            out,
            "INTERRUPTED after {:.2} s: the counts cover every request started until then",
            run.elapsed.as_secs_f64()
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "requests   {} scheduled · {} answered · {}/s over {:.2} s",
        grouped(total),
        grouped(c.completed()),
        grouped(run.throughput().round() as u64),
        run.elapsed.as_secs_f64()
    )?;
    let others = c.other_statuses();
    let other_detail = others
        .iter()
        .map(|(code, n)| format!("{code}: {}", grouped(*n)))
        .collect::<Vec<_>>()
        .join(" · ");
    let rows: [(&str, u64, String); 5] = [
        ("201", c.status(201), String::new()),
        ("400", c.status(400), String::new()),
        ("500", c.status(500), String::new()),
        ("other", c.other(), other_detail),
        (
            "errors",
            c.errors(),
            format!(
                "connect {} · timeout {} · io {} · protocol {}",
                grouped(c.connect),
                grouped(c.timeout),
                grouped(c.io),
                grouped(c.protocol)
            ),
        ),
    ];
    for (name, n, detail) in rows {
        let line = format!(
            "  {name:<8} {:>12} {:>8}   {detail}",
            grouped(n),
            share(n, total)
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "latency ms {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "min", "p50", "p90", "p99", "p99.9", "max", "mean"
    )?;
    let mut latency_row = |name: &str, l: LatencyMs| {
        writeln!(
            out,
            "  {name:<8} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            l.min, l.p50, l.p90, l.p99, l.p999, l.max, l.mean
        )
    };
    latency_row("answered", LatencyMs::of(&run.tally.all))?;
    for bucket in Bucket::ALL {
        let h = run.tally.bucket(bucket);
        if !h.is_empty() {
            let name = bucket.name().trim_start_matches("status.");
            latency_row(name, LatencyMs::of(h))?;
        }
    }
    writeln!(out)?;
    let (relation, mark) = if run.accounted() {
        ("=", "✓")
    } else {
        ("≠", "✗ (a request was lost: this is a bug in mcload)")
    };
    writeln!(
        out,
        "accounted  {} scheduled {relation} {} (201) + {} (400) + {} (500) + {} (other) + {} (errors) {mark}",
        grouped(total),
        grouped(c.status(201)),
        grouped(c.status(400)),
        grouped(c.status(500)),
        grouped(c.other()),
        grouped(c.errors())
    )?;
    if let (Some(s), Some(check)) = (run.server, run.server_check()) {
        let verdict = match check {
            ServerCheck::Equal => "equal to mcload's counts ✓".to_string(),
            ServerCheck::Consistent { unseen } => format!(
                "consistent with mcload's counts ✓ ({} answered after mcload gave up on them)",
                grouped(unseen)
            ),
            ServerCheck::Different => "DIFFERENT from mcload's counts ✗".to_string(),
        };
        writeln!(
            out,
            "server     {} received · {} × 201 · {} × 400 · {} × 500 · {} other: {verdict}",
            grouped(s.requests),
            grouped(s.created),
            grouped(s.bad_request),
            grouped(s.server_error),
            grouped(s.other)
        )?;
    }
    Ok(())
}

/// The one-line live view: elapsed time, requests, current rate, errors.
pub fn progress_line(
    elapsed: Duration,
    planned: Option<Duration>,
    now: LiveSnapshot,
    rate: f64,
) -> String {
    let time = match planned {
        Some(p) => format!(
            "{:>5.1}s/{}",
            elapsed.as_secs_f64(),
            humantime::format_duration(p)
        ),
        None => format!("{:>5.1}s", elapsed.as_secs_f64()),
    };
    format!(
        "{time}  {} requests  {:>9}/s  201 {}  errors {}",
        grouped(now.ended),
        grouped(rate.round() as u64),
        grouped(now.created),
        grouped(now.errors)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_time_requests_rate_and_errors() {
        let line = progress_line(
            Duration::from_millis(2_500),
            Some(Duration::from_secs(10)),
            LiveSnapshot {
                ended: 123_456,
                created: 123_400,
                errors: 56,
            },
            49_382.4,
        );
        assert_eq!(
            line,
            "  2.5s/10s  123,456 requests     49,382/s  201 123,400  errors 56"
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
