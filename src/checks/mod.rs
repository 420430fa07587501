//! The response contract: did each body get the status its kind expects
//! under the target's rule set, does every 201 carry a usable `Location`,
//! and is every session id new? Fed through the engine's [`Record`] trait
//! like the metrics, one [`Recorder`] per generator thread; it judges
//! answers and prints nothing.
//!
//! Status and `Location` checks are per thread. Session ids must be unique
//! across threads, so they go to one checker thread (see [`IdChecker`]).

mod ids;
mod location;

pub use crate::spec::Check;
pub use ids::{Duplicates, IdChecker, IdSink, SESSION_ID_WINDOW, SessionIds};
pub use location::{session_id, session_id_in};

use std::time::Instant;

use crate::engine::{Class, Outcome, Record};
use crate::metrics::{Latency, empty_latency, merge_optional, micros_between, new_latency};
use crate::spec::{BodyKind, MUTATIONS, RuleSet};

/// Offending cases kept per check, for the report.
pub const SAMPLES_PER_CHECK: usize = 5;

/// One offending case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub status: u16,
    /// `valid` or the mutation's name.
    pub kind: &'static str,
    /// The `Location` answered, as text; empty when there was none.
    pub location: String,
}

/// Bodies by kind, check counts and samples.
#[derive(Clone, Debug)]
pub struct CheckTally {
    pub valid: u64,
    /// Invalid bodies by mutation, in [`MUTATIONS`] order.
    pub by_mutation: Vec<u64>,
    counts: [u64; 5],
    samples: [Vec<Sample>; 5],
    /// Latency of the answers to valid and to invalid bodies (the latter
    /// made on first use).
    pub latency_valid: Latency,
    latency_invalid: Option<Latency>,
}

impl Default for CheckTally {
    fn default() -> Self {
        CheckTally {
            valid: 0,
            by_mutation: vec![0; MUTATIONS.len()],
            counts: [0; 5],
            samples: Default::default(),
            latency_valid: new_latency(),
            latency_invalid: None,
        }
    }
}

impl CheckTally {
    /// A tally rebuilt from what a saved report holds: each check's count
    /// and samples in [`Check::ALL`] order.
    pub fn from_parts(
        valid: u64,
        by_mutation: Vec<u64>,
        checks: [(u64, Vec<Sample>); 5],
        latency_valid: Latency,
        latency_invalid: Option<Latency>,
    ) -> CheckTally {
        let mut tally = CheckTally {
            valid,
            by_mutation,
            latency_valid,
            latency_invalid,
            ..CheckTally::default()
        };
        for (check, (count, samples)) in Check::ALL.into_iter().zip(checks) {
            tally.counts[check as usize] = count;
            tally.samples[check as usize] = samples;
        }
        tally
    }

    pub fn latency_invalid(&self) -> &Latency {
        self.latency_invalid
            .as_ref()
            .unwrap_or_else(|| empty_latency())
    }

    pub fn invalid(&self) -> u64 {
        self.by_mutation.iter().sum()
    }

    pub fn count(&self, check: Check) -> u64 {
        self.counts[check as usize]
    }

    pub fn samples(&self, check: Check) -> &[Sample] {
        &self.samples[check as usize]
    }

    /// Whether every check is zero.
    pub fn all_clear(&self) -> bool {
        self.counts.iter().all(|&n| n == 0)
    }

    /// Whether the endpoint broke its contract: a check other than
    /// `unexpected_status` is non-zero. Those fail a run (exit 1) whatever
    /// the load; 5xx and other codes are what an endpoint under load may
    /// answer, and thresholds judge them, as k6's checks leave the verdict
    /// to its thresholds.
    pub fn contract_broken(&self) -> bool {
        Check::ALL
            .iter()
            .any(|&k| k != Check::UnexpectedStatus && self.count(k) > 0)
    }

    fn flag(&mut self, check: Check, status: u16, kind: BodyKind, location: Option<&[u8]>) {
        self.counts[check as usize] += 1;
        let samples = &mut self.samples[check as usize];
        if samples.len() < SAMPLES_PER_CHECK {
            samples.push(Sample {
                status,
                kind: kind.name(),
                location: location
                    .map_or_else(String::new, |l| String::from_utf8_lossy(l).into_owned()),
            });
        }
    }

