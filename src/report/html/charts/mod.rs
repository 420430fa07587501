//! The charts, drawn with plotters' SVG backend into strings that the page
//! embeds. Every colour comes from [`PALETTE`]: the SVG carries its light
//! value, and the page's stylesheet swaps each for its dark twin when the
//! reader prefers a dark scheme (CSS rules override SVG presentation
//! attributes), so one drawing serves both.

mod spectrum;
mod time;

#[cfg(test)]
pub use spectrum::percentile_label;
pub use spectrum::{SpectrumLine, spectrum_chart, spectrum_points};
pub use time::{
    TimeAxis, in_flight, in_flight_chart, latency_chart, outcomes_chart, planned_rate, rate_chart,
};

use std::fmt::Write as _;
use std::io;

use plotters::coord::Shift;
use plotters::prelude::*;

/// A colour with a meaning: its name (a CSS class), its value on a light
/// page and its value on a dark one. Light values are unique, since the
/// dark stylesheet finds each by its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Role {
    pub name: &'static str,
    light: (u8, u8, u8),
    dark: &'static str,
}

impl Role {
    const fn new(name: &'static str, light: (u8, u8, u8), dark: &'static str) -> Role {
        Role { name, light, dark }
    }

    pub fn color(self) -> RGBColor {
        RGBColor(self.light.0, self.light.1, self.light.2)
    }

    /// The light value as plotters writes it into the SVG.
    fn hex(self) -> String {
        format!(
            "#{:02X}{:02X}{:02X}",
            self.light.0, self.light.1, self.light.2
        )
    }
}

/// Text and axes.
pub const FG: Role = Role::new("fg", (0x1F, 0x23, 0x28), "#E6EDF3");
/// Grid lines.
pub const GRID: Role = Role::new("grid", (0xD8, 0xDE, 0xE4), "#30363D");
/// The warm-up's shade.
pub const WARMUP: Role = Role::new("warmup", (0xEA, 0xEE, 0xF2), "#262C36");
pub const BLUE: Role = Role::new("blue", (0x09, 0x69, 0xDA), "#58A6FF");
pub const ORANGE: Role = Role::new("orange", (0xBC, 0x4C, 0x00), "#F0883E");
pub const RED: Role = Role::new("red", (0xCF, 0x22, 0x2E), "#FF7B72");
pub const GREEN: Role = Role::new("green", (0x1A, 0x7F, 0x37), "#3FB950");
pub const YELLOW: Role = Role::new("yellow", (0x9A, 0x67, 0x00), "#D29922");
pub const PURPLE: Role = Role::new("purple", (0x82, 0x50, 0xDF), "#BC8CFF");
pub const PINK: Role = Role::new("pink", (0xBF, 0x39, 0x89), "#F778BA");
pub const GRAY: Role = Role::new("gray", (0x6E, 0x77, 0x81), "#8B949E");
pub const TEAL: Role = Role::new("teal", (0x1B, 0x7C, 0x83), "#39C5CF");

pub const PALETTE: [Role; 12] = [
    FG, GRID, WARMUP, BLUE, ORANGE, RED, GREEN, YELLOW, PURPLE, PINK, GRAY, TEAL,
];

/// The dark scheme's rules: each palette colour, where the SVG uses it as
/// a fill or a stroke and as a legend swatch, swapped for its dark twin.
pub fn dark_css() -> String {
    let mut css = String::new();
    for role in PALETTE {
        let (hex, dark, name) = (role.hex(), role.dark, role.name);
        let _ = writeln!(
            css,
            "svg [fill=\"{hex}\"]{{fill:{dark}}}svg [stroke=\"{hex}\"]{{stroke:{dark}}}.sw.{name}{{background:{dark}}}"
        );
    }
    css
}

/// The light swatches of the legends.
pub fn light_css() -> String {
    PALETTE
        .iter()
        .map(|r| format!(".sw.{}{{background:{}}}\n", r.name, r.hex()))
        .collect()
}

/// Pixels of every chart's drawing; the page scales it to its width.
pub const SIZE: (u32, u32) = (960, 360);
const FONT: &str = "sans-serif";

pub fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&FG.color())
}

pub fn line(role: Role, width: u32) -> ShapeStyle {
    role.color().stroke_width(width)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type DrawResult =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'static> as DrawingBackend>::ErrorType>>;

/// Draws one chart into an SVG string. The background stays transparent,
/// so the page's own shows through in either scheme.
pub fn svg(draw: impl FnOnce(&Area<'_>) -> DrawResult) -> io::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
        draw(&root).map_err(|e| io::Error::other(format!("cannot draw a chart: {e}")))?;
        root.present()
            .map_err(|e| io::Error::other(format!("cannot draw a chart: {e}")))?;
    }
    Ok(out)
}

/// The chart's frame: margins and room for the axes' labels.
pub fn frame<'a, 'b>(root: &'a Area<'b>) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.margin_top(12)
        .margin_right(24)
        .margin_left(8)
        .margin_bottom(4)
        .x_label_area_size(48)
        .y_label_area_size(72);
    b
}

/// A number on an axis: as short as it reads well.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if a >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A legend entry, shown in the page beside the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Legend {
    pub role: Role,
    pub label: String,
}

impl Legend {
    pub fn new(role: Role, label: impl Into<String>) -> Legend {
        Legend {
            role,
            label: label.into(),
        }
    }
}

/// The top of a y axis: the largest value with some room above it, and
/// never zero, so that an all-zero series still has an axis.
pub fn y_top(max: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        max * 1.08
    } else {
        1.0
    }
}
