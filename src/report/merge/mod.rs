//! `mcload merge`'s library part: the saved reports of the shards of one
//! plan (`run --shard K/N`) merged into the report of the whole, as one
//! machine would have written it.
//!
//! Exact: counts, bodies, checks and every histogram of the measured part
//! are added losslessly (the reports keep the histograms). What the
//! reports keep as figures only is merged as well as figures allow:
//!
//! - each second of the series keeps its p50, p99 and max latency (and
//!   send lag): the merged second's max is exact, its p50 and p99 are the
//!   largest of the shards' (a quantile of the whole lies between the
//!   shards' own, so this bounds it from above);
//! - the warm-up keeps figures, read back as a histogram with those
//!   figures (see [`super::read`]), and those are added.
//!
//! Seconds are aligned by absolute time: each shard's second `t` is
//! `started_at + t`, placed on the axis of the earliest shard's start
//! (rounded to the nearest second; shards of a `--start-at` run share
//! their start). The embedded server's counts are dropped: each shard had
//! its own. The target is the first shard's (shards may have reached other
//! addresses of one service). Session ids that several shards saw are
//! found by merging the fingerprint sets each shard saved (`session_ids`).

mod ids;

pub use ids::shared_ids;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::{RunReport, Unjudgeable, fingerprint_hex, judge_by, read_value, rejudge};
use crate::checks::Duplicates;
use crate::metrics::Interval;
use crate::scenario::Model;
use crate::threshold::Threshold;

/// Why a set of reports cannot be merged; every case names the file or
/// the shard indices at fault.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{file} cannot be read as a report: {source}")]
    Read {
        file: String,
        source: super::ReadError,
    },
    #[error(
        "{file} is the report of an unsharded run (no `shard`): merge the reports of `mcload run --shard K/N`"
    )]
    NotSharded { file: String },
    #[error(
        "{file} is of schema {schema:?} but {first_file} of {first:?}: merge reports of one mcload version"
    )]
    SchemaDiffers {
        file: String,
        schema: String,
        first_file: String,
        first: String,
    },
    #[error(
        "{file} ran another plan (fingerprint {fingerprint}) than {first_file} ({first}): every shard must run the same scenario and flags"
    )]
    PlanDiffers {
        file: String,
        fingerprint: String,
        first_file: String,
        first: String,
    },
    #[error(
        "{file} is a shard of {count} but {first_file} of {first}: merge the shards of one run"
    )]
    CountDiffers {
        file: String,
        count: u64,
        first_file: String,
        first: u64,
    },
    #[error("shard {index} is given more than once: {}; give each shard's report once", files.join(", "))]
    Repeated { index: u64, files: Vec<String> },
    #[error("{} of {count} {} missing: give the report of every shard", list(missing), if missing.len() == 1 { "is" } else { "are" })]
    Missing { missing: Vec<u64>, count: u64 },
    #[error(
        "{file} was judged by other thresholds than {first_file}: give the thresholds to judge the whole by with --threshold"
    )]
    ThresholdsDiffer { file: String, first_file: String },
    #[error("no report to merge")]
    Nothing,
    #[error(transparent)]
    Unjudgeable(#[from] Unjudgeable),
}

/// "shard 2" or "shards 1, 3".
fn list(indices: &[u64]) -> String {
    let numbers = indices
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if indices.len() == 1 {
        format!("shard {numbers}")
    } else {
        format!("shards {numbers}")
    }
}

/// The merged whole.
#[derive(Debug)]
pub struct Merged {
    /// The whole's report: `shard` is `None`, `shards` the shard count.
    pub report: RunReport,
    /// Session ids seen by more than one shard, added to
    /// `checks.duplicate_session_ids`; `None` when a shard saved none.
    pub shared_ids: Option<u64>,
}