    /// Counts the body of a request that was scheduled and not dropped,
    /// and checks its answer. Returns the session id of a good 201.
    #[inline]
    fn add<'o>(
        &mut self,
        outcome: &Outcome<'o>,
        rules: RuleSet,
        endpoints: &[Vec<u8>],
    ) -> Option<&'o [u8]> {
        if outcome.class == Class::Dropped {
            return None;
        }
        match outcome.kind {
            BodyKind::Valid => self.valid += 1,
            BodyKind::Invalid(m) => self.by_mutation[m.index()] += 1,
        }
        let Class::Status(status) = outcome.class else {
            return None;
        };
        let micros = micros_between(outcome.intended, outcome.done);
        match outcome.kind {
            BodyKind::Valid => self.latency_valid.saturating_record(micros),
            BodyKind::Invalid(_) => self
                .latency_invalid
                .get_or_insert_with(new_latency)
                .saturating_record(micros),
        }
        let expected = outcome.kind.expected_status(rules);
        if status != expected {
            let check = match (outcome.kind, status, expected) {
                (BodyKind::Valid, 400, _) => Check::ValidRejected,
                (BodyKind::Invalid(_), 200..=299, 400) => Check::InvalidAccepted,
                _ => Check::UnexpectedStatus,
            };
            self.flag(check, status, outcome.kind, outcome.location);
        }
        if status != 201 {
            return None;
        }
        let id = outcome.location.and_then(|l| session_id_in(l, endpoints));
        if id.is_none() {
            self.flag(
                Check::LocationInvalid,
                status,
                outcome.kind,
                outcome.location,
            );
        }
        id
    }

    pub fn merge(&mut self, other: &CheckTally) {
        self.valid += other.valid;
        for (mine, theirs) in self.by_mutation.iter_mut().zip(&other.by_mutation) {
            *mine += theirs;
        }
        for i in 0..self.counts.len() {
            self.counts[i] += other.counts[i];
            let room = SAMPLES_PER_CHECK.saturating_sub(self.samples[i].len());
            let more: Vec<Sample> = other.samples[i].iter().take(room).cloned().collect();
            self.samples[i].extend(more);
        }
        self.latency_valid
            .add(&other.latency_valid)
            .expect("histograms share bounds");
        merge_optional(&mut self.latency_invalid, &other.latency_invalid);
    }

    /// Adds what the session-id checker found.
    pub fn add_duplicates(&mut self, found: &Duplicates) {
        self.counts[Check::DuplicateSessionId as usize] += found.count;
        let samples = &mut self.samples[Check::DuplicateSessionId as usize];
        for (id, kind) in &found.samples {
            if samples.len() < SAMPLES_PER_CHECK {
                samples.push(Sample {
                    status: 201,
                    kind,
                    location: id.clone(),
                });
            }
        }
    }
}

/// Merges the threads' check tallies into the first.
pub fn merge(parts: impl IntoIterator<Item = CheckTally>) -> CheckTally {
    let mut parts = parts.into_iter();
    let first = parts.next().unwrap_or_default();
    parts.fold(first, |mut total, c| {
        total.merge(&c);
        total
    })
}

/// One generator thread's checks: status and `Location` of the measured
/// part's answers, and every 201's session id (warm-up ones included, so
/// that a measured repeat of one is found) sent to the id checker.
#[derive(Debug)]
pub struct Recorder {
    tally: CheckTally,
    rules: RuleSet,
    /// The endpoint paths a `Location` may name (with and without the
    /// target's base path).
    endpoints: Vec<Vec<u8>>,
    ids: Option<IdSink>,
}

impl Recorder {
    /// Checks answers against what `rules` expect, and `Location`s against
    /// `endpoints`.
    pub fn new(rules: RuleSet, endpoints: &[&str]) -> Recorder {
        Recorder {
            tally: CheckTally::default(),
            rules,
            endpoints: endpoints.iter().map(|e| e.as_bytes().to_vec()).collect(),
            ids: None,
        }
    }

    /// Also sends session ids to the checker.
    pub fn with_ids(mut self, ids: IdSink) -> Recorder {
        self.ids = Some(ids);
        self
    }

    /// Ends checking: the last ids go to the checker.
    pub fn finish(mut self) -> CheckTally {
        if let Some(mut ids) = self.ids.take() {
            ids.flush();
        }
        self.tally
    }
}

