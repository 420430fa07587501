//! The HTML report (`--html`): one self-contained page per run or
//! comparison, with its CSS inline and its charts as inline SVG drawn by
//! plotters. It holds no script and names no outside resource, so it opens
//! from disk, offline, and makes no request at all. Every string from the
//! report is escaped.

mod charts;
mod page;
mod tables;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io::{self, Write};

use super::RunReport;
use super::compare::CompareView;
use crate::metrics::{Bucket, Latency};
use crate::verdict::compare::RunSample;
use charts::{
    BLUE, GREEN, Legend, ORANGE, PINK, PURPLE, RED, Role, SpectrumLine, TimeAxis, YELLOW,
};

/// Text made safe for HTML element content and attribute values.
pub(crate) struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

pub(crate) fn esc(s: &str) -> Escaped<'_> {
    Escaped(s)
}

/// The colour of each outcome's curve and band.
fn bucket_role(bucket: Bucket) -> Role {
    match bucket {
        Bucket::Created => GREEN,
        Bucket::BadRequest => YELLOW,
        Bucket::ServerError => RED,
        Bucket::OtherStatus => PURPLE,
        Bucket::Error => PINK,
    }
}

/// Writes the HTML report of a run: header, verdict, summary, the
/// percentile spectra, the per-second charts and the check samples.
pub fn write_html(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    page::open(out, &format!("mcload · {}", run.scenario))?;
    page::run_header(run, out)?;
    page::verdict(run, out)?;
    tables::summary(run, out)?;

    writeln!(
        out,
        "<section id=\"spectra\"><h2>Latency by percentile</h2>"
    )?;
    let overall = [
        SpectrumLine::new(
            BLUE,
            "latency (from the intended start)",
            spectrum(&run.tally.all),
        ),
        SpectrumLine::new(
            ORANGE,
            "service time (from the send)",
            spectrum(&run.tally.service),
        ),
    ];
    spectrum_figure(
        out,
        "spectrum",
        "Percentile spectrum: latency and service time",
        "Read left to right from the fastest answer to the slowest: the height at 99% is the p99. A curve that bends up early means a slow tail; the gap between the two curves is time spent waiting before the send.",
        &overall,
    )?;
    let by_outcome: Vec<SpectrumLine> = Bucket::ALL
        .into_iter()
        .filter(|b| !run.tally.bucket(*b).is_empty())
        .map(|b| SpectrumLine::new(bucket_role(b), b.name(), spectrum(run.tally.bucket(b))))
        .collect();
    spectrum_figure(
        out,
        "spectrum-outcomes",
        "Percentile spectrum by outcome",
        "Each outcome's latency on its own: an error or a 500 that comes faster or slower than the 201s shows as its own curve.",
        &by_outcome,
    )?;
    writeln!(out, "</section>")?;

    time_section(run, out)?;
    tables::checks(run, out)?;
    page::close(out)
}

fn spectrum(h: &Latency) -> Vec<(f64, f64)> {
    charts::spectrum_points(h)
}

/// A spectrum's figure, or a note in its place when nothing was answered.
fn spectrum_figure(
    out: &mut dyn Write,
    id: &str,
    title: &str,
    how: &str,
    lines: &[SpectrumLine],
) -> io::Result<()> {
    let lines: Vec<SpectrumLine> = lines
        .iter()
        .filter(|l| !l.points.is_empty())
        .cloned()
        .collect();
    if lines.is_empty() {
        return page::empty_figure(out, id, title, "No answers: there is no latency to draw.");
    }
    let legend: Vec<Legend> = lines.iter().map(|l| l.legend.clone()).collect();
    page::figure(
        out,
        id,
        title,
        how,
        &legend,
        &charts::spectrum_chart(&lines)?,
    )
}