/// Merges the reports `(file name, text)` of every shard of one plan and
/// judges the whole: by `given` thresholds (with the default, as `mcload
/// report --threshold` does) or, when none are given, by the thresholds
/// the shards were judged by.
pub fn merge(files: &[(String, String)], given: Vec<Threshold>) -> Result<Merged, MergeError> {
    let mut shards = Vec::with_capacity(files.len());
    for (file, text) in files {
        let failed = |source| MergeError::Read {
            file: file.clone(),
            source,
        };
        // The reader accepts any v1.x; the shards must be of one.
        let value = crate::verdict::compare::parse_report(text).map_err(|e| failed(e.into()))?;
        let schema = value
            .get("schema")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let report = read_value(&value).map_err(failed)?;
        shards.push((file.as_str(), schema, report));
    }
    let count = check_set(&shards)?;
    let (first_file, _, first) = shards.first().ok_or(MergeError::Nothing)?;
    let saved: Vec<Threshold> = first
        .thresholds
        .iter()
        .map(|e| e.threshold.clone())
        .collect();
    // Compared by what they judge, not where they were written.
    let judged_by = |r: &RunReport| -> Vec<(String, Option<Duration>)> {
        r.thresholds
            .iter()
            .map(|e| (e.threshold.expression(), e.threshold.abort))
            .collect()
    };
    if given.is_empty()
        && let Some((file, _, _)) = shards[1..]
            .iter()
            .find(|(_, _, r)| judged_by(r) != judged_by(first))
    {
        return Err(MergeError::ThresholdsDiffer {
            file: (*file).to_owned(),
            first_file: (*first_file).to_owned(),
        });
    }
    let id_sets: Option<Vec<&[u64]>> = shards
        .iter()
        .map(|(_, _, r)| r.session_ids.as_deref())
        .collect();
    let shared = id_sets.map(|sets| shared_ids(&sets));
    let mut report = combine(shards.into_iter().map(|(_, _, r)| r).collect());
    report.shards = Some(count);
    if let Some(count) = shared {
        report.checks.add_duplicates(&Duplicates {
            count,
            ..Duplicates::default()
        });
    }
    if given.is_empty() {
        judge_by(&mut report, saved)?;
    } else {
        rejudge(&mut report, given)?;
    }
    Ok(Merged {
        report,
        shared_ids: shared,
    })
}

/// Checks that the reports (file, schema, run) are every shard of one
/// plan, each once; gives the shard count.
fn check_set(shards: &[(&str, String, RunReport)]) -> Result<u64, MergeError> {
    let (first_file, first_schema, first) = shards.first().ok_or(MergeError::Nothing)?;
    let first_count = first.shard.map(|s| s.count);
    let mut seen: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (file, schema, run) in shards {
        let file = (*file).to_owned();
        if schema != first_schema {
            return Err(MergeError::SchemaDiffers {
                file,
                schema: schema.clone(),
                first_file: (*first_file).to_owned(),
                first: first_schema.clone(),
            });
        }
        let shard = run
            .shard
            .ok_or_else(|| MergeError::NotSharded { file: file.clone() })?;
        // The count first: the fingerprint holds it too, and this says more.
        match first_count {
            Some(n) if n != shard.count => {
                return Err(MergeError::CountDiffers {
                    file,
                    count: shard.count,
                    first_file: (*first_file).to_owned(),
                    first: n,
                });
            }
            _ => {}
        }
        if run.plan_fingerprint != first.plan_fingerprint {
            return Err(MergeError::PlanDiffers {
                file,
                fingerprint: fingerprint_hex(run.plan_fingerprint),
                first_file: (*first_file).to_owned(),
                first: fingerprint_hex(first.plan_fingerprint),
            });
        }
        seen.entry(shard.index).or_default().push(file);
    }
    // The first report is sharded: the loop checked it first.
    let count = first_count.unwrap_or_default();
    if let Some((&index, files)) = seen.iter().find(|(_, files)| files.len() > 1) {
        return Err(MergeError::Repeated {
            index,
            files: files.clone(),
        });
    }
    let missing: Vec<u64> = (0..count).filter(|k| !seen.contains_key(k)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }
    Ok(count)
}

