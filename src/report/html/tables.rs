//! The page's tables: the text summary's outcome and latency tables, the
//! checks and their samples, and a comparison's rows.

use std::io::{self, Write};

use super::esc;
use crate::checks::Check;
use crate::report::compare::{CompareView, cells, ci_header, summary as compare_summary};
use crate::report::text::{NONE, latency_rows, outcome_rows, server_line, share, throughput_text};
use crate::report::{RunReport, grouped};
use crate::scenario::Model;
use crate::verdict::compare::Verdict;

/// The text summary's tables: requests, outcomes, warm-up, latency, and
/// whether every request is accounted for.
pub fn summary(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.tally.counts;
    let total = run.measured_scheduled();
    writeln!(out, "<section id=\"summary\">\n<h2>Summary</h2>")?;
    writeln!(
        out,
        "<p>{} requests scheduled · {} answered · {} over the measured {:.2} s</p>",
        grouped(total),
        grouped(c.completed()),
        esc(&throughput_text(run.throughput())),
        run.measured_duration().as_secs_f64()
    )?;
    writeln!(
        out,
        "<table class=\"outcomes\">\n<thead><tr><th>outcome</th><th>requests</th><th>share</th><th>detail</th></tr></thead>\n<tbody>"
    )?;
    for (name, n, detail) in outcome_rows(run) {
        writeln!(
            out,
            "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"detail\">{}</td></tr>",
            grouped(n),
            share(n, total),
            esc(&detail)
        )?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    if let (Some((_, t)), Some(ran)) = (&run.warmup, run.warmup_ran()) {
        let w = &t.counts;
        writeln!(
            out,
            "<p>Warm-up: {} requests in {:.2} s, kept out of every figure on this page ({} × 201 · {} × 400 · {} × 500 · {} other · {} errors · {} dropped).</p>",
            grouped(w.total()),
            ran.as_secs_f64(),
            grouped(w.created()),
            grouped(w.bad_request()),
            grouped(w.server_error()),
            grouped(w.other()),
            grouped(w.errors()),
            grouped(w.dropped())
        )?;
    }
    writeln!(
        out,
        "<table class=\"latency\">\n<thead><tr><th>latency (ms)</th><th>min</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>mean</th></tr></thead>\n<tbody>"
    )?;
    for (name, l) in latency_rows(run) {
        write!(out, "<tr><td>{name}</td>")?;
        match l {
            Some(l) => {
                for v in [l.min, l.p50, l.p90, l.p99, l.p999, l.max, l.mean] {
                    write!(out, "<td class=\"n\">{v:.3}</td>")?;
                }
            }
            // Nothing answered: no figure, rather than a zero that reads as fast.
            None => {
                for _ in 0..7 {
                    write!(out, "<td class=\"n\">{NONE}</td>")?;
                }
            }
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    let note = match run.model {
        Model::Open(_) => {
            "Latency counts from each request's intended start, so waiting for a connection is included; service time from the send."
        }
        Model::Closed { .. } => {
            "Closed model: a request starts when its worker is free, so a stalling target lowers the rate instead of showing in latency."
        }
    };
    writeln!(out, "<p class=\"note\">{note}</p>")?;
    let warmup = run.warmup.as_ref().map_or(0, |(_, t)| t.counts.total());
    writeln!(
        out,
        "<p>Accounted: {} scheduled {} {} outcomes{} {}</p>",
        grouped(run.scheduled),
        if run.accounted() { "=" } else { "≠" },
        grouped(c.total()),
        if warmup > 0 {
            format!(" + {} in the warm-up", grouped(warmup))
        } else {
            String::new()
        },
        if run.accounted() {
            "✓"
        } else {
            "✗ (a request was lost: this is a bug in mcload)"
        }
    )?;
    if let Some(line) = server_line(run, "") {
        writeln!(out, "<p>Server: {}.</p>", esc(&line))?;
    }
    writeln!(out, "</section>")
}

/// Each check's count, in the verdict: all but `unexpected_status` fail
/// the run when not zero; that one is judged by the thresholds.
pub fn check_counts(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.checks;
    writeln!(
        out,
        "<table class=\"checks\">\n<thead><tr><th>check</th><th>count</th><th>result</th></tr></thead>\n<tbody>"
    )?;
    for check in Check::ALL {
        let n = c.count(check);
        let (class, result) = match (n, check) {
            (0, _) => ("pass", "✓"),
            (_, Check::UnexpectedStatus) => ("", "judged by the thresholds"),
            _ => ("fail-text", "✗ broke the response contract"),
        };
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"{class}\">{result}</td></tr>",
            check.name(),
            grouped(n)
        )?;
    }
    writeln!(out, "</tbody>\n</table>")?;
    let invalid = c.invalid();
    writeln!(
        out,
        "<p>Bodies: {} valid (expect 201) · {} invalid.</p>",
        grouped(c.valid),
        grouped(invalid)
    )
}

/// The checks' samples: the first few offending answers of each check.
pub fn checks(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    let c = &run.checks;
    writeln!(out, "<section id=\"samples\">\n<h2>Check samples</h2>")?;
    if Check::ALL.iter().all(|&k| c.samples(k).is_empty()) {
        writeln!(
            out,
            "<p class=\"note\">No answer broke a check: there is no sample to show.</p>\n</section>"
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "<table class=\"samples\">\n<thead><tr><th>check</th><th>status</th><th>body</th><th>Location</th></tr></thead>\n<tbody>"
    )?;
    for check in Check::ALL {
        for s in c.samples(check) {
            let location = if s.location.is_empty() {
                "(none)"
            } else {
                &s.location
            };
            writeln!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"wrap\"><code>{}</code></td></tr>",
                check.name(),
                s.status,
                esc(s.kind),
                esc(location)
            )?;
        }
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"note\">The first few answers of each check, as they came.</p>\n</section>"
    )
}

/// A comparison's rows, as `mcload compare` prints them, and its verdict.
pub fn compare_rows(view: &CompareView<'_>, out: &mut dyn Write) -> io::Result<()> {
    let c = view.comparison;
    let fails = c.fails(view.fail_on_inconclusive);
    writeln!(
        out,
        "<section id=\"verdict\" class=\"verdict {}\">\n<h2>{}</h2>",
        if fails { "fail" } else { "ok" },
        esc(&compare_summary(view))
    )?;
    writeln!(
        out,
        "<table class=\"rows\">\n<thead><tr><th>metric</th><th>base</th><th>candidate</th><th>ratio</th><th>{}</th><th>p</th><th>verdict</th></tr></thead>\n<tbody>",
        esc(&ci_header(c))
    )?;
    for row in &c.rows {
        let cells = cells(row);
        let class = match row.verdict {
            Verdict::Regressed => "fail-text",
            Verdict::Inconclusive if view.fail_on_inconclusive => "fail-text",
            Verdict::Improved => "pass",
            _ => "",
        };
        write!(out, "<tr><td><code>{}</code></td>", esc(&cells[0]))?;
        for cell in &cells[1..6] {
            write!(out, "<td class=\"n\">{}</td>", esc(cell))?;
        }
        writeln!(out, "<td class=\"{class}\">{}</td></tr>", esc(&cells[6]))?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"note\">ratio: candidate / base (of geometric means; shares as share + 0.1%); p: corrected over the rows tested.</p>\n</section>"
    )
}
