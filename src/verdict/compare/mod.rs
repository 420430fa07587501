//! `compare`'s judgement: two sets of saved runs (a base and a candidate),
//! compared metric by metric.
//!
//! Each report gives one value per metric: the run, not the request or the
//! second, is the unit of replication, since answers within a run are
//! autocorrelated. With at least [`MIN_RUNS`] reports per side, each row is
//! a Welch t-test on the logarithms of the values; `exp` of the difference
//! of mean logs is the ratio candidate / base (of geometric means), and
//! `exp` of its confidence interval the ratio's interval. The rows' p-values
//! are corrected with Holm–Bonferroni, so the chance that any row of the
//! table is significant by chance alone is at most `alpha`. With fewer
//! runs, rows are judged by the tolerance alone.

use std::collections::BTreeSet;
use std::fmt;

use hdrhistogram::Histogram;

use crate::verdict::stats;

mod read;

pub use read::{NotAReport, ReadError, RunSample, SCHEMA, decode_histogram, parse_report};

/// Reports per side below which noise cannot be estimated and rows are
/// judged by the tolerance alone.
pub const MIN_RUNS: usize = 3;

/// Shares (of requests or answers) can be 0, which has no logarithm: they
/// are compared as `share + SHARE_OFFSET` (0.1 percentage point). A share
/// that stays near 0 on both sides then gives a ratio near 1, and one that
/// goes from 0 to 1% gives a ratio of 11.
pub const SHARE_OFFSET: f64 = 0.001;

/// Latencies (ms) and rates (/s) below this are taken as this before the
/// logarithm: 1 µs is the histograms' resolution, and a rate of 0 (a run
/// with no answer) must still have a logarithm.
const FLOOR: f64 = 0.001;

pub use crate::threshold::metric::Stat;

/// The statistics `compare` judges: min and max are single answers, too
/// noisy to compare between runs.
const COMPARED: [Stat; 6] = [
    Stat::P50,
    Stat::P90,
    Stat::P95,
    Stat::P99,
    Stat::P999,
    Stat::Mean,
];

/// Answers each run must have for `stat` to be judged: 10/(1−q) for a
/// quantile q, so that at least ten answers lie beyond it.
pub fn min_answers(stat: Stat) -> u64 {
    match stat.quantile() {
        Some(q) => (10.0 / (1.0 - q)).round() as u64,
        None => 10,
    }
}

/// `stat` of a histogram of microseconds, in milliseconds.
fn stat_of(stat: Stat, h: &Histogram<u64>) -> f64 {
    let us = match stat {
        Stat::Mean => h.mean(),
        Stat::Min => h.min() as f64,
        Stat::Max => h.max() as f64,
        percentile => h.value_at_quantile(percentile.quantile().unwrap_or(0.5)) as f64,
    };
    us / 1000.0
}

/// A row of the comparison.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Latency from each request's intended start, ms.
    Latency(Stat),
    /// Latency from each request's actual send, ms.
    ServiceTime(Stat),
    /// The generator's own send lag: whether it kept up in both runs.
    SendLag(Stat),
    /// Answers per second.
    Rate,
    /// Share of the requests scheduled that failed (errors) or got an
    /// answer off the expected status.
    Unexpected,
    /// Share of the requests scheduled that got no answer.
    Errors,
    /// Share of the answers that broke the named check.
    Check(String),
}

/// How a metric's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Ms,
    PerSecond,
    Share,
}

impl Metric {
    /// The names `--metric` takes, the checks aside (`checks.<name>`).
    pub fn names() -> Vec<String> {
        let mut names = Vec::new();
        for prefix in ["latency", "service_time", "send_lag"] {
            names.extend(COMPARED.iter().map(|s| format!("{prefix}.{}", s.name())));
        }
        names.extend(["rate", "unexpected", "errors"].map(String::from));
        names
    }