/// The shards' runs added into one. Thresholds and causes are left to
/// the caller's judging.
fn combine(shards: Vec<RunReport>) -> RunReport {
    let start = shards
        .iter()
        .map(|r| r.started_at)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // How much later than the earliest each shard started.
    let offset = |r: &RunReport| r.started_at.duration_since(start).unwrap_or_default();
    let mut shards = shards.into_iter();
    let mut whole = shards.next().expect("check_set found a shard");
    let first_shift = offset(&whole);
    whole.elapsed += first_shift;
    whole.sending += first_shift;
    whole.started_at = start;
    whole.server = None;
    // The whole is no one shard, and its ids were checked above.
    whole.shard = None;
    whole.session_ids = None;
    let mut seconds: BTreeMap<u64, Interval> = BTreeMap::new();
    add_seconds(
        &mut seconds,
        std::mem::take(&mut whole.intervals),
        first_shift,
    );
    let mut failures: Vec<String> = whole.generator.failure.take().into_iter().collect();
    for r in shards {
        let shift = offset(&r);
        whole.elapsed = whole.elapsed.max(shift + r.elapsed);
        whole.sending = whole.sending.max(shift + r.sending);
        // The model and stop rule are the plan's, the same in every shard
        // (the fingerprint holds them), but not how each shard paced its
        // starts: shards paced differently leave the whole's unknown.
        if let (Model::Open(w), Model::Open(s)) = (&mut whole.model, &r.model)
            && w.pacing != s.pacing
        {
            w.pacing = None;
        }
        // The generators' threads add up.
        whole.threads += r.threads;
        whole.scheduled += r.scheduled;
        whole.tally += &r.tally;
        whole.warmup = match (whole.warmup.take(), r.warmup) {
            (Some((wa, mut a)), Some((wb, b))) => {
                a += &b;
                Some((wa.max(wb), a))
            }
            (a, b) => a.or(b),
        };
        add_seconds(&mut seconds, r.intervals, shift);
        whole.error_reasons.merge(r.error_reasons);
        whole.checks.merge(&r.checks);
        whole.embedded &= r.embedded;
        whole.insecure |= r.insecure;
        whole.interrupted |= r.interrupted;
        whole.generator.backoff += r.generator.backoff;
        failures.extend(r.generator.failure);
        whole.aborted = whole.aborted.take().or(r.aborted);
        // One agreed instant; the whole began when its latest shard did.
        if let (Some(w), Some(s)) = (&mut whole.start, r.start) {
            w.lateness = w.lateness.max(s.lateness);
        }
    }
    whole.generator.failure = (!failures.is_empty()).then(|| failures.join("; "));
    whole.intervals = seconds.into_values().collect();
    whole.thresholds = Vec::new();
    whole.causes = Vec::new();
    whole
}

/// Two shards' p50, p99 and max of one second, as the whole's: the max is
/// exact, the larger p50 and p99 bound the whole's from above.
fn upper_bound(a: Option<(u64, u64, u64)>, b: Option<(u64, u64, u64)>) -> Option<(u64, u64, u64)> {
    match (a, b) {
        (Some(a), Some(b)) => Some((a.0.max(b.0), a.1.max(b.1), a.2.max(b.2))),
        (a, b) => a.or(b),
    }
}

