//! The percentile spectrum, as HdrHistogram's plotter draws it: latency
//! (y, ms) against "1 in N" (x, log scale, N = 1/(1-q)), so the median
//! sits at 2, p99 at 100 and p99.9 at 1,000, and the tail gets as much
//! room as the body.

use std::io;

use plotters::prelude::*;

use super::{FG, GRID, Legend, Role, axis_number, frame, line, svg, text, y_top};
use crate::metrics::Latency;

/// Points per tenfold of N: enough for a smooth curve, few enough that a
/// chart stays a few kilobytes.
const STEPS_PER_DECADE: u32 = 20;

/// The spectrum of a histogram: (N, ms) from N = 1 (the minimum) to N =
/// the number of values (the maximum); empty for an empty histogram.
pub fn spectrum_points(h: &Latency) -> Vec<(f64, f64)> {
    let count = h.len();
    if count == 0 {
        return Vec::new();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let last = count as f64;
    let mut points = Vec::new();
    for k in 0.. {
        let n = 10f64.powf(f64::from(k) / f64::from(STEPS_PER_DECADE));
        if n >= last {
            break;
        }
        points.push((n, ms(h.value_at_quantile(1.0 - 1.0 / n))));
    }
    points.push((last.max(1.0), ms(h.max())));
    points
}

/// One curve of a spectrum chart.
#[derive(Clone, Debug)]
pub struct SpectrumLine {
    pub legend: Legend,
    pub points: Vec<(f64, f64)>,
    /// Stroke width: a side's merged curve is drawn bolder than its runs'.
    pub width: u32,
}

impl SpectrumLine {
    pub fn new(role: Role, label: impl Into<String>, points: Vec<(f64, f64)>) -> SpectrumLine {
        SpectrumLine {
            legend: Legend::new(role, label),
            points,
            width: 2,
        }
    }
}

/// "1 in N" as the percentile it stands for: 10 is 90%, 1,000 is 99.9%.
pub fn percentile_label(n: f64) -> String {
    if n < 1.5 {
        return "min".into();
    }
    let decimals = (n.log10().round() as i64 - 2).max(0) as usize;
    format!("{:.*}%", decimals, 100.0 * (1.0 - 1.0 / n))
}

/// Draws the curves over one log axis that reaches the next power of ten
/// past the longest curve.
pub fn spectrum_chart(lines: &[SpectrumLine]) -> io::Result<String> {
    let most = lines
        .iter()
        .flat_map(|l| l.points.last())
        .map(|p| p.0)
        .fold(10.0, f64::max);
    let decades = most.log10().ceil().max(1.0);
    let x_end = 10f64.powf(decades);
    let y_max = lines
        .iter()
        .flat_map(|l| &l.points)
        .map(|p| p.1)
        .fold(0.0, f64::max);
    svg(|root| {
        let mut chart =
            frame(root).build_cartesian_2d((1f64..x_end).log_scale(), 0f64..y_top(y_max))?;
        chart
            .configure_mesh()
            .x_labels(decades as usize + 1)
            .x_label_formatter(&|n| percentile_label(*n))
            .y_label_formatter(&|v| axis_number(*v))
            .x_desc("percentile (log scale of \u{201c}1 in N\u{201d}: 99% is 1 in 100)")
            .y_desc("latency (ms)")
            .label_style(text(14))
            .axis_desc_style(text(14))
            .axis_style(FG.color())
            .bold_line_style(GRID.color())
            .light_line_style(TRANSPARENT)
            .draw()?;
        for l in lines {
            chart.draw_series(LineSeries::new(
                l.points.iter().copied(),
                line(l.legend.role, l.width),
            ))?;
            // A curve of one point (one answer) shows as a dot.
            if l.points.len() == 1 {
                chart.draw_series(
                    l.points
                        .iter()
                        .map(|&p| Circle::new(p, 4, l.legend.role.color().filled())),
                )?;
            }
        }
        Ok(())
    })
}
