//! The response contract: did each body get the status its kind expects,
//! does every 201 carry a usable `Location`, and is every session id new?
//!
//! Status and `Location` checks are per thread, like the rest of the
//! measurement. Session ids must be unique across threads, so each thread
//! batches 64-bit fingerprints of its ids and a checker thread keeps them
//! in two bounded generations (see [`SessionIds`]).

use std::hash::BuildHasher;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::{Latency, micros_between, new_latency};
use crate::engine::{Class, Outcome};
use crate::spec::{BodyKind, MUTATIONS};

/// Offending cases kept per check, for the report.
pub const SAMPLES_PER_CHECK: usize = 5;
/// Session ids always remembered: a repeat of any of the last this-many
/// ids is found. Memory for them is [`SessionIds::MAX_BYTES`], fixed.
pub const SESSION_ID_WINDOW: usize = 1 << 17;

/// The checks, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// A valid body answered 400.
    ValidRejected,
    /// An invalid body answered 2xx.
    InvalidAccepted,
    /// Any other status than the one expected.
    UnexpectedStatus,
    /// A 201 without a `Location` of the form `[scheme://host]PATH/<id>`.
    LocationInvalid,
    /// A 201 whose session id was already given out in this run.
    DuplicateSessionId,
}

impl Check {
    pub const ALL: [Check; 5] = [
        Check::ValidRejected,
        Check::InvalidAccepted,
        Check::UnexpectedStatus,
        Check::LocationInvalid,
        Check::DuplicateSessionId,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::ValidRejected => "valid_rejected",
            Check::InvalidAccepted => "invalid_accepted",
            Check::UnexpectedStatus => "unexpected_status",
            Check::LocationInvalid => "location_invalid",
            Check::DuplicateSessionId => "duplicate_session_ids",
        }
    }
}

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
    pub fn latency_invalid(&self) -> &Latency {
        self.latency_invalid
            .as_ref()
            .unwrap_or_else(|| super::empty_latency())
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
    pub(super) fn add<'o>(
        &mut self,
        outcome: &Outcome<'o>,
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
        let expected = outcome.kind.expected_status(crate::spec::RuleSet::Strict);
        if status != expected {
            let check = match (outcome.kind, status) {
                (BodyKind::Valid, 400) => Check::ValidRejected,
                (BodyKind::Invalid(_), 200..=299) => Check::InvalidAccepted,
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
        super::merge_optional(&mut self.latency_invalid, &other.latency_invalid);
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

/// The session id in a `Location` under any of `endpoints` (the target's
/// base path with the endpoint, and the endpoint alone, for gateways that
/// strip the base path).
pub fn session_id_in<'l>(location: &'l [u8], endpoints: &[Vec<u8>]) -> Option<&'l [u8]> {
    endpoints.iter().find_map(|e| session_id(location, e))
}

/// The session id in a `Location` of the form `[scheme://host]ENDPOINT/<id>`:
/// non-empty, without `/`, `?`, `#` or spaces.
pub fn session_id<'l>(location: &'l [u8], endpoint: &[u8]) -> Option<&'l [u8]> {
    let mut path = location;
    for scheme in [&b"http://"[..], b"https://"] {
        if location.len() > scheme.len() && location[..scheme.len()].eq_ignore_ascii_case(scheme) {
            let rest = &location[scheme.len()..];
            let host_end = rest.iter().position(|&b| b == b'/')?;
            if host_end == 0 {
                return None;
            }
            path = &rest[host_end..];
        }
    }
    let id = path.strip_prefix(endpoint)?.strip_prefix(b"/")?;
    // One table lookup per byte, no branches: this runs for every 201.
    let clean = !id.is_empty() && id.iter().fold(true, |ok, &b| ok & ID_BYTE[b as usize]);
    clean.then_some(id)
}

/// Bytes a session id may hold: visible ASCII but `/`, `?` and `#`.
static ID_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !matches!(b as u8, b'/' | b'?' | b'#');
        b += 1;
    }
    table
};

/// A thread's session ids on their way to the checker.
#[derive(Debug)]
pub struct IdBatch {
    /// The sink it came from, which gets it back once checked.
    sink: usize,
    fingerprints: Vec<u64>,
    /// Per id: given to a warm-up request (remembered, not counted), and
    /// the kind of body it answered.
    origins: Vec<(bool, BodyKind)>,
    /// The ids' text, back to back; `ends[i]` is where id `i` ends.
    text: Vec<u8>,
    ends: Vec<u32>,
}

/// Ids sent to the checker at a time.
const BATCH: usize = 1024;

impl IdBatch {
    fn new(sink: usize) -> IdBatch {
        IdBatch {
            sink,
            fingerprints: Vec::with_capacity(BATCH),
            origins: Vec::with_capacity(BATCH),
            text: Vec::with_capacity(BATCH * 64),
            ends: Vec::with_capacity(BATCH),
        }
    }