impl Record for Recorder {
    #[inline]
    fn record(&mut self, outcome: &Outcome<'_>) {
        let id = if outcome.warmup {
            outcome
                .location
                .filter(|_| outcome.class == Class::Status(201))
                .and_then(|l| session_id_in(l, &self.endpoints))
        } else {
            self.tally.add(outcome, self.rules, &self.endpoints)
        };
        if let (Some(id), Some(location), Some(ids)) = (id, outcome.location, &mut self.ids) {
            ids.add(id, location, outcome.warmup, outcome.kind);
        }
    }

    fn tick(&mut self, _now: Instant) {
        if let Some(ids) = &mut self.ids {
            ids.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn outcome(kind: BodyKind, status: u16, location: Option<&[u8]>) -> Outcome<'_> {
        let now = Instant::now();
        Outcome {
            intended: now,
            sent: now,
            done: now,
            send_lag: None,
            class: Class::Status(status),
            warmup: false,
            kind,
            location,
        }
    }

    fn recorder(rules: RuleSet) -> Recorder {
        Recorder::new(rules, &["/api/v1/sessions"])
    }

    #[test]
    fn each_mismatch_lands_in_its_check_with_a_sample() {
        let invalid = BodyKind::Invalid(crate::spec::Mutation::by_name("empty_body").unwrap());
        let good: &[u8] = b"/api/v1/sessions/1";
        let mut r = recorder(RuleSet::Strict);
        let endpoints = r.endpoints.clone();
        assert_eq!(
            r.tally.add(
                &outcome(BodyKind::Valid, 201, Some(good)),
                RuleSet::Strict,
                &endpoints
            ),
            Some(&b"1"[..])
        );
        r.record(&outcome(BodyKind::Valid, 400, None));
        r.record(&outcome(invalid, 201, Some(good)));
        r.record(&outcome(invalid, 400, None));
        r.record(&outcome(BodyKind::Valid, 500, None));
        r.record(&outcome(invalid, 404, None));
        r.record(&outcome(BodyKind::Valid, 201, Some(b"/nope")));
        r.record(&outcome(BodyKind::Valid, 201, None));
        let t = r.finish();
        assert_eq!((t.valid, t.invalid()), (5, 3));
        assert_eq!(t.count(Check::ValidRejected), 1);
        assert_eq!(t.count(Check::InvalidAccepted), 1);
        assert_eq!(t.count(Check::UnexpectedStatus), 2);
        assert_eq!(t.count(Check::LocationInvalid), 2);
        assert_eq!(t.samples(Check::InvalidAccepted)[0].kind, "empty_body");
        assert_eq!(t.samples(Check::LocationInvalid)[0].location, "/nope");
        assert!(!t.all_clear());
        assert!(t.contract_broken());
    }

    #[test]
    fn a_documented_target_may_accept_weaker_mutations_but_not_strong_ones() {
        use crate::spec::{Mutation, Strength};
        let weaker = Mutation::all()
            .find(|m| m.def().strength == Strength::Weaker)
            .expect("a weaker mutation");
        let strong = Mutation::all()
            .find(|m| m.def().strength == Strength::Strong)
            .expect("a strong mutation");
        let created: &[u8] = b"/api/v1/sessions/abc";
        for (rules, weaker_accepted) in [(RuleSet::Strict, 1), (RuleSet::Documented, 0)] {
            let mut r = recorder(rules);
            r.record(&outcome(BodyKind::Invalid(weaker), 201, Some(created)));
            r.record(&outcome(BodyKind::Invalid(strong), 201, Some(created)));
            let t = r.finish();
            assert_eq!(
                t.count(Check::InvalidAccepted),
                1 + weaker_accepted,
                "{rules:?}: the strong mutation is always expected to be rejected"
            );
            assert_eq!(t.count(Check::UnexpectedStatus), 0, "{rules:?}");
        }
    }

    #[test]
    fn warm_up_answers_are_not_checked_and_merging_adds_up() {
        let mut a = recorder(RuleSet::Strict);
        let mut warm = outcome(BodyKind::Valid, 400, None);
        warm.warmup = true;
        a.record(&warm);
        let mut b = recorder(RuleSet::Strict);
        b.record(&outcome(BodyKind::Valid, 400, None));
        b.record(&outcome(BodyKind::Valid, 201, Some(b"/api/v1/sessions/x")));
        let merged = merge([a.finish(), b.finish()]);
        assert_eq!(merged.valid, 2);
        assert_eq!(merged.count(Check::ValidRejected), 1);
        assert_eq!(merged.samples(Check::ValidRejected).len(), 1);
    }
}