    /// The metric a name stands for.
    pub fn parse(name: &str) -> Option<Metric> {
        let stat = |s: &str| COMPARED.into_iter().find(|x| x.name() == s);
        match name.split_once('.') {
            Some(("latency", s)) => stat(s).map(Metric::Latency),
            Some(("service_time", s)) => stat(s).map(Metric::ServiceTime),
            Some(("send_lag", s)) => stat(s).map(Metric::SendLag),
            Some(("checks", c)) if !c.is_empty() => Some(Metric::Check(c.to_owned())),
            None if name == "rate" => Some(Metric::Rate),
            None if name == "unexpected" => Some(Metric::Unexpected),
            None if name == "errors" => Some(Metric::Errors),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self {
            Metric::Latency(s) => format!("latency.{}", s.name()),
            Metric::ServiceTime(s) => format!("service_time.{}", s.name()),
            Metric::SendLag(s) => format!("send_lag.{}", s.name()),
            Metric::Rate => "rate".into(),
            Metric::Unexpected => "unexpected".into(),
            Metric::Errors => "errors".into(),
            Metric::Check(c) => format!("checks.{c}"),
        }
    }

    pub fn unit(&self) -> Unit {
        match self {
            Metric::Latency(_) | Metric::ServiceTime(_) | Metric::SendLag(_) => Unit::Ms,
            Metric::Rate => Unit::PerSecond,
            _ => Unit::Share,
        }
    }

    /// Whether a larger value is better (only the rate).
    pub fn higher_is_better(&self) -> bool {
        *self == Metric::Rate
    }

    /// The default rows: latency p50/p90/p99/p999, service time p50/p99,
    /// rate, the unexpected share, and each check the reports hold.
    pub fn defaults(checks: impl IntoIterator<Item = String>) -> Vec<Metric> {
        use Stat::*;
        let mut m: Vec<Metric> = [P50, P90, P99, P999].map(Metric::Latency).into();
        m.extend([P50, P99].map(Metric::ServiceTime));
        m.extend([Metric::Rate, Metric::Unexpected]);
        m.extend(checks.into_iter().map(Metric::Check));
        m
    }

    /// The value on the scale the statistics use.
    fn log(&self, x: f64) -> f64 {
        match self.unit() {
            Unit::Share => (x + SHARE_OFFSET).ln(),
            _ => x.max(FLOOR).ln(),
        }
    }

    fn unlog(&self, y: f64) -> f64 {
        match self.unit() {
            Unit::Share => (y.exp() - SHARE_OFFSET).max(0.0),
            _ => y.exp(),
        }
    }

    /// The answers a run needs for this metric to be judged, when it is a
    /// latency statistic.
    fn min_answers(&self) -> Option<u64> {
        match self {
            Metric::Latency(s) | Metric::ServiceTime(s) | Metric::SendLag(s) => {
                Some(min_answers(*s))
            }
            _ => None,
        }
    }

    /// One run's observation of the metric; `None` when the report does
    /// not hold it (a check it does not know).
    pub fn observe(&self, run: &RunSample) -> Option<Observation> {
        let share = |n: u64, of: u64| if of == 0 { 0.0 } else { n as f64 / of as f64 };
        let (value, answers) = match self {
            Metric::Latency(s) => (stat_of(*s, &run.latency), run.latency.len()),
            Metric::ServiceTime(s) => (stat_of(*s, &run.service), run.service.len()),
            // A report from before the send lag was kept does not hold it.
            Metric::SendLag(s) => {
                let lag = run.send_lag.as_ref()?;
                (stat_of(*s, lag), lag.len())
            }
            Metric::Rate => (run.rate, run.completed),
            Metric::Unexpected => (share(run.unexpected, run.scheduled), run.completed),
            Metric::Errors => (share(run.errors, run.scheduled), run.completed),
            Metric::Check(c) => (share(*run.checks.get(c)?, run.completed), run.completed),
        };
        Some(Observation { value, answers })
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One run's value of one metric, with the answers it was computed from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub value: f64,
    pub answers: u64,
}

impl Observation {
    /// A value whose answer count is not in question (shares, rates, or
    /// latency statistics from runs known to be large enough).
    pub fn of(value: f64) -> Observation {
        Observation {
            value,
            answers: u64::MAX,
        }
    }
}

/// How the comparison judges.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// The change, as a fraction (0.05 for 5%), below which a difference
    /// does not count as a regression or an improvement.
    pub tolerance: f64,
    /// The family-wise false-alarm rate over the whole table.
    pub alpha: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            tolerance: 0.05,
            alpha: 0.05,
        }
    }
}