    fn clear(&mut self) {
        self.fingerprints.clear();
        self.origins.clear();
        self.text.clear();
        self.ends.clear();
    }
}

/// A generator thread's end of the session-id check.
#[derive(Debug)]
pub struct IdSink {
    batch: IdBatch,
    tx: mpsc::Sender<IdBatch>,
    /// Batches the checker has emptied, for reuse: once a few are in
    /// circulation, the hot path allocates none.
    spare: mpsc::Receiver<IdBatch>,
}

impl IdSink {
    #[inline]
    pub(super) fn add(&mut self, id: &[u8], warmup: bool, kind: BodyKind) {
        self.batch.fingerprints.push(FINGERPRINT.hash_one(id));
        self.batch.origins.push((warmup, kind));
        self.batch.text.extend_from_slice(id);
        self.batch.ends.push(self.batch.text.len() as u32);
        if self.batch.fingerprints.len() >= BATCH {
            self.flush();
        }
    }

    pub(super) fn flush(&mut self) {
        if !self.batch.fingerprints.is_empty() {
            let fresh = self
                .spare
                .try_recv()
                .unwrap_or_else(|_| IdBatch::new(self.batch.sink));
            let full = std::mem::replace(&mut self.batch, fresh);
            // A checker that is gone has failed on its own; the run goes on.
            let _ = self.tx.send(full);
        }
    }
}

/// A fast hash of good quality with a fixed seed, so fingerprints are the
/// same in every run (SipHash, std's default, cost 3x as much per id here).
const FINGERPRINT: foldhash::quality::FixedState =
    foldhash::quality::FixedState::with_seed(0x6d63_6c6f_6164);

/// Duplicates the checker found among measured answers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Duplicates {
    pub count: u64,
    /// Offending ids with the kind of body they answered.
    pub samples: Vec<(String, &'static str)>,
    /// Ids checked in all.
    pub checked: u64,
    /// The memory the checker held, in bytes.
    pub bytes: usize,
}

/// The checker thread.
pub struct IdChecker {
    thread: JoinHandle<Duplicates>,
}

impl IdChecker {
    pub fn start(threads: usize) -> std::io::Result<(IdChecker, Vec<IdSink>)> {
        let (tx, rx) = mpsc::channel::<IdBatch>();
        let mut returns = Vec::with_capacity(threads);
        let sinks = (0..threads)
            .map(|sink| {
                let (back, spare) = mpsc::channel();
                returns.push(back);
                IdSink {
                    batch: IdBatch::new(sink),
                    tx: tx.clone(),
                    spare,
                }
            })
            .collect();
        drop(tx);
        let thread = std::thread::Builder::new()
            .name("mcload-ids".into())
            .spawn(move || {
                let mut ids = SessionIds::new(SESSION_ID_WINDOW);
                let mut found = Duplicates::default();
                for mut batch in rx {
                    let mut start = 0;
                    let entries = batch
                        .fingerprints
                        .iter()
                        .zip(&batch.ends)
                        .zip(&batch.origins);
                    for ((&fp, &end), &(warmup, kind)) in entries {
                        let end = end as usize;
                        // Warm-up ids are remembered, so a measured repeat
                        // of one is found, but a repeat within the warm-up
                        // is kept out of the figures like the rest of it.
                        if !ids.insert(fp) && !warmup {
                            found.count += 1;
                            if found.samples.len() < SAMPLES_PER_CHECK {
                                let id = String::from_utf8_lossy(&batch.text[start..end]).into();
                                found.samples.push((id, kind.name()));
                            }
                        }
                        start = end;
                    }
                    found.checked += batch.fingerprints.len() as u64;
                    batch.clear();
                    // A sink that is gone needs no more batches.
                    let _ = returns[batch.sink].send(batch);
                }
                found.bytes = ids.bytes();
                found
            })?;
        Ok((IdChecker { thread }, sinks))
    }

    /// Waits for every sink to be dropped; what was found.
    pub fn finish(self) -> Duplicates {
        self.thread.join().unwrap_or_default()
    }
}

/// Fingerprints of the session ids seen, in two generations of at most
/// `window` ids each: when the newer one is full, the older is cleared and
/// becomes the newer. So a repeat of any of the last `window` ids (and of
/// up to `2 * window`) is always found. Both tables are allocated and
/// written once, at the start, with `2 * window` slots of 8 bytes each:
/// memory is fixed from the first id to the last, 4 MiB for the default
/// window of 2^17, however long the run. A fingerprint is 64 bits, so two
/// different ids are mistaken for one with a chance of about n²/2^65 over
/// n ids (under 10^-5 for 10^7 ids).
#[derive(Debug)]
pub struct SessionIds {
    window: usize,
    newer: FingerprintSet,
    older: FingerprintSet,
}

