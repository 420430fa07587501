//! The per-second charts: rate, latency, outcomes and requests in flight
//! over the run's time, with the warm-up shaded apart. The series holds
//! the measured seconds only, so the warm-up's shade holds the plan and
//! nothing measured.

use std::io;

use plotters::prelude::*;

use super::{
    BLUE, DrawResult, FG, GRAY, GREEN, GRID, Legend, ORANGE, PINK, PURPLE, RED, Role, TEAL, WARMUP,
    YELLOW, axis_number, frame, line, svg, text, y_top,
};
use crate::metrics::{Counts, Interval};
use crate::scenario::{Model, Rate, StopRule};

/// The time axis shared by the per-second charts, in seconds from the
/// start of the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimeAxis {
    pub end: f64,
    /// How long the warm-up ran, when there was one.
    pub warmup: Option<f64>,
}

impl TimeAxis {
    /// From 0 to the end of the run or of its last second, whichever is later.
    pub fn new(elapsed: f64, intervals: &[Interval], warmup: Option<f64>) -> TimeAxis {
        let last = intervals.last().map_or(0.0, |i| (i.second + 1) as f64);
        TimeAxis {
            end: elapsed.max(last).max(1.0),
            warmup: warmup.filter(|w| *w > 0.0),
        }
    }
}

/// Each second's value as a flat step over that second: a count per
/// second holds for the whole second, not at one instant of it.
fn steps(intervals: &[Interval], value: impl Fn(&Interval) -> f64) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(intervals.len() * 2);
    for i in intervals {
        let (from, v) = (i.second as f64, value(i));
        points.push((from, v));
        points.push((from + 1.0, v));
    }
    points
}

/// The open model's planned arrival rate as a polyline over the run's
/// time: the warm-up runs at the starting rate, then the constant rate or
/// each stage's linear ramp. `None` for the closed model, which plans no
/// rate. A constant rate with no planned duration holds to `end`.
pub fn planned_rate(
    model: &Model,
    stop: StopRule,
    warmup: Option<f64>,
    end: f64,
) -> Option<Vec<(f64, f64)>> {
    let Model::Open(open) = model else {
        return None;
    };
    let w = warmup.unwrap_or(0.0);
    let mut points = Vec::new();
    match &open.rate {
        Rate::Constant(r) => {
            let until = stop.duration.map_or(end, |d| w + d.as_secs_f64());
            points.extend([(0.0, *r), (until, *r)]);
        }
        Rate::Stages { start, stages } => {
            points.push((0.0, *start));
            points.push((w, *start));
            let mut t = w;
            for s in stages {
                t += s.duration.as_secs_f64();
                points.push((t, s.rate));
            }
        }
    }
    points.dedup();
    Some(points)
}

/// Requests started and not yet ended at the end of each second (waiting
/// for a connection or on the wire): the series' starts less its ended
/// requests, summed from the first measured second. A request dropped at
/// `max_in_flight` never started, so drops are left out of the ended.
pub fn in_flight(intervals: &[Interval]) -> Vec<(f64, f64)> {
    let mut open: i128 = 0;
    intervals
        .iter()
        .map(|i| {
            let ended = i.counts.total() - i.counts.dropped();
            open += i128::from(i.started) - i128::from(ended);
            ((i.second + 1) as f64, open.max(0) as f64)
        })
        .collect()
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// The axes, grid and warm-up shade of a per-second chart.
fn time_chart<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    axis: TimeAxis,
    y_max: f64,
    y_desc: &str,
) -> Result<Chart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>>
where
    'b: 'a,
{
    let top = y_top(y_max);
    let mut chart = frame(root).build_cartesian_2d(0f64..axis.end, 0f64..top)?;
    if let Some(w) = axis.warmup {
        chart.draw_series([Rectangle::new(
            [(0.0, 0.0), (w.min(axis.end), top)],
            WARMUP.color().filled(),
        )])?;
        chart.draw_series([Text::new(
            "warm-up (not measured)",
            (0.0, top),
            text(13).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Top,
            )),
        )])?;
    }
    chart
        .configure_mesh()
        // Whole seconds on a short run, not halves.
        .x_labels((axis.end.ceil() as usize + 1).clamp(2, 12))
        .y_labels(8)
        .x_label_formatter(&|s| axis_number(*s))
        .y_label_formatter(&|v| axis_number(*v))
        .x_desc("seconds from the start of the run")
        .y_desc(y_desc)
        .label_style(text(14))
        .axis_desc_style(text(14))
        .axis_style(FG.color())
        .bold_line_style(GRID.color())
        .light_line_style(TRANSPARENT)
        .draw()?;
    Ok(chart)
}

fn max_of(points: &[(f64, f64)]) -> f64 {
    points.iter().map(|p| p.1).fold(0.0, f64::max)
}

/// Requests started per second against the planned rate.
pub fn rate_chart(
    axis: TimeAxis,
    intervals: &[Interval],
    planned: Option<&[(f64, f64)]>,
) -> io::Result<(String, Vec<Legend>)> {
    let achieved = steps(intervals, |i| i.started as f64);
    let y_max = max_of(&achieved).max(planned.map_or(0.0, max_of));
    let svg = svg(|root| -> DrawResult {
        let mut chart = time_chart(root, axis, y_max, "requests started per second")?;
        if let Some(p) = planned {
            chart.draw_series(DashedLineSeries::new(
                p.iter().copied(),
                8,
                5,
                line(GRAY, 2),
            ))?;
        }
        chart.draw_series(LineSeries::new(achieved, line(BLUE, 2)))?;
        Ok(())
    })?;
    let mut legend = vec![Legend::new(BLUE, "achieved: requests started")];
    if planned.is_some() {
        legend.push(Legend::new(GRAY, "planned rate"));
    }
    Ok((svg, legend))
}

