//! The session-id check: every 201 must give out a new id. Each generator
//! thread batches 64-bit fingerprints of its ids and a checker thread keeps
//! them in two bounded generations (see [`SessionIds`]).

use std::hash::BuildHasher;
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::SAMPLES_PER_CHECK;
use crate::spec::BodyKind;

/// Session ids always remembered: a repeat of any of the last this-many
/// ids is found. Memory for them is [`SessionIds::MAX_BYTES`], fixed.
pub const SESSION_ID_WINDOW: usize = 1 << 17;

/// A thread's session ids on their way to the checker.
#[derive(Debug)]
pub struct IdBatch {
    /// The sink it came from, which gets it back once checked.
    sink: usize,
    fingerprints: Vec<u64>,
    /// Per id: given to a warm-up request (remembered, not counted), and
    /// the kind of body it answered.
    origins: Vec<(bool, BodyKind)>,
    /// The `Location` headers that gave the ids, back to back, to show
    /// one that repeats; `ends[i]` is where header `i` ends.
    text: Vec<u8>,
    ends: Vec<u32>,
}

/// Ids sent to the checker at a time.
const BATCH: usize = 1024;
/// Bytes of `Location` a batch has room for per id at first: the
/// endpoint path and a 64-character id (absolute URLs grow the buffer
/// once, and the batch is reused).
const LOCATION_ROOM: usize = 96;

impl IdBatch {
    fn new(sink: usize) -> IdBatch {
        IdBatch {
            sink,
            fingerprints: Vec::with_capacity(BATCH),
            origins: Vec::with_capacity(BATCH),
            text: Vec::with_capacity(BATCH * LOCATION_ROOM),
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
    /// Adds the session `id` that the `Location` header `location` gave.
    #[inline]
    pub(super) fn add(&mut self, id: &[u8], location: &[u8], warmup: bool, kind: BodyKind) {
        self.batch.fingerprints.push(FINGERPRINT.hash_one(id));
        self.batch.origins.push((warmup, kind));
        self.batch.text.extend_from_slice(location);
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
    /// The `Location` headers of repeated ids, with the kind of body
    /// they answered.
    pub samples: Vec<(String, &'static str)>,
    /// Ids checked in all.
    pub checked: u64,
    /// The memory the checker held, in bytes.
    pub bytes: usize,
    /// The fingerprints it still remembered at the end, sorted, when asked
    /// to export them (a shard's, for the merge to find repeats across
    /// shards): at most `2 * SESSION_ID_WINDOW`.
    pub remembered: Option<Vec<u64>>,
}

/// The checker thread.
pub struct IdChecker {
    thread: JoinHandle<Duplicates>,
}

impl IdChecker {
    pub fn start(threads: usize) -> std::io::Result<(IdChecker, Vec<IdSink>)> {
        IdChecker::start_with(threads, false)
    }

    /// As [`IdChecker::start`]; with `export`, the result keeps the
    /// fingerprints remembered at the end.
    pub fn start_with(threads: usize, export: bool) -> std::io::Result<(IdChecker, Vec<IdSink>)> {
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
                                let location =
                                    String::from_utf8_lossy(&batch.text[start..end]).into();
                                found.samples.push((location, kind.name()));
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
                found.remembered = export.then(|| ids.remembered());
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

    /// The fingerprints remembered now, sorted, each once.
    pub fn remembered(&self) -> Vec<u64> {
        let mut all: Vec<u64> = [&self.newer, &self.older]
            .iter()
            .flat_map(|set| set.slots.iter().copied().filter(|&fp| fp != EMPTY))
            .collect();
        all.sort_unstable();
        all.dedup();
        all
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

    #[test]
    fn repeats_are_found_across_batches_and_threads() {
        let (checker, mut sinks) = IdChecker::start(2).unwrap();
        for i in 0..3_000u32 {
            let id = format!("{i:064x}");
            sinks[(i % 2) as usize].add(id.as_bytes(), &location(&id), false, BodyKind::Valid);
        }
        add(&mut sinks[1], &format!("{:064x}", 7), false);
        add(&mut sinks[0], &format!("{:064x}", 2_999), false);
        // A repeat among warm-up answers is remembered but not counted.
        add(&mut sinks[0], &format!("{:064x}", 11), true);
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
    fn an_exporting_checker_returns_the_remembered_fingerprints_sorted() {
        let (checker, mut sinks) = IdChecker::start_with(1, true).unwrap();
        for i in [5u32, 3, 5, 9] {
            add(&mut sinks[0], &format!("{i:064x}"), false);
        }
        sinks[0].flush();
        drop(sinks);
        let found = checker.finish();
        let mut expected: Vec<u64> = [5u32, 3, 9]
            .iter()
            .map(|i| FingerprintSet::key(fingerprint_of(&format!("{i:064x}"))))
            .collect();
        expected.sort_unstable();
        assert_eq!(found.remembered, Some(expected));
        assert_eq!(found.count, 1);
        let (quiet, sinks) = IdChecker::start(1).unwrap();
        drop(sinks);
        assert_eq!(quiet.finish().remembered, None);
    }

    fn fingerprint_of(id: &str) -> u64 {
        FINGERPRINT.hash_one(id.as_bytes())
    }

    fn location(id: &str) -> Vec<u8> {
        format!("http://127.0.0.1:8080/api/v1/sessions/{id}").into_bytes()
    }

    fn add(sink: &mut IdSink, id: &str, warmup: bool) {
        sink.add(id.as_bytes(), &location(id), warmup, BodyKind::Valid);
    }

    /// A repeat's sample shows the `Location` header as the target sent
    /// it, not the bare id taken out of it.
    #[test]
    fn a_repeats_sample_is_the_location_header() {
        let (checker, mut sinks) = IdChecker::start(1).unwrap();
        add(&mut sinks[0], "abc", false);
        add(&mut sinks[0], "abc", false);
        sinks[0].flush();
        drop(sinks);
        let found = checker.finish();
        assert_eq!(
            found.samples,
            [(
                "http://127.0.0.1:8080/api/v1/sessions/abc".to_string(),
                "valid"
            )]
        );
    }

    #[test]
    fn checked_batches_come_back_to_their_sink_for_reuse() {
        let (checker, mut sinks) = IdChecker::start(1).unwrap();
        let sink = &mut sinks[0];
        // An id longer than a new batch holds grows the first batch: only
        // that batch, handed back, has room for it.
        let long = vec![b'x'; BATCH * LOCATION_ROOM + 1];
        sink.add(&long, &long, false, BodyKind::Valid);
        sink.flush();
        let mut reused = false;
        // Each flush sends the batch and takes an emptied one if the
        // checker has sent one back; the first comes back within a moment.
        for i in 0..200u32 {
            add(sink, &format!("{i:08x}"), false);
            sink.flush();
            if sink.batch.text.capacity() > BATCH * LOCATION_ROOM {
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
        assert_eq!(ids.bytes(), at_start, "memory does not grow");
        assert_eq!(ids.bytes(), SessionIds::MAX_BYTES);
        assert_eq!(SessionIds::MAX_BYTES, 4 << 20);
    }
}