impl SessionIds {
    /// The memory the default window takes.
    pub const MAX_BYTES: usize = 2 * FingerprintSet::slots_for(SESSION_ID_WINDOW) * 8;

    pub fn new(window: usize) -> SessionIds {
        let window = window.max(1);
        SessionIds {
            window,
            newer: FingerprintSet::new(window),
            older: FingerprintSet::new(window),
        }
    }

    /// Adds a fingerprint; false when it was already there.
    pub fn insert(&mut self, fp: u64) -> bool {
        let seen_before = self.older.contains(fp);
        // A repeat found in the older generation is also put in the newer,
        // so it is remembered as recent and outlives the next swap.
        let new = self.newer.insert(fp) && !seen_before;
        if self.newer.len >= self.window {
            std::mem::swap(&mut self.older, &mut self.newer);
            self.newer.clear();
        }
        new
    }

    pub fn bytes(&self) -> usize {
        self.newer.bytes() + self.older.bytes()
    }
}

/// An open-addressing set of fingerprints with a fixed number of slots,
/// never more than half full. [`EMPTY`] marks a free slot; fingerprints
/// are uniform, so their low bits index the table directly.
#[derive(Debug)]
struct FingerprintSet {
    slots: Vec<u64>,
    len: usize,
}

/// A free slot. Not zero, so that filling a table writes every page and
/// its memory is resident from the start, not growing as ids arrive.
const EMPTY: u64 = u64::MAX;

impl FingerprintSet {
    const fn slots_for(capacity: usize) -> usize {
        (capacity * 2).next_power_of_two()
    }

    fn new(capacity: usize) -> FingerprintSet {
        FingerprintSet {
            slots: vec![EMPTY; Self::slots_for(capacity)],
            len: 0,
        }
    }

    fn bytes(&self) -> usize {
        self.slots.len() * 8
    }

    fn clear(&mut self) {
        self.slots.fill(EMPTY);
        self.len = 0;
    }

    fn key(fp: u64) -> u64 {
        fp.min(EMPTY - 1)
    }

