//! How long a closed-model worker waits after a failed connect (connect,
//! TLS or local error) before its next request: 10 ms, doubling with each
//! failure in a row (20, 40, … ms) up to 1 s, and back to 10 ms after a
//! request that got through. Without it, a dead target turns each worker
//! into a connect loop (about 250,000 refused connects in 2 s with 8
//! workers), which inflates the requests scheduled and makes the run mostly
//! errors. The waits are not requests: nothing is scheduled or counted
//! while a worker waits, and a stop ends the wait at once.

use std::time::Duration;

/// The first wait after a failed connect.
pub const FIRST: Duration = Duration::from_millis(10);
/// The longest wait.
pub const CAP: Duration = Duration::from_secs(1);

/// One worker's backoff state.
#[derive(Debug)]
pub(super) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(super) fn new() -> Backoff {
        Backoff { next: FIRST }
    }

    /// The wait after one more failure in a row.
    pub(super) fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (wait * 2).min(CAP);
        wait
    }

    /// A request got through: the next failure waits the first step again.
    #[inline]
    pub(super) fn succeeded(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_10ms_up_to_1s_and_a_success_resets_them() {
        let mut b = Backoff::new();
        let waits: Vec<u64> = (0..10).map(|_| b.failed().as_millis() as u64).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        b.succeeded();
        assert_eq!(b.failed(), FIRST);
        assert_eq!(b.failed(), FIRST * 2);
    }
}
