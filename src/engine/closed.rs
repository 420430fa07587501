//! The closed model: each worker owns a connection and sends its next
//! request as soon as the previous one has ended, or after a backoff when
//! its connect failed (see [`super::backoff`]).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use super::backoff::Backoff;
use super::stop::{self, InFlight};
use super::{Lane, Outcome, Record, ThreadCtx, Transport, join_all};
// Warm-up bodies are numbered apart from the measured ones, so that a
// counted run still sends bodies `0..N` of its seed.
use crate::schedule::ClosedSchedule;

/// One thread's share of a closed-model run.
pub(super) struct ClosedWork {
    pub(super) workers: u32,
    /// No request starts at or after this instant.
    deadline: Option<Instant>,
    /// Requests that start before this instant are warm-up.
    warmup_end: Option<Instant>,
    /// Measured body numbering: the k-th request sends body `base + k * stride`.
    base: u64,
    stride: u64,
    /// Measured requests this thread may send in all.
    budget: Option<u64>,
    measured: Cell<u64>,
    warmup: Cell<u64>,
    schedule: ClosedSchedule,
    thread: usize,
}

impl ClosedWork {
    pub(super) fn new(schedule: &ClosedSchedule, thread: usize, started: Instant) -> ClosedWork {
        let (base, stride) = schedule.body_indices(thread);
        let warmup = schedule.warmup.unwrap_or_default();
        // A duration too long to add to the clock has no deadline in practice.
        let deadline = schedule
            .duration
            .and_then(|d| started.checked_add(warmup)?.checked_add(d));
        ClosedWork {
            workers: schedule.threads[thread].workers,
            deadline,
            warmup_end: schedule.warmup.and_then(|w| started.checked_add(w)),
            base,
            stride,
            budget: schedule.threads[thread].requests,
            measured: Cell::new(0),
            warmup: Cell::new(0),
            schedule: schedule.clone(),
            thread,
        }
    }

    /// The body index of a request starting at `now` and whether it is
    /// warm-up, or `None` once the thread's time or share is used up.
    fn next(&self, now: Instant) -> Option<(u64, bool)> {
        if self.deadline.is_some_and(|d| now >= d) {
            return None;
        }
        if self.warmup_end.is_some_and(|w| now < w) {
            let k = self.warmup.get();
            self.warmup.set(k + 1);
            return Some((self.schedule.warmup_index(self.thread, k), true));
        }
        let k = self.measured.get();
        if self.budget.is_some_and(|b| k >= b) {
            return None;
        }
        self.measured.set(k + 1);
        Some((self.base + k * self.stride, false))
    }
}

/// Runs the thread's workers until they end, or until `cancel` resolves:
/// then what they have on the wire is counted as cancelled, and they are
/// not polled again.
pub(super) async fn run<T: Transport, R: Record + 'static>(
    ctx: Rc<ThreadCtx<T, R>>,
    work: ClosedWork,
    cancel: impl Future<Output = ()>,
) {
    let work = Rc::new(work);
    let handles = (0..work.workers as usize)
        .map(|id| tokio::task::spawn_local(worker(ctx.clone(), work.clone(), id)))
        .collect();
    tokio::select! {
        biased;
        () = join_all(handles) => {}
        () = cancel => ctx.cancel_in_flight(),
    }
}

async fn worker<T: Transport, R: Record>(
    ctx: Rc<ThreadCtx<T, R>>,
    work: Rc<ClosedWork>,
    id: usize,
) {
    let mut lane = Lane::new();
    let mut backoff = Backoff::new();
    let mut phase = ctx.control.subscribe();
    let mut now = Instant::now();
    while !ctx.control.is_stopped() {
        let Some((index, warmup)) = work.next(now) else {
            break;
        };
        let (start, kind) = ctx.build_request(index, now, &mut lane.request);
        let intended = Instant::now();
        // The worker was free from `now`: its lag is the time it took to
        // record the last answer and build this request.
        let send_lag = intended.saturating_duration_since(now);
        ctx.start_request(intended, warmup);
        ctx.occupy(
            id,
            InFlight {
                intended,
                sent: intended,
                warmup,
                kind,
            },
        );
        // One deadline for connecting and the exchange together: a request
        // has `timeout` in all to be answered.
        let deadline = tokio::time::Instant::from_std(intended) + ctx.timeout;
        // Sent as soon as it is ready: the same instant as intended.
        let (class, sent, has_location, done) =
            ctx.send(&mut lane, start, deadline, intended).await;
        // The answer's end (when it was read: the closed model does not
        // stamp arrivals): the worker's lag for the next request counts
        // from it.
        now = done;
        ctx.record_lane(
            id,
            &Outcome {
                intended,
                sent,
                done: now,
                send_lag: Some(send_lag),
                class,
                warmup,
                kind,
                location: lane.location(has_location),
            },
        );
        if class.is_connect_failure() {
            // A failed connect is this request's outcome; the next one
            // waits first, so that a dead target is not hammered with
            // connects (and the run filled with them). A stop or the end
            // of the duration ends the wait.
            let wait = backoff.failed();
            let until = work.deadline.map_or(now + wait, |d| d.min(now + wait));
            tokio::select! {
                biased;
                () = stop::stopped(&mut phase) => {}
                () = tokio::time::sleep_until(until.into()) => {}
            }
            let waited = Instant::now();
            ctx.backed_off(waited.saturating_duration_since(now));
            now = waited;
        } else {
            backoff.succeeded();
        }
    }
}