    fn contains(&self, fp: u64) -> bool {
        let fp = Self::key(fp);
        let mask = self.slots.len() - 1;
        let mut i = fp as usize & mask;
        loop {
            match self.slots[i] {
                EMPTY => return false,
                x if x == fp => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// False when it was already there. The caller keeps it at most half
    /// full (see [`SessionIds::insert`]), so a free slot always exists.
    fn insert(&mut self, fp: u64) -> bool {
        let fp = Self::key(fp);
        let mask = self.slots.len() - 1;
        let mut i = fp as usize & mask;
        loop {
            match self.slots[i] {
                EMPTY => {
                    self.slots[i] = fp;
                    self.len += 1;
                    return true;
                }
                x if x == fp => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    const ENDPOINT: &[u8] = b"/api/v1/sessions";

    #[test]
    fn locations_must_name_a_session_under_the_endpoint() {
        for (location, id) in [
            (&b"/api/v1/sessions/abc123"[..], Some(&b"abc123"[..])),
            (
                b"https://collector.example.net/api/v1/sessions/f00",
                Some(b"f00"),
            ),
            (b"HTTP://h:8080/api/v1/sessions/x", Some(b"x")),
            (b"/api/v1/sessions/", None),
            (b"/api/v1/sessions", None),
            (b"/api/v1/session/abc", None),
            (b"/api/v1/sessions/a/b", None),
            (b"/api/v1/sessions/a?b", None),
            (b"/api/v1/sessions/a b", None),
            (b"https:///api/v1/sessions/x", None),
            (b"sessions/abc", None),
            (b"", None),
        ] {
            assert_eq!(
                session_id(location, ENDPOINT),
                id,
                "{}",
                String::from_utf8_lossy(location)
            );
        }
    }

    fn outcome(kind: BodyKind, status: u16, location: Option<&[u8]>) -> Outcome<'_> {
        let now = Instant::now();
        Outcome {
            intended: now,
            sent: now,
            done: now,
            class: Class::Status(status),
            warmup: false,
            kind,
            location,
        }
    }

    #[test]
    fn each_mismatch_lands_in_its_check_with_a_sample() {
        let invalid = BodyKind::Invalid(crate::spec::Mutation::by_name("empty_body").unwrap());
        let good: &[u8] = b"/api/v1/sessions/1";
        let endpoints = [ENDPOINT.to_vec()];
        let mut t = CheckTally::default();
        assert_eq!(
            t.add(&outcome(BodyKind::Valid, 201, Some(good)), &endpoints),
            Some(&b"1"[..])
        );
        t.add(&outcome(BodyKind::Valid, 400, None), &endpoints);
        t.add(&outcome(invalid, 201, Some(good)), &endpoints);
        t.add(&outcome(invalid, 400, None), &endpoints);
        t.add(&outcome(BodyKind::Valid, 500, None), &endpoints);
        t.add(&outcome(invalid, 404, None), &endpoints);
        assert_eq!(
            t.add(&outcome(BodyKind::Valid, 201, Some(b"/nope")), &endpoints),
            None
        );
        t.add(&outcome(BodyKind::Valid, 201, None), &endpoints);
        assert_eq!((t.valid, t.invalid()), (5, 3));
        assert_eq!(t.count(Check::ValidRejected), 1);
        assert_eq!(t.count(Check::InvalidAccepted), 1);
        assert_eq!(t.count(Check::UnexpectedStatus), 2);
        assert_eq!(t.count(Check::LocationInvalid), 2);
        assert_eq!(t.samples(Check::InvalidAccepted)[0].kind, "empty_body");
        assert_eq!(t.samples(Check::LocationInvalid)[0].location, "/nope");
        assert!(!t.all_clear());
    }

    #[test]
    fn repeats_are_found_across_batches_and_threads() {
        let (checker, mut sinks) = IdChecker::start(2).unwrap();
        for i in 0..3_000u32 {
            sinks[(i % 2) as usize].add(format!("{i:064x}").as_bytes(), false, BodyKind::Valid);
        }
        sinks[1].add(format!("{:064x}", 7).as_bytes(), false, BodyKind::Valid);
        sinks[0].add(format!("{:064x}", 2_999).as_bytes(), false, BodyKind::Valid);
        // A repeat among warm-up answers is remembered but not counted.
        sinks[0].add(format!("{:064x}", 11).as_bytes(), true, BodyKind::Valid);
        for s in &mut sinks {
            s.flush();
        }
        drop(sinks);
        let found = checker.finish();
        assert_eq!(found.count, 2);
        assert_eq!(found.checked, 3_003);
        assert_eq!(found.samples.len(), 2);
    }

    #[test]
    fn checked_batches_come_back_to_their_sink_for_reuse() {
        let (checker, mut sinks) = IdChecker::start(1).unwrap();
        let sink = &mut sinks[0];
        // An id longer than a new batch holds grows the first batch: only
        // that batch, handed back, has room for it.
        let long = vec![b'x'; BATCH * 64 + 1];
        sink.add(&long, false, BodyKind::Valid);
        sink.flush();
        let mut reused = false;
        // Each flush sends the batch and takes an emptied one if the
        // checker has sent one back; the first comes back within a moment.
        for i in 0..200u32 {
            sink.add(format!("{i:08x}").as_bytes(), false, BodyKind::Valid);
            sink.flush();
            if sink.batch.text.capacity() > BATCH * 64 {
                reused = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(reused, "the first batch was never handed back");
        assert!(sink.batch.fingerprints.is_empty() && sink.batch.text.is_empty());
        drop(sinks);
        assert_eq!(checker.finish().count, 0);
    }

    #[test]
    fn a_repeat_is_remembered_as_recent_across_generations() {
        let mut ids = SessionIds::new(4);
        let x = 0xABCD;
        assert!(ids.insert(x));
        for fp in 1..=6 {
            assert!(ids.insert(fp));
        }
        // x is in the older generation now: found, and made recent again.
        assert!(!ids.insert(x));
        assert!(ids.insert(7));
        assert!(!ids.insert(x), "a repeat one id ago is found after a swap");
        // A window's worth later it is still found; much later, forgotten.
        for fp in 8..=10 {
            assert!(ids.insert(fp));
        }
        assert!(!ids.insert(x));
    }

    #[test]
    fn ten_million_ids_stay_within_the_memory_bound() {
        let mut ids = SessionIds::new(SESSION_ID_WINDOW);
        let at_start = ids.bytes();
        // Multiplying by an odd constant is a bijection: distinct ids,
        // spread over the table like real fingerprints.
        let fingerprint = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut repeats = 0;
        for i in 0..10_000_000u64 {
            if !ids.insert(fingerprint(i)) {
                repeats += 1;
            }
        }
        assert_eq!(repeats, 0);
        // The last window is remembered; much older ids are forgotten.
        assert!(!ids.insert(fingerprint(9_999_999)));
        assert!(!ids.insert(fingerprint(10_000_000 - SESSION_ID_WINDOW as u64)));
        assert!(ids.insert(fingerprint(5)));
        eprintln!(
            "session ids: 10,000,000 checked in {} bytes ({} MiB) from first to last",
            ids.bytes(),
            ids.bytes() >> 20
        );
        assert_eq!(ids.bytes(), at_start, "memory does not grow");
        assert_eq!(ids.bytes(), SessionIds::MAX_BYTES);
        assert_eq!(SessionIds::MAX_BYTES, 4 << 20);
    }
}