/// One figure of a second's latency `(p50, p99, max)`.
type Pick = fn((u64, u64, u64)) -> u64;
/// One outcome's count.
type Count = fn(&Counts) -> u64;

/// Per-second latency p50, p99 and max, in ms; seconds without an answer
/// leave a gap. `None` when no second had an answer.
pub fn latency_chart(
    axis: TimeAxis,
    intervals: &[Interval],
) -> io::Result<Option<(String, Vec<Legend>)>> {
    let figures: [(Role, &str, Pick); 3] = [
        (RED, "max", |l| l.2),
        (ORANGE, "p99", |l| l.1),
        (BLUE, "p50", |l| l.0),
    ];
    let y_max = intervals
        .iter()
        .filter_map(|i| i.latency_us)
        .map(|l| l.2 as f64 / 1000.0)
        .fold(f64::NAN, f64::max);
    if y_max.is_nan() {
        return Ok(None);
    }
    let svg = svg(|root| -> DrawResult {
        let mut chart = time_chart(root, axis, y_max, "latency (ms)")?;
        for (role, _, pick) in figures {
            // One polyline per run of seconds with answers.
            for run in intervals.split(|i| i.latency_us.is_none()) {
                let points: Vec<(f64, f64)> = run
                    .iter()
                    .filter_map(|i| {
                        i.latency_us
                            .map(|l| (i.second as f64 + 0.5, pick(l) as f64 / 1000.0))
                    })
                    .collect();
                if points.len() == 1 {
                    chart.draw_series(
                        points
                            .iter()
                            .map(|&p| Circle::new(p, 3, role.color().filled())),
                    )?;
                } else {
                    chart.draw_series(LineSeries::new(points, line(role, 2)))?;
                }
            }
        }
        Ok(())
    })?;
    let legend = figures
        .iter()
        .rev()
        .map(|(role, name, _)| Legend::new(*role, *name))
        .collect();
    Ok(Some((svg, legend)))
}

/// The outcome layers, bottom up.
const LAYERS: [(Role, &str, Count); 7] = [
    (GREEN, "201", Counts::created),
    (YELLOW, "400", Counts::bad_request),
    (RED, "500", Counts::server_error),
    (PURPLE, "other status", Counts::other),
    (PINK, "errors", Counts::errors),
    (GRAY, "dropped", Counts::dropped),
    (TEAL, "cancelled", Counts::cancelled),
];

/// Outcomes per second, stacked: each band's height is that outcome's
/// count, the top the second's total. Only outcomes that occurred show.
pub fn outcomes_chart(axis: TimeAxis, intervals: &[Interval]) -> io::Result<(String, Vec<Legend>)> {
    let present: Vec<_> = LAYERS
        .iter()
        .filter(|(_, _, count)| intervals.iter().any(|i| count(&i.counts) > 0))
        .collect();
    // The cumulative top of each layer, drawn from the top one down so
    // each lower band paints over the part of the higher ones below it.
    let tops: Vec<Vec<(f64, f64)>> = (0..present.len())
        .map(|k| {
            steps(intervals, |i| {
                present[..=k]
                    .iter()
                    .map(|(_, _, c)| c(&i.counts))
                    .sum::<u64>() as f64
            })
        })
        .collect();
    let y_max = tops.last().map_or(0.0, |t| max_of(t));
    let svg = svg(|root| -> DrawResult {
        let mut chart = time_chart(root, axis, y_max, "outcomes per second")?;
        for ((role, _, _), top) in present.iter().zip(&tops).rev() {
            chart.draw_series(
                AreaSeries::new(top.iter().copied(), 0.0, role.color().mix(0.85).filled())
                    .border_style(line(*role, 1)),
            )?;
        }
        Ok(())
    })?;
    let legend = present
        .iter()
        .map(|(role, name, _)| Legend::new(*role, *name))
        .collect();
    Ok((svg, legend))
}

/// Requests in flight at the end of each second, with the open model's
/// limits as lines when the curve comes near them.
pub fn in_flight_chart(
    axis: TimeAxis,
    points: &[(f64, f64)],
    model: &Model,
) -> io::Result<(String, Vec<Legend>)> {
    let peak = max_of(points);
    let mut limits = Vec::new();
    if let Model::Open(open) = model {
        for (role, name, value) in [
            (
                ORANGE,
                "connections (beyond: waiting for one)",
                f64::from(open.connections),
            ),
            (
                RED,
                "max in flight (beyond: dropped)",
                open.max_in_flight as f64,
            ),
        ] {
            // A limit far above the curve would flatten it to nothing.
            if value <= peak * 2.0 {
                limits.push((role, name, value));
            }
        }
    }
    let y_max = limits.iter().map(|l| l.2).fold(peak, f64::max);
    let svg = svg(|root| -> DrawResult {
        let mut chart = time_chart(root, axis, y_max, "requests in flight")?;
        for (role, _, value) in &limits {
            chart.draw_series(DashedLineSeries::new(
                [(0.0, *value), (axis.end, *value)],
                8,
                5,
                line(*role, 2),
            ))?;
        }
        chart.draw_series(LineSeries::new(points.iter().copied(), line(BLUE, 2)))?;
        if points.len() == 1 {
            chart.draw_series(
                points
                    .iter()
                    .map(|&p| Circle::new(p, 3, BLUE.color().filled())),
            )?;
        }
        Ok(())
    })?;
    let mut legend = vec![Legend::new(BLUE, "started, not yet ended")];
    legend.extend(
        limits
            .iter()
            .map(|(role, name, _)| Legend::new(*role, *name)),
    );
    Ok((svg, legend))
}
