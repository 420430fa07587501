//! The threshold grammar, one for the scenario's `[thresholds]` table and
//! for `--threshold`: `METRIC [over D] OP VALUE`, e.g. `latency.p99 < 250ms`,
//! `status.201 >= 99.5%`, `latency.p99 over 10s < 400ms`, `rate > 500/s`.
//!
//! In the file the metric part is the key and `OP VALUE` the value; on the
//! command line the whole expression is one string, split at its operator.

use std::fmt;
use std::time::Duration;

pub mod metric;

pub use metric::Metric;
use metric::{Count, Unit};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether `measured OP limit` holds.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
            Op::Ne => measured != limit,
        }
    }
}

/// A threshold's limit, in its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    /// In microseconds.
    Duration(f64),
    /// In percent of the requests scheduled.
    Share(f64),
    Count(u64),
    /// Per second.
    Rate(f64),
}

impl Limit {
    /// The limit as a number in the unit it is reported in: milliseconds
    /// for a duration, percent for a share, per second for a rate.
    pub fn reported(self) -> f64 {
        match self {
            Limit::Duration(us) => us / 1000.0,
            Limit::Share(p) => p,
            Limit::Count(n) => n as f64,
            Limit::Rate(r) => r,
        }
    }

    /// The name of that unit: `ms`, `%`, `requests`, `/s`.
    pub fn unit_name(self) -> &'static str {
        match self {
            Limit::Duration(_) => "ms",
            Limit::Share(_) => "%",
            Limit::Count(_) => "requests",
            Limit::Rate(_) => "/s",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Limit::Duration(_) => "a duration",
            Limit::Share(_) => "a share",
            Limit::Count(_) => "a count",
            Limit::Rate(_) => "a rate",
        }
    }
}

/// Where a threshold was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// In a scenario file, at this line.
    File { file: String, line: usize },
    /// By `--threshold`.
    Flag,
    /// The default verdict, `unexpected <= 1%`.
    Default,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { file, line } => write!(f, "{file}:{line}"),
            Source::Flag => f.write_str("--threshold"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A checked threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    /// `over D`: every window of this many seconds must hold.
    pub window: Option<u64>,
    pub op: Op,
    pub limit: Limit,
    /// The limit as written (`250ms`, `99.5%`).
    pub limit_text: String,
    pub source: Source,
    /// `abort = true`: the run stops as soon as the threshold fails, once
    /// this grace (`after`, from the start of the measured part) has passed.
    pub abort: Option<Duration>,
}

impl Threshold {
    /// The default verdict: at most 1% of the requests go wrong.
    pub fn default_unexpected() -> Threshold {
        Threshold {
            metric: Metric::Count(Count::Unexpected),
            window: None,
            op: Op::Le,
            limit: Limit::Share(1.0),
            limit_text: "1%".into(),
            source: Source::Default,
            abort: None,
        }
    }

    /// The threshold as an expression: `latency.p99 over 10s < 250ms`.
    pub fn expression(&self) -> String {
        format!(
            "{}{} {} {}",
            self.metric,
            self.window.map_or(String::new(), |w| format!(" over {w}s")),
            self.op.symbol(),
            self.limit_text
        )
    }
}

/// Which part of an expression a mistake is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// `METRIC [over D]`: the key in the file.
    Metric,
    /// `OP VALUE`: the value in the file.
    Check,
}

/// A threshold that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ThresholdError {
    pub part: Part,
    pub message: String,
    pub hint: Option<String>,
}

fn error(part: Part, message: impl Into<String>, hint: Option<String>) -> ThresholdError {
    ThresholdError {
        part,
        message: message.into(),
        hint,
    }
}

/// Splits a whole expression into its metric part and its `OP VALUE`
/// part, at the first operator character.
pub fn split(expression: &str) -> (&str, &str) {
    match expression.find(['<', '>', '=', '!']) {
        Some(i) => (expression[..i].trim(), expression[i..].trim()),
        None => (expression.trim(), ""),
    }
}