/// A row's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Significantly worse, beyond the tolerance (or a check that was 0
    /// in every base run and is not in a candidate).
    Regressed,
    /// Significantly better, beyond the tolerance.
    Improved,
    /// No significant change, or one within the tolerance.
    Same,
    /// Significant, but the interval straddles the tolerance.
    Inconclusive,
    /// Some run has fewer answers than the statistic needs.
    TooFewAnswers { need: u64, least: u64 },
    /// Some report does not hold the metric.
    Missing,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Same => "~",
            Verdict::Inconclusive => "inconclusive",
            Verdict::TooFewAnswers { .. } => "too few answers",
            Verdict::Missing => "missing",
        }
    }
}

/// The base's and the candidate's per-run values of one metric.
#[derive(Clone, Debug, PartialEq)]
pub struct RowInput {
    pub metric: Metric,
    pub base: Vec<Observation>,
    pub cand: Vec<Observation>,
}

/// One judged row.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub metric: Metric,
    /// Each run's value, in the metric's unit.
    pub base: Vec<f64>,
    pub cand: Vec<f64>,
    /// Each side's centre: the geometric mean (of `share + offset`, less
    /// the offset, for shares).
    pub base_center: f64,
    pub cand_center: f64,
    /// Candidate / base on the log scale's terms; `None` when not judged.
    pub ratio: Option<f64>,
    /// The ratio's confidence interval at level 1 − alpha.
    pub ci: Option<(f64, f64)>,
    /// The t-test's p-value, and after Holm–Bonferroni's correction.
    pub p: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub verdict: Verdict,
    /// A check that was 0 in every base run and is not in a candidate.
    pub appeared: bool,
}

/// A difference in what the two sides ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// `scenario`, `target`, `model` or `version`.
    pub what: &'static str,
    pub base: Vec<String>,
    pub cand: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} differs: base {}, candidate {}",
            self.what,
            self.base.join(" | "),
            self.cand.join(" | ")
        )
    }
}

/// The judged table.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub base_runs: usize,
    pub cand_runs: usize,
    pub settings: Settings,
    /// Both sides have at least [`MIN_RUNS`] reports: noise is accounted
    /// for. Otherwise the tolerance alone judged.
    pub statistical: bool,
    pub rows: Vec<Row>,
    pub mismatches: Vec<Mismatch>,
}

impl Comparison {
    pub fn regressed(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Regressed)
    }

    pub fn inconclusive(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Inconclusive)
    }

    /// Whether the comparison fails (exit 1).
    pub fn fails(&self, fail_on_inconclusive: bool) -> bool {
        self.regressed() || (fail_on_inconclusive && self.inconclusive())
    }
}

/// Why two sets of runs cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error("the {0} side has no report")]
    EmptySide(&'static str),
    #[error("unknown metric {name:?}; known: {known}, checks.<name>")]
    UnknownMetric { name: String, known: String },
    #[error("the tolerance must be 0 or more, and alpha between 0 and 1")]
    Settings,
}

/// The metrics `--metric` names, or the defaults.
pub fn metrics(
    names: &[String],
    base: &[RunSample],
    cand: &[RunSample],
) -> Result<Vec<Metric>, CompareError> {
    if names.is_empty() {
        let checks: BTreeSet<String> = base
            .iter()
            .chain(cand)
            .flat_map(|r| r.checks.keys().cloned())
            .collect();
        return Ok(Metric::defaults(checks));
    }
    names
        .iter()
        .map(|n| {
            Metric::parse(n).ok_or_else(|| CompareError::UnknownMetric {
                name: n.clone(),
                known: Metric::names().join(", "),
            })
        })
        .collect()
}

fn distinct(runs: &[RunSample], f: impl Fn(&RunSample) -> Option<String>) -> Vec<String> {
    let set: BTreeSet<String> = runs.iter().filter_map(f).collect();
    set.into_iter().collect()
}

/// A fact about what a run ran, as text.
type Fact = fn(&RunSample) -> Option<String>;

