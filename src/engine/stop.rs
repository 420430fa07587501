//! Stopping a run from another thread, in three steps:
//!
//! - **stop** (an `abort = true` threshold, a generator thread that could
//!   not start; the end of a duration acts alike): no new request starts;
//!   those on the wire finish or time out and are counted;
//! - **interrupt** (the first Ctrl-C): a stop, after which the requests
//!   still on the wire when the grace period ends are cancelled;
//! - **cancel** (a second Ctrl-C): the requests on the wire are cancelled
//!   at once.
//!
//! The hot path only reads an atomic flag before each start. Waking goes
//! through a watch channel that one task per generator thread awaits (not
//! one per request): on cancel it records every request its thread has on
//! the wire as [`Class::Cancelled`](super::Class::Cancelled), from the
//! thread's slots (one per worker or connection), and ends the
//! thread's tasks.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::spec::BodyKind;

/// Where a run is on its way to stopping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Running,
    /// No new request starts.
    Stopping,
    /// Interrupted at this instant: stopping, and what is still on the
    /// wire a grace period later is cancelled.
    Interrupted(Instant),
    /// What is on the wire is cancelled now.
    Cancelled,
}

/// Lets another thread stop a run (see the module doc).
#[derive(Debug)]
pub struct Control {
    /// Set by every step: read before each start, so it must stay cheap.
    stop: AtomicBool,
    phase: watch::Sender<Phase>,
}

impl Default for Control {
    fn default() -> Control {
        Control {
            stop: AtomicBool::new(false),
            phase: watch::Sender::new(Phase::Running),
        }
    }
}

impl Control {
    /// No new request starts; those on the wire finish or time out.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.phase.send_if_modified(|phase| {
            let running = *phase == Phase::Running;
            if running {
                *phase = Phase::Stopping;
            }
            running
        });
    }

    /// Stops, and cancels what is still on the wire after the run's grace
    /// period (`Config::grace`), counted from now.
    pub fn interrupt(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let now = Instant::now();
        self.phase.send_if_modified(|phase| {
            let earlier = matches!(phase, Phase::Running | Phase::Stopping);
            if earlier {
                *phase = Phase::Interrupted(now);
            }
            earlier
        });
    }

    /// Stops, and cancels what is on the wire now.
    pub fn cancel(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.phase.send_replace(Phase::Cancelled);
    }

    #[inline]
    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    pub fn phase(&self) -> Phase {
        *self.phase.borrow()
    }

    pub(super) fn subscribe(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }
}

/// Resolves once the run is stopped in any way: how a wait that is not a
/// request (a backoff) ends at once.
pub(super) async fn stopped(phase: &mut watch::Receiver<Phase>) {
    // The sender lives in `Control`, which outlives every thread; should
    // it go, nothing can stop the run any more.
    if phase.wait_for(|p| *p != Phase::Running).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves when this thread must cancel what it has on the wire: at once
/// on a cancel, or `grace` after an interrupt.
pub(super) async fn cancelled(mut phase: watch::Receiver<Phase>, grace: Duration) {
    loop {
        let now = *phase.borrow_and_update();
        match now {
            Phase::Cancelled => return,
            Phase::Interrupted(at) => {
                let end = at.checked_add(grace).unwrap_or(at);
                tokio::select! {
                    () = tokio::time::sleep_until(end.into()) => return,
                    changed = phase.changed() => if changed.is_err() {
                        std::future::pending::<()>().await;
                    },
                }
            }
            Phase::Running | Phase::Stopping => {
                if phase.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

/// A request on the wire, as much as is needed to count it as cancelled.
#[derive(Clone, Copy, Debug)]
pub(super) struct InFlight {
    pub intended: Instant,
    pub sent: Instant,
    pub warmup: bool,
    pub kind: BodyKind,
}

/// One slot per lane (a closed-model worker or an open-model connection):
/// the request it has on the wire, if any. Single-threaded, so plain cells:
/// filling and emptying a slot costs two stores per request.
pub(super) struct Slots(Box<[Cell<Option<InFlight>>]>);

impl Slots {
    pub(super) fn new(lanes: usize) -> Slots {
        Slots((0..lanes).map(|_| Cell::new(None)).collect())
    }

    #[inline]
    pub(super) fn occupy(&self, lane: usize, request: InFlight) {
        self.0[lane].set(Some(request));
    }

    #[inline]
    pub(super) fn free(&self, lane: usize) {
        self.0[lane].set(None);
    }

    /// Empties every slot, and returns what they held.
    pub(super) fn take_all(&self) -> impl Iterator<Item = InFlight> + '_ {
        self.0.iter().filter_map(Cell::take)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(f: impl std::future::Future<Output = ()>) -> bool {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        f.as_mut().poll(&mut cx).is_ready()
    }

    #[tokio::test]
    async fn an_interrupt_cancels_after_the_grace_and_a_second_one_at_once() {
        let control = Control::default();
        let grace = Duration::from_millis(300);
        let waiting = tokio::spawn(cancelled(control.subscribe(), grace));
        control.stop();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(!waiting.is_finished(), "a plain stop awaits the answers");
        control.interrupt();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "the grace has not ended");
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the grace ends")
            .unwrap();

        let control = Control::default();
        let waiting = tokio::spawn(cancelled(control.subscribe(), Duration::from_secs(60)));
        control.interrupt();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        control.cancel();
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("a second Ctrl-C cancels at once")
            .unwrap();
        assert!(control.is_stopped());
        control.interrupt();
        assert_eq!(control.phase(), Phase::Cancelled, "a cancel is final");
    }

    #[test]
    fn a_wait_that_is_no_request_ends_on_any_stop() {
        let control = Control::default();
        let mut phase = control.subscribe();
        assert!(!ready(stopped(&mut phase)));
        control.stop();
        assert!(ready(stopped(&mut phase)));
    }

    #[test]
    fn taking_the_slots_empties_them() {
        let slots = Slots::new(3);
        let now = Instant::now();
        let request = InFlight {
            intended: now,
            sent: now,
            warmup: false,
            kind: BodyKind::Valid,
        };
        slots.occupy(0, request);
        slots.occupy(2, request);
        slots.occupy(1, request);
        slots.free(1);
        assert_eq!(slots.take_all().count(), 2);
        assert_eq!(slots.take_all().count(), 0);
    }
}