/// Adds a shard's seconds to the whole's, each moved by the shard's later
/// start (to the nearest second).
fn add_seconds(whole: &mut BTreeMap<u64, Interval>, shard: Vec<Interval>, shift: Duration) {
    let by = (shift + Duration::from_millis(500)).as_secs();
    for mut s in shard {
        s.second += by;
        match whole.get_mut(&s.second) {
            None => {
                whole.insert(s.second, s);
            }
            Some(w) => {
                w.started += s.started;
                w.counts += &s.counts;
                w.latency_us = upper_bound(w.latency_us, s.latency_us);
                w.send_lag_us = upper_bound(w.send_lag_us, s.send_lag_us);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;
    use crate::metrics::Counts;

    /// A second's p50, p99 and max latency.
    type Figures = (u64, u64, u64);

    fn second(t: u64, created: u64, latency_us: Figures) -> Interval {
        let mut counts = Counts::default();
        for _ in 0..created {
            counts.add(Class::Status(201));
        }
        Interval {
            second: t,
            started: created,
            counts,
            latency_us: Some(latency_us),
            send_lag_us: None,
        }
    }

    fn shard(started_ms: u64, elapsed_ms: u64, intervals: Vec<Interval>) -> RunReport {
        let mut tally = crate::metrics::Tally::default();
        tally.counts = intervals.iter().fold(Counts::default(), |mut c, i| {
            c += &i.counts;
            c
        });
        RunReport {
            started_at: SystemTime::UNIX_EPOCH + Duration::from_millis(started_ms),
            elapsed: Duration::from_millis(elapsed_ms),
            sending: Duration::from_millis(elapsed_ms),
            model: Model::Closed { concurrency: 2 },
            scheduled: tally.counts.total(),
            tally,
            intervals,
            ..RunReport::example()
        }
    }

    /// Shards of one plan may pace their starts differently (`--pacing` is
    /// not part of the plan): the whole then says its pacing is unknown
    /// rather than claim the first shard's.
    #[test]
    fn shards_paced_differently_leave_the_wholes_pacing_unknown() {
        use crate::engine::Pacing;
        use crate::scenario::{OpenModel, Rate};
        let paced = |pacing| {
            let mut r = shard(10_000, 1_000, vec![second(0, 3, (10, 20, 30))]);
            r.model = Model::Open(OpenModel {
                rate: Rate::Constant(100.0),
                connections: 4,
                max_in_flight: 10,
                pacing,
            });
            r
        };
        let pacing_of = |whole: &RunReport| match &whole.model {
            Model::Open(open) => open.pacing,
            Model::Closed { .. } => panic!("the plan's model is open"),
        };
        let same = combine(vec![paced(Some(Pacing::Exact)), paced(Some(Pacing::Exact))]);
        assert_eq!(pacing_of(&same), Some(Pacing::Exact));
        let mixed = combine(vec![
            paced(Some(Pacing::Exact)),
            paced(Some(Pacing::DEFAULT)),
        ]);
        assert_eq!(pacing_of(&mixed), None);
    }

    /// A shard that started 1.6 s after the first: its seconds land two
    /// later, the whole lasts to its end, the model stays the plan's, the
    /// threads add up, and one interrupted shard makes the whole
    /// interrupted.
    #[test]
    fn shards_combine_on_one_time_axis() {
        let early = shard(
            10_000,
            2_000,
            vec![second(0, 3, (10, 20, 30)), second(1, 2, (5, 6, 7))],
        );
        let mut late = shard(11_600, 1_000, vec![second(0, 4, (40, 15, 25))]);
        late.interrupted = true;
        let whole = combine(vec![late, early]);
        assert_eq!(
            whole.started_at,
            SystemTime::UNIX_EPOCH + Duration::from_secs(10)
        );
        assert_eq!(whole.elapsed, Duration::from_millis(2_600));
        assert_eq!(whole.model, Model::Closed { concurrency: 2 }, "the plan's");
        assert_eq!(whole.threads, 2);
        assert!(whole.interrupted);
        assert!(whole.accounted());
        let seconds: Vec<(u64, u64, Option<Figures>)> = whole
            .intervals
            .iter()
            .map(|i| (i.second, i.counts.created(), i.latency_us))
            .collect();
        // Second 2 of the whole is the late shard's 0 and the early one's
        // nothing; second 1 is the early one's alone.
        assert_eq!(
            seconds,
            [
                (0, 3, Some((10, 20, 30))),
                (1, 2, Some((5, 6, 7))),
                (2, 4, Some((40, 15, 25))),
            ]
        );
        let both = combine(vec![
            shard(0, 1_000, vec![second(0, 1, (10, 20, 30))]),
            shard(0, 1_000, vec![second(0, 1, (40, 15, 25))]),
        ]);
        assert_eq!(both.intervals[0].latency_us, Some((40, 20, 30)));
        assert_eq!(both.intervals[0].counts.created(), 2);
    }

    /// The identity is checked on the whole: a shard whose outcomes do not
    /// add up to what it scheduled makes the whole's a cause.
    #[test]
    fn the_accounting_identity_is_judged_on_the_whole() {
        let mut short = shard(0, 1_000, vec![second(0, 3, (1, 2, 3))]);
        short.scheduled += 1;
        let mut whole = combine(vec![shard(0, 1_000, vec![second(0, 1, (1, 2, 3))]), short]);
        judge_by(&mut whole, Vec::new()).unwrap();
        assert_eq!(whole.scheduled, 5);
        assert_eq!(whole.causes, [crate::verdict::Cause::NotAccounted]);
    }
}