/// Reads a threshold from its metric part (`latency.p99 over 10s`) and
/// its check (`< 250ms`); `source` says where it was given.
pub fn parse(metric_part: &str, check: &str, source: Source) -> Result<Threshold, ThresholdError> {
    let (metric, window) = parse_metric(metric_part)?;
    let check = check.trim();
    let (op, rest) = parse_op(check)?;
    let value = rest.trim();
    if value.is_empty() {
        return Err(error(
            Part::Check,
            format!("no value after `{}`", op.symbol()),
            Some(format!(
                "write e.g. `{metric} {} {}`",
                op.symbol(),
                example(metric)
            )),
        ));
    }
    let limit = parse_limit(value, metric)?;
    Ok(Threshold {
        metric,
        window,
        op,
        limit,
        limit_text: value.to_string(),
        source,
        abort: None,
    })
}

fn example(metric: Metric) -> &'static str {
    match metric.unit() {
        Unit::Duration => "250ms",
        Unit::ShareOrCount => "1%",
        Unit::Count => "1000",
        Unit::Rate => "500/s",
    }
}

fn parse_metric(text: &str) -> Result<(Metric, Option<u64>), ThresholdError> {
    let text = text.trim();
    let (name, window) = match text.split_once(" over ") {
        Some((name, window)) => (name.trim(), Some(window.trim())),
        None => (text, None),
    };
    if name.is_empty() {
        return Err(error(
            Part::Metric,
            "the threshold names no metric",
            Some("write e.g. `latency.p99 < 250ms`".into()),
        ));
    }
    let Some(metric) = Metric::by_name(name) else {
        let names: Vec<String> = Metric::all().iter().map(Metric::name).collect();
        let lower = name.to_ascii_lowercase();
        let nearest = names
            .iter()
            .map(|k| (strsim::damerau_levenshtein(&lower, k), k))
            .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(2))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k);
        let hint = match nearest {
            Some(k) => format!("did you mean `{k}`?"),
            None => "metrics are latency.{min,p50,p90,p95,p99,p999,max,mean} (also under service_time., send_lag., latency.status.201., latency.valid., ...), status.201|400|500|other, errors, errors.connect|tls|local|timeout|io|protocol, dropped, cancelled, unexpected, checks, checks.<name>, rate, requests".into(),
        };
        return Err(error(
            Part::Metric,
            format!("unknown metric `{name}`"),
            Some(hint),
        ));
    };
    let window = match window {
        None => None,
        Some(w) => {
            if !metric.windowed() {
                return Err(error(
                    Part::Metric,
                    format!("`{name}` cannot be judged `over` a window"),
                    Some("the per-second series keeps latency.<stat>, status.*, errors, errors.*, dropped, requests and rate; judge the others over the whole run (leave `over` out)".into()),
                ));
            }
            let micros = parse_duration_us(w).map_err(|m| error(Part::Metric, m, None))?;
            if micros < 1e6 || micros % 1e6 != 0.0 {
                return Err(error(
                    Part::Metric,
                    format!("`over {w}`: a window is a whole number of seconds, at least 1s"),
                    Some("write e.g. `over 10s`".into()),
                ));
            }
            Some((micros / 1e6) as u64)
        }
    };
    Ok((metric, window))
}

fn parse_op(check: &str) -> Result<(Op, &str), ThresholdError> {
    for (symbol, op) in [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ] {
        if let Some(rest) = check.strip_prefix(symbol) {
            return Ok((op, rest));
        }
    }
    let hint = Some("operators are < <= > >= == !=, e.g. `< 250ms`".to_string());
    if check.is_empty() {
        return Err(error(
            Part::Check,
            "the threshold has no operator and no value",
            hint,
        ));
    }
    if check.starts_with('=') {
        return Err(error(
            Part::Check,
            format!("`{check}`: write `==` to compare for equality"),
            hint,
        ));
    }
    Err(error(
        Part::Check,
        format!("`{check}` does not start with an operator"),
        hint,
    ))
}