/// The per-second charts.
fn time_section(run: &RunReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<section id=\"over-time\"><h2>Second by second</h2>")?;
    let intervals = &run.intervals;
    if intervals.is_empty() {
        page::empty_figure(
            out,
            "over-time",
            "Over time",
            "No per-second series: the run measured no second.",
        )?;
        return writeln!(out, "</section>");
    }
    let warmup = run.warmup_ran().map(|w| w.as_secs_f64());
    let axis = TimeAxis::new(run.elapsed.as_secs_f64(), intervals, warmup);
    let planned = charts::planned_rate(&run.model, run.stop, warmup, axis.end);
    let (svg, legend) = charts::rate_chart(axis, intervals, planned.as_deref())?;
    let how = if planned.is_some() {
        "The blue steps are the requests started in each second, the dashed line the plan. Steps below the line mean mcload could not keep the rate (connections or in-flight limit); the first and last seconds may be partial."
    } else {
        "The requests started in each second. In the closed model the next request waits for the previous answer, so a slower target shows here as a lower rate; the first and last seconds may be partial."
    };
    page::figure(
        out,
        "rate",
        "Rate: achieved against planned",
        how,
        &legend,
        &svg,
    )?;
    match charts::latency_chart(axis, intervals)? {
        Some((svg, legend)) => page::figure(
            out,
            "latency-over-time",
            "Latency per second: p50, p99 and max",
            "Each second's answers: a p99 or max that climbs while p50 stays flat is a tail growing under load; gaps are seconds without an answer.",
            &legend,
            &svg,
        )?,
        None => page::empty_figure(
            out,
            "latency-over-time",
            "Latency per second: p50, p99 and max",
            "No answers in any second: there is no latency to draw.",
        )?,
    }
    let (svg, legend) = charts::outcomes_chart(axis, intervals)?;
    page::figure(
        out,
        "outcomes-over-time",
        "Outcomes per second, stacked",
        "Each band is one outcome's count in that second and the top edge the second's total, so the second where errors began shows as a new colour.",
        &legend,
        &svg,
    )?;
    let flight = charts::in_flight(intervals);
    let (svg, legend) = charts::in_flight_chart(axis, &flight, &run.model)?;
    page::figure(
        out,
        "in-flight",
        "Requests in flight",
        "Requests started and not yet ended at the end of each second (waiting for a connection or on the wire), from the series' starts less its ends. Rising while the rate holds means the target answers more slowly than requests arrive. It is a snapshot at each second's end: a burst inside a second shows as drops in the outcomes chart rather than here.",
        &legend,
        &svg,
    )?;
    writeln!(out, "</section>")
}

/// Writes the HTML page of a comparison: the verdict and rows table, and
/// the spectra of base and candidate overlaid. `base` and `cand` are the
/// runs the comparison read, in its order.
pub fn write_compare_html(
    view: &CompareView<'_>,
    base: &[RunSample],
    cand: &[RunSample],
    out: &mut dyn Write,
) -> io::Result<()> {
    page::open(out, "mcload compare")?;
    page::compare_header(view, out)?;
    tables::compare_rows(view, out)?;
    writeln!(
        out,
        "<section id=\"spectra\"><h2>Base and candidate by percentile</h2>"
    )?;
    for (id, title, pick) in [
        (
            "spectrum",
            "Latency: base against candidate",
            RunSample::latency as fn(&RunSample) -> &Latency,
        ),
        (
            "spectrum-service",
            "Service time: base against candidate",
            RunSample::service,
        ),
    ] {
        let mut lines = Vec::new();
        for (side, role, runs) in [("base", BLUE, base), ("candidate", ORANGE, cand)] {
            let mut merged: Option<Latency> = None;
            for run in runs {
                crate::metrics::merge_optional(&mut merged, &Some(pick(run).clone()));
            }
            if let Some(h) = merged {
                lines.push(SpectrumLine {
                    width: 3,
                    ..SpectrumLine::new(
                        role,
                        match runs.len() {
                            1 => format!("{side}: 1 run"),
                            n => format!("{side}: {n} runs merged"),
                        },
                        spectrum(&h),
                    )
                });
            }
            // Each run thin beside its side's merged curve: the spread
            // between runs is the noise a difference must beat. A side of
            // one run has only its bold curve.
            for run in runs.iter().filter(|_| runs.len() > 1) {
                lines.push(SpectrumLine {
                    width: 1,
                    ..SpectrumLine::new(role, String::new(), spectrum(pick(run)))
                });
            }
        }
        let lines: Vec<SpectrumLine> = lines.into_iter().filter(|l| !l.points.is_empty()).collect();
        if lines.is_empty() {
            page::empty_figure(
                out,
                id,
                title,
                "No answers on either side: there is no latency to draw.",
            )?;
            continue;
        }
        let legend: Vec<Legend> = lines
            .iter()
            .filter(|l| !l.legend.label.is_empty())
            .map(|l| l.legend.clone())
            .collect();
        page::figure(
            out,
            id,
            title,
            "The bold curves merge each side's runs, the thin ones are the runs themselves: a candidate curve above the base at the right is a slower tail; curves that cross within the thin ones' spread are noise.",
            &legend,
            &charts::spectrum_chart(&lines)?,
        )?;
    }
    writeln!(out, "</section>")?;
    page::close(out)
}