/// How the two sides' runs differ in what they ran.
pub fn mismatches(base: &[RunSample], cand: &[RunSample]) -> Vec<Mismatch> {
    let facts: [(&'static str, Fact); 4] = [
        ("scenario", |r| Some(r.scenario.clone())),
        ("target", |r| Some(r.target.clone())),
        ("model", |r| Some(r.model.to_string())),
        ("version", |r| r.version.clone()),
    ];
    facts
        .into_iter()
        .filter_map(|(what, f)| {
            let (b, c) = (distinct(base, f), distinct(cand, f));
            (b != c).then_some(Mismatch {
                what,
                base: b,
                cand: c,
            })
        })
        .collect()
}

/// Compares two sets of reports on `metrics` (see [`metrics`]).
pub fn compare(
    base: &[RunSample],
    cand: &[RunSample],
    metrics: &[Metric],
    settings: &Settings,
) -> Result<Comparison, CompareError> {
    if base.is_empty() {
        return Err(CompareError::EmptySide("base"));
    }
    if cand.is_empty() {
        return Err(CompareError::EmptySide("candidate"));
    }
    let inputs: Vec<Option<RowInput>> = metrics
        .iter()
        .map(|m| {
            let base = base
                .iter()
                .map(|r| m.observe(r))
                .collect::<Option<Vec<_>>>()?;
            let cand = cand
                .iter()
                .map(|r| m.observe(r))
                .collect::<Option<Vec<_>>>()?;
            Some(RowInput {
                metric: m.clone(),
                base,
                cand,
            })
        })
        .collect();
    let mut comparison = judge(
        inputs.iter().flatten().cloned().collect(),
        base.len(),
        cand.len(),
        settings,
    )?;
    // Metrics a report lacks keep their place in the table, unjudged.
    for (i, (input, metric)) in inputs.iter().zip(metrics).enumerate() {
        if input.is_none() {
            comparison.rows.insert(
                i,
                Row {
                    metric: metric.clone(),
                    base: Vec::new(),
                    cand: Vec::new(),
                    base_center: f64::NAN,
                    cand_center: f64::NAN,
                    ratio: None,
                    ci: None,
                    p: None,
                    p_adjusted: None,
                    verdict: Verdict::Missing,
                    appeared: false,
                },
            );
        }
    }
    comparison.mismatches = mismatches(base, cand);
    Ok(comparison)
}

/// Judges rows of per-run values: the statistics without the reports.
pub fn judge(
    inputs: Vec<RowInput>,
    base_runs: usize,
    cand_runs: usize,
    settings: &Settings,
) -> Result<Comparison, CompareError> {
    let Settings { tolerance, alpha } = *settings;
    if !(tolerance >= 0.0 && tolerance.is_finite() && alpha > 0.0 && alpha < 1.0) {
        return Err(CompareError::Settings);
    }
    let statistical = base_runs >= MIN_RUNS && cand_runs >= MIN_RUNS;
    let mut rows = Vec::with_capacity(inputs.len());
    // Index of each tested row, with its p-value, for the correction.
    let mut tested: Vec<(usize, f64)> = Vec::new();
    for input in inputs {
        let m = &input.metric;
        let tb: Vec<f64> = input.base.iter().map(|o| m.log(o.value)).collect();
        let tc: Vec<f64> = input.cand.iter().map(|o| m.log(o.value)).collect();
        let (mb, _) = stats::mean_var(&tb);
        let (mc, _) = stats::mean_var(&tc);
        let mut row = Row {
            metric: m.clone(),
            base: input.base.iter().map(|o| o.value).collect(),
            cand: input.cand.iter().map(|o| o.value).collect(),
            base_center: m.unlog(mb),
            cand_center: m.unlog(mc),
            ratio: None,
            ci: None,
            p: None,
            p_adjusted: None,
            verdict: Verdict::Same,
            appeared: false,
        };
        if let Some(need) = m.min_answers() {
            let least = input
                .base
                .iter()
                .chain(&input.cand)
                .map(|o| o.answers)
                .min()
                .unwrap_or(0);
            if least < need {
                row.verdict = Verdict::TooFewAnswers { need, least };
                rows.push(row);
                continue;
            }
        }
        row.ratio = Some((mc - mb).exp());
        if statistical && let Some(w) = stats::welch(&tb, &tc, alpha) {
            row.ci = Some((w.ci.0.exp(), w.ci.1.exp()));
            row.p = Some(w.p);
            tested.push((rows.len(), w.p));
        }
        if matches!(m, Metric::Check(_))
            && row.base.iter().all(|&x| x == 0.0)
            && row.cand.iter().any(|&x| x > 0.0)
        {
            row.appeared = true;
        }
        rows.push(row);
    }
    let adjusted = stats::holm(&tested.iter().map(|&(_, p)| p).collect::<Vec<_>>());
    for (&(i, _), adj) in tested.iter().zip(adjusted) {
        rows[i].p_adjusted = Some(adj);
    }
    let upper = 1.0 + tolerance;
    let lower = (1.0 - tolerance).max(0.0);
    for row in &mut rows {
        if matches!(row.verdict, Verdict::TooFewAnswers { .. }) {
            continue;
        }
        let Some(ratio) = row.ratio else { continue };
        // Everything on the "badness" scale: above 1 is worse.
        let flip = |r: f64| {
            if row.metric.higher_is_better() {
                1.0 / r
            } else {
                r
            }
        };
        let bad = flip(ratio);
        row.verdict = if row.appeared {
            Verdict::Regressed
        } else {
            match (row.p_adjusted, row.ci) {
                (Some(p), Some((lo, hi))) => {
                    let (lo, hi) = if row.metric.higher_is_better() {
                        (flip(hi), flip(lo))
                    } else {
                        (lo, hi)
                    };
                    if p > alpha {
                        Verdict::Same
                    } else if bad > upper {
                        Verdict::Regressed
                    } else if bad < lower {
                        Verdict::Improved
                    } else if lo < lower || hi > upper {
                        Verdict::Inconclusive
                    } else {
                        Verdict::Same
                    }
                }
                // The tolerance alone.
                _ => {
                    if bad > upper {
                        Verdict::Regressed
                    } else if bad < lower {
                        Verdict::Improved
                    } else {
                        Verdict::Same
                    }
                }
            }
        };
    }
    Ok(Comparison {
        base_runs,
        cand_runs,
        settings: settings.clone(),
        statistical,
        rows,
        mismatches: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64;

    /// A standard normal variate (Box–Muller).
    fn normal(rng: &mut Pcg64) -> f64 {
        let u: f64 = 1.0 - rng.random::<f64>();
        let v: f64 = rng.random();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    fn runs(rng: &mut Pcg64, n: usize, center: f64, sigma: f64) -> Vec<Observation> {
        (0..n)
            .map(|_| Observation::of(center * (sigma * normal(rng)).exp()))
            .collect()
    }

    /// A default table of 5 + 5 runs: every latency and rate row noisy,
    /// p50 multiplied by `shift` in the candidate, the checks all 0.
    fn table(rng: &mut Pcg64, sigma: f64, shift: f64, metrics: &[Metric]) -> Vec<RowInput> {
        metrics
            .iter()
            .map(|m| {
                let center = match m {
                    Metric::Rate => 2000.0,
                    Metric::Unexpected => 0.002,
                    Metric::Check(_) => 0.0,
                    _ => 12.0,
                };
                let s = if center == 0.0 { 0.0 } else { sigma };
                let k = if *m == Metric::Latency(Stat::P50) {
                    shift
                } else {
                    1.0
                };
                RowInput {
                    metric: m.clone(),
                    base: runs(rng, 5, center, s),
                    cand: runs(rng, 5, center * k, s),
                }
            })
            .collect()
    }

    /// Over 1,000 seeded comparisons of 5 + 5 runs: the share that flag
    /// any regression, and the share whose first row regressed.
    fn rates(sigma: f64, shift: f64, metrics: &[Metric]) -> (f64, f64) {
        let mut rng = Pcg64::seed_from_u64(12);
        let (mut any, mut first) = (0, 0);
        for _ in 0..1000 {
            let rows = table(&mut rng, sigma, shift, metrics);
            let c = judge(rows, 5, 5, &Settings::default()).unwrap();
            any += u32::from(c.regressed());
            first += u32::from(c.rows[0].verdict == Verdict::Regressed);
        }
        (f64::from(any) / 1000.0, f64::from(first) / 1000.0)
    }

    fn default_table() -> Vec<Metric> {
        let checks = [
            "valid_rejected",
            "invalid_accepted",
            "unexpected_status",
            "location_invalid",
            "duplicate_session_ids",
        ];
        Metric::defaults(checks.map(String::from))
    }

    /// Like with like: the whole default table (13 rows), every run drawn
    /// from one log-normal distribution. Holm–Bonferroni keeps the share of
    /// comparisons that flag any regression under alpha = 5%, with run-to-
    /// run noise of 15% (the log's standard deviation) and of 15% read as
    /// "95% of runs within ±15%".
    #[test]
    fn like_with_like_comparisons_rarely_flag_a_regression() {
        for sigma in [0.15, 1.15_f64.ln() / 1.96] {
            let (any, _) = rates(sigma, 1.0, &default_table());
            assert!(any <= 0.05, "sigma {sigma}: {any} flagged a regression");
        }
    }

    /// A true 20% shift in p50, 95% of runs within ±15% of the centre
    /// (log-normal, sigma = ln 1.15 / 1.96), judged as by
    /// `--metric latency.p50`: at least 90% of comparisons find it.
    #[test]
    fn a_twenty_percent_shift_in_p50_is_found() {
        let sigma = 1.15_f64.ln() / 1.96;
        let (_, found) = rates(sigma, 1.2, &[Metric::Latency(Stat::P50)]);
        assert!(found >= 0.90, "found {found}");
        // In the whole table, the shift is found less often (Holm's price
        // for 13 rows), and never by chance alone in the other direction.
        let (_, in_table) = rates(sigma, 1.2, &default_table());
        assert!(in_table > 0.3, "found {in_table} in the table");
        let (_, backwards) = rates(sigma, 1.0 / 1.2, &[Metric::Latency(Stat::P50)]);
        assert_eq!(backwards, 0.0);
    }

    fn input(metric: Metric, base: &[f64], cand: &[f64]) -> RowInput {
        RowInput {
            metric,
            base: base.iter().map(|&v| Observation::of(v)).collect(),
            cand: cand.iter().map(|&v| Observation::of(v)).collect(),
        }
    }

    fn verdicts(rows: Vec<RowInput>, runs: (usize, usize)) -> Vec<Verdict> {
        let c = judge(rows, runs.0, runs.1, &Settings::default()).unwrap();
        c.rows.iter().map(|r| r.verdict).collect()
    }

    #[test]
    fn a_falling_rate_regresses_and_a_falling_latency_improves() {
        let base = [100.0, 101.0, 99.0, 100.5, 99.5];
        let half = base.map(|x| x / 2.0);
        let v = verdicts(
            vec![
                input(Metric::Rate, &base, &half),
                input(Metric::Latency(Stat::P50), &base, &half),
            ],
            (5, 5),
        );
        assert_eq!(v, [Verdict::Regressed, Verdict::Improved]);
    }

    #[test]
    fn a_significant_change_within_the_tolerance_is_no_regression() {
        // 2% slower, with almost no noise: significant, but within 5%.
        let base = [10.0, 10.01, 9.99, 10.0, 10.005];
        let v = verdicts(
            vec![input(
                Metric::Latency(Stat::P50),
                &base,
                &base.map(|x| x * 1.02),
            )],
            (5, 5),
        );
        assert_eq!(v, [Verdict::Same]);
        // 4% slower with more noise: significant, its interval reaching past 5%.
        let base = [10.0, 10.2, 9.8, 10.1, 9.9];
        let cand = [10.4, 10.6, 10.2, 10.5, 10.3];
        let c = judge(
            vec![input(Metric::Latency(Stat::P50), &base, &cand)],
            5,
            5,
            &Settings::default(),
        )
        .unwrap();
        let row = &c.rows[0];
        assert!(row.p_adjusted.unwrap() < 0.05, "{row:?}");
        assert!(row.ci.unwrap().1 > 1.05, "{row:?}");
        assert_eq!(row.verdict, Verdict::Inconclusive);
        assert!(!c.fails(false) && c.fails(true));
    }

    #[test]
    fn with_fewer_than_three_runs_the_tolerance_alone_judges() {
        let c = judge(
            vec![
                input(Metric::Latency(Stat::P50), &[10.0, 10.0], &[10.8, 10.8]),
                input(Metric::Latency(Stat::P90), &[10.0, 10.0], &[10.4, 10.4]),
            ],
            2,
            2,
            &Settings::default(),
        )
        .unwrap();
        assert!(!c.statistical);
        assert_eq!(c.rows[0].verdict, Verdict::Regressed);
        assert_eq!(c.rows[1].verdict, Verdict::Same);
        assert!(c.rows[0].p.is_none() && c.rows[0].ci.is_none());
        assert!((c.rows[0].ratio.unwrap() - 1.08).abs() < 1e-12);
    }

    #[test]
    fn a_check_that_appears_in_the_candidate_regresses_whatever_the_statistics() {
        let zero = [0.0; 5];
        let once = [0.0, 0.0, 0.0, 0.0, 0.0001];
        let v = verdicts(
            vec![
                input(Metric::Check("location_invalid".into()), &zero, &once),
                input(Metric::Check("valid_rejected".into()), &zero, &zero),
                // Not a check: the statistics decide.
                input(Metric::Unexpected, &zero, &once),
            ],
            (5, 5),
        );
        assert_eq!(v, [Verdict::Regressed, Verdict::Same, Verdict::Same]);
    }

    #[test]
    fn a_percentile_needs_enough_answers_in_every_run() {
        let mut row = input(Metric::Latency(Stat::P99), &[1.0; 5], &[2.0; 5]);
        row.cand[3].answers = 999;
        let v = verdicts(vec![row], (5, 5));
        assert_eq!(
            v,
            [Verdict::TooFewAnswers {
                need: 1000,
                least: 999
            }]
        );
        assert_eq!(min_answers(Stat::P999), 10_000);
        assert_eq!(min_answers(Stat::P50), 20);
    }

    #[test]
    fn metric_names_round_trip_and_unknown_ones_are_refused() {
        for name in Metric::names() {
            assert_eq!(Metric::parse(&name).unwrap().name(), name);
        }
        assert_eq!(
            Metric::parse("checks.location_invalid"),
            Some(Metric::Check("location_invalid".into()))
        );
        for bad in ["latency.p42", "lateny.p99", "checks.", "rate.p50", ""] {
            assert_eq!(Metric::parse(bad), None, "{bad}");
        }
        let err = metrics(&["latency.p42".into()], &[], &[]).unwrap_err();
        assert!(err.to_string().contains("\"latency.p42\""), "{err}");
    }

    #[test]
    fn the_send_lag_is_compared_from_its_histogram_and_absent_in_an_older_report() {
        let older = include_str!("../../../tests/fixtures/compare/report.json");
        let lag = Metric::parse("send_lag.p99").unwrap();
        assert_eq!(lag, Metric::SendLag(Stat::P99));
        assert_eq!(lag.unit(), Unit::Ms);
        let sample = RunSample::parse(older).unwrap();
        assert!(lag.observe(&sample).is_none(), "the fixture predates it");
        // The same report with a send-lag histogram: the service time's.
        let mut v: serde_json::Value = serde_json::from_str(older).unwrap();
        let service = v["histograms"]["service_time"].clone();
        v["histograms"]["send_lag"] = service;
        let sample = RunSample::parse(&v.to_string()).unwrap();
        let seen = lag.observe(&sample).expect("a report with the histogram");
        let service = Metric::ServiceTime(Stat::P99).observe(&sample).unwrap();
        assert_eq!(seen, service);
    }

    #[test]
    fn files_that_are_not_reports_are_refused_with_the_reason() {
        let cases = [
            ("{\"schema\": \"mcload.report/v1\", \"scen", "not JSON"),
            ("[1, 2, 3]", "not an mcload report"),
            ("{\"name\": \"k6\"}", "not an mcload report"),
            ("{\"schema\": \"other/v1\"}", "not an mcload report"),
            ("{\"schema\": \"mcload.report/v2\"}", "mcload.report/v2"),
            ("{\"schema\": \"mcload.report/v1\"}", "/checks is missing"),
        ];
        for (text, want) in cases {
            let err = RunSample::parse(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn bad_settings_and_empty_sides_are_errors() {
        let bad = Settings {
            tolerance: 0.05,
            alpha: 0.0,
        };
        assert!(judge(Vec::new(), 5, 5, &bad).is_err());
        let err = compare(&[], &[], &[], &Settings::default()).unwrap_err();
        assert_eq!(err.to_string(), "the base side has no report");
    }
}