/// A duration with its unit, in microseconds: `300us`, `250ms`, `1.5s`, `2m`.
fn parse_duration_us(text: &str) -> Result<f64, String> {
    let (number, unit) = number_and_suffix(text);
    let scale = match unit.trim() {
        "us" | "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        "m" | "min" => 60e6,
        "" => {
            return Err(format!(
                "`{text}` has no unit: write a duration such as 300us, 250ms or 1.5s"
            ));
        }
        other => {
            return Err(format!(
                "`{other}` is not a unit of time: use us, ms, s or m"
            ));
        }
    };
    let n = parse_number(number, text)?;
    Ok(n * scale)
}

fn number_and_suffix(text: &str) -> (&str, &str) {
    let text = text.trim();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    (&text[..end], &text[end..])
}

fn parse_number(number: &str, whole: &str) -> Result<f64, String> {
    match number.replace('_', "").parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        Ok(_) => Err(format!("`{whole}`: the value must be 0 or more")),
        Err(_) => Err(format!("`{whole}` is not a number with a unit")),
    }
}

/// The value, in the unit its metric takes.
fn parse_limit(value: &str, metric: Metric) -> Result<Limit, ThresholdError> {
    let (number, suffix) = number_and_suffix(value);
    let suffix = suffix.trim();
    let written = if number.is_empty() {
        None
    } else {
        match suffix {
            "%" => Some("share"),
            "/s" => Some("rate"),
            "" => Some("count"),
            "us" | "µs" | "ms" | "s" | "m" | "min" => Some("duration"),
            _ => None,
        }
    };
    let Some(written) = written else {
        return Err(error(
            Part::Check,
            format!(
                "`{value}` is not a value: write a duration (250ms), a share (99.5%), a count (0) or a rate (500/s)"
            ),
            Some(format!("`{metric}` takes e.g. `{}`", example(metric))),
        ));
    };
    let bad = |e: String| error(Part::Check, e, None);
    let limit = match (metric.unit(), written) {
        (Unit::Duration, "duration") => Limit::Duration(parse_duration_us(value).map_err(bad)?),
        (Unit::ShareOrCount, "share") => {
            let p = parse_number(number, value).map_err(bad)?;
            if p > 100.0 {
                return Err(error(
                    Part::Check,
                    format!("`{value}` is more than 100%"),
                    None,
                ));
            }
            Limit::Share(p)
        }
        (Unit::ShareOrCount | Unit::Count, "count") => {
            let n = parse_number(number, value).map_err(bad)?;
            if n.fract() != 0.0 {
                return Err(error(
                    Part::Check,
                    format!("`{value}` is not a whole count of requests"),
                    Some("a share is written with %, e.g. `0.5%`".into()),
                ));
            }
            Limit::Count(n as u64)
        }
        (Unit::Rate, "rate") => Limit::Rate(parse_number(number, value).map_err(bad)?),
        (unit, _) => {
            let takes = match unit {
                Unit::Duration => "a duration such as 300us, 250ms or 1.5s",
                Unit::ShareOrCount => "a share such as 99.5% or a count such as 0",
                Unit::Count => "a count such as 1000",
                Unit::Rate => "a rate such as 500/s",
            };
            let given = match written {
                "share" => Limit::Share(0.0),
                "rate" => Limit::Rate(0.0),
                "count" => Limit::Count(0),
                _ => Limit::Duration(0.0),
            };
            return Err(error(
                Part::Check,
                format!(
                    "`{metric}` takes {takes}; `{value}` is {}",
                    given.describe()
                ),
                Some(format!("write e.g. `{metric} < {}`", example(metric))),
            ));
        }
    };
    Ok(limit)
}

/// The thresholds a run is judged by: those given, and unless one of them
/// is on `unexpected` or `defaults` is off, the default `unexpected <= 1%`.
pub fn with_default(mut given: Vec<Threshold>, defaults: bool) -> Vec<Threshold> {
    let unexpected = Metric::Count(Count::Unexpected);
    if defaults && !given.iter().any(|t| t.metric == unexpected) {
        given.push(Threshold::default_unexpected());
    }
    given
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::metric::{Stat, Timing};

    fn expr(text: &str) -> Result<Threshold, ThresholdError> {
        let (metric, check) = split(text);
        parse(metric, check, Source::Flag)
    }

    #[test]
    fn expressions_read_with_their_units() {
        let t = expr("latency.p99 < 250ms").unwrap();
        assert_eq!(t.metric, Metric::Latency(Timing::Latency, Stat::P99));
        assert_eq!(
            (t.op, t.limit, t.window),
            (Op::Lt, Limit::Duration(250_000.0), None)
        );
        assert_eq!(
            expr("latency.p50 <= 300us").unwrap().limit,
            Limit::Duration(300.0)
        );
        assert_eq!(
            expr("service_time.max < 1.5s").unwrap().limit,
            Limit::Duration(1_500_000.0)
        );
        let t = expr("send_lag.p99 < 250us").unwrap();
        assert_eq!(t.metric, Metric::Latency(Timing::SendLag, Stat::P99));
        assert_eq!(t.limit, Limit::Duration(250.0), "to the microsecond");
        assert!(
            expr("send_lag.p99 over 10s < 250us").is_err(),
            "the send lag is judged over the whole run"
        );
        let t = expr("status.201 >= 99.5%").unwrap();
        assert_eq!((t.op, t.limit), (Op::Ge, Limit::Share(99.5)));
        assert_eq!(expr("unexpected == 0").unwrap().limit, Limit::Count(0));
        assert_eq!(expr("errors != 3").unwrap().op, Op::Ne);
        assert_eq!(expr("rate > 500/s").unwrap().limit, Limit::Rate(500.0));
        assert_eq!(expr("requests >= 1000").unwrap().limit, Limit::Count(1000));
        let t = expr("latency.p99 over 10s < 400ms").unwrap();
        assert_eq!(t.window, Some(10));
        assert_eq!(t.expression(), "latency.p99 over 10s < 400ms");
        assert_eq!(
            expr("  latency.p99<5ms ").unwrap().expression(),
            "latency.p99 < 5ms"
        );
    }

    #[test]
    fn mistakes_name_what_is_wrong_and_where() {
        let e = expr("latency.p99 <").unwrap_err();
        assert_eq!(e.part, Part::Check);
        assert!(e.message.contains("no value after `<`"), "{e:?}");
        let e = expr("latency.p99 < 5%").unwrap_err();
        assert_eq!(e.part, Part::Check);
        assert!(
            e.message.contains("takes a duration") && e.message.contains("a share"),
            "{e:?}"
        );
        let e = expr("lateny.p99 < 5ms").unwrap_err();
        assert_eq!(e.part, Part::Metric);
        assert_eq!(e.message, "unknown metric `lateny.p99`");
        assert_eq!(e.hint.as_deref(), Some("did you mean `latency.p99`?"));
        assert!(
            expr("latency.p99 = 5ms")
                .unwrap_err()
                .message
                .contains("==")
        );
        assert!(
            expr("latency.p99")
                .unwrap_err()
                .message
                .contains("no operator")
        );
        assert!(
            expr("latency.p99 < 5")
                .unwrap_err()
                .message
                .contains("a count")
        );
        assert!(
            expr("latency.p99 < 5 parsecs")
                .unwrap_err()
                .message
                .contains("not a value")
        );
        assert!(
            expr("status.201 > 101%")
                .unwrap_err()
                .message
                .contains("100%")
        );
        assert!(
            expr("requests > 5%")
                .unwrap_err()
                .message
                .contains("takes a count")
        );
        assert!(expr("rate > 5").unwrap_err().message.contains("a rate"));
        assert!(
            expr("errors < 1.5")
                .unwrap_err()
                .message
                .contains("whole count")
        );
        assert!(
            expr("unexpected over 10s < 1%")
                .unwrap_err()
                .message
                .contains("window")
        );
        assert!(
            expr("latency.p99 over 1500ms < 1s")
                .unwrap_err()
                .message
                .contains("whole number")
        );
        assert!(expr("< 5ms").unwrap_err().message.contains("no metric"));
        assert!(expr("latency.p99 < -5ms").is_err());
    }
}
