//! The open model: a scheduler task starts each request at its planned
//! instant, whatever the target does, and hands it to connection tasks
//! through a local queue. A request that finds no free connection waits
//! in the queue, and its latency still counts from its intended start;
//! beyond `max_in_flight` waiting or on the wire, it is dropped. Under
//! exact pacing, a connection that comes free with nobody waiting takes a
//! start that has fallen due itself, in case the scheduler's wake-up is
//! late; batched pacing leaves starts to the grid, since taking them one
//! by one as answers come in undoes the batching (measured: 5-10% more
//! CPU per request at 20,000 and 50,000/s, bench/RESULTS.md).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::pacer::{self, Pacer, Pacing};
use super::stop::InFlight;
use super::{Class, Lane, Outcome, Record, ThreadCtx, Transport, join_all};
use crate::schedule::{OpenSchedule, Planned};

/// How long the scheduler sleeps at most before looking at the stop flag,
/// so Ctrl-C is heard quickly even at low rates.
const STOP_CHECK: Duration = Duration::from_millis(100);
/// Requests the scheduler starts back to back, when running behind,
/// before letting the connection tasks run.
const BURST: u32 = 64;

/// One thread's share of an open-model run: its requests of the schedule
/// ([`OpenSchedule::sequence`]).
pub(super) struct OpenWork {
    schedule: OpenSchedule,
    thread: u64,
    pub(super) connections: u32,
    max_in_flight: u64,
    pacing: Pacing,
}

impl OpenWork {
    pub(super) fn new(schedule: &OpenSchedule, thread: usize, pacing: Pacing) -> OpenWork {
        let share = schedule.threads[thread];
        OpenWork {
            schedule: schedule.clone(),
            thread: thread as u64,
            connections: share.connections,
            max_in_flight: share.max_in_flight,
            pacing,
        }
    }
}

/// A request started by the scheduler, waiting for a connection.
#[derive(Clone, Copy)]
struct Job {
    /// The body it sends.
    index: u64,
    intended: Instant,
    warmup: bool,
}

/// The scheduler's queue to the connection tasks, and the thread's next
/// start, which the scheduler and free connections take in turn.
struct Queue {
    jobs: RefCell<VecDeque<Job>>,
    ready: Notify,
    /// The scheduler has finished; tasks end once the queue is empty.
    closed: Cell<bool>,
    /// Requests waiting or on the wire.
    in_flight: Cell<u64>,
    /// The thread's next start, its plan and intended instant, once worked
    /// out. Which start that is needs no counter of its own: every start
    /// taken is counted once in [`ThreadCtx::taken`], as scheduled or as
    /// dropped, so that count is the next start's number.
    next: Cell<Option<(Planned, Instant)>>,
}

impl Queue {
    /// Queues a start for the next free connection.
    fn push(&self, job: Job) {
        self.jobs.borrow_mut().push_back(job);
        pacer::set_starts_waiting(true);
    }

    /// The start that has waited longest for a connection.
    fn pop(&self) -> Option<Job> {
        let mut jobs = self.jobs.borrow_mut();
        let job = jobs.pop_front();
        pacer::set_starts_waiting(!jobs.is_empty());
        job
    }

    /// Every start still waiting, which leaves none.
    fn drain(&self) -> VecDeque<Job> {
        pacer::set_starts_waiting(false);
        std::mem::take(&mut *self.jobs.borrow_mut())
    }

    /// The thread's next start, or `None` when its schedule is done.
    fn peek<T, R>(&self, ctx: &ThreadCtx<T, R>, work: &OpenWork) -> Option<(Planned, Instant)> {
        if let Some(next) = self.next.get() {
            return Some(next);
        }
        let next = work
            .schedule
            .sequence(work.thread, ctx.taken.get())
            .and_then(|s| work.schedule.request(s))
            .and_then(|p| Some((p, ctx.started.checked_add(p.offset)?)))?;
        self.next.set(Some(next));
        Some(next)
    }

    /// Takes the start [`Queue::peek`] gave, at `now` (a recent reading
    /// of the clock, past its intended start): counts it as scheduled and
    /// returns it to be sent, or records it as dropped when
    /// `max_in_flight` requests are already waiting or on the wire.
    fn take<T: Transport, R: Record>(
        &self,
        ctx: &ThreadCtx<T, R>,
        work: &OpenWork,
        (planned, intended): (Planned, Instant),
        now: Instant,
    ) -> Option<Job> {
        self.next.set(None);
        let warmup = planned.warmup;
        if self.in_flight.get() >= work.max_in_flight {
            ctx.taken.set(ctx.taken.get() + 1);
            ctx.record(&Outcome {
                intended,
                sent: intended,
                done: now,
                send_lag: None,
                class: Class::Dropped,
                warmup,
                kind: ctx.bodies.kind(planned.body),
                location: None,
            });
            return None;
        }
        ctx.start_request(now, warmup);
        self.in_flight.set(self.in_flight.get() + 1);
        Some(Job {
            index: planned.body,
            intended,
            warmup,
        })
    }
}

/// Runs the thread's schedule and connections until they end, or until
/// `cancel` resolves: then what is on the wire is counted as cancelled and
/// what waits for a connection as dropped, and no task is polled again.
pub(super) async fn run<T: Transport, R: Record + 'static>(
    ctx: Rc<ThreadCtx<T, R>>,
    work: OpenWork,
    cancel: impl Future<Output = ()>,
) {
    let queue = Rc::new(Queue {
        jobs: RefCell::new(VecDeque::with_capacity(
            work.max_in_flight.min(4096) as usize
        )),
        ready: Notify::new(),
        closed: Cell::new(false),
        in_flight: Cell::new(0),
        next: Cell::new(None),
    });
    let work = Rc::new(work);
    let handles = (0..work.connections as usize)
        .map(|id| {
            let task = connection_task(ctx.clone(), work.clone(), queue.clone(), id);
            tokio::task::spawn_local(task)
        })
        .collect();
    let all = async {
        schedule(&ctx, &work, &queue).await;
        queue.closed.set(true);
        queue.ready.notify_waiters();
        join_all(handles).await;
    };
    tokio::select! {
        biased;
        () = all => {}
        () = cancel => {
            ctx.cancel_in_flight();
            let now = Instant::now();
            for job in queue.drain() {
                ctx.record(&Outcome {
                    intended: job.intended,
                    sent: now,
                    done: now,
                    send_lag: None,
                    class: Class::Dropped,
                    warmup: job.warmup,
                    kind: ctx.bodies.kind(job.index),
                    location: None,
                });
            }
        }
    }
}

/// Starts the thread's requests at their instants, waking as the pacing
/// says; under exact pacing, free connections may take some first.
async fn schedule<T: Transport, R: Record>(ctx: &ThreadCtx<T, R>, work: &OpenWork, queue: &Queue) {
    let mut pacer = Pacer::new();
    let mut burst = 0;
    // Read again only when the next start seems still to come: starts
    // taken back to back, when behind, share one reading.
    let mut now = Instant::now();
    // Batched pacing's grid runs from this thread's first start.
    let origin = queue
        .peek(ctx, work)
        .map_or(ctx.started, |(_, first)| first);
    loop {
        if ctx.control.is_stopped() {
            return;
        }
        let Some(next @ (planned, intended)) = queue.peek(ctx, work) else {
            return;
        };
        if intended > now {
            now = Instant::now();
        }
        if intended > now {
            burst = 0;
            let rate = work.schedule.thread_rate_at(planned.offset);
            let wake = work.pacing.wake_time(intended, origin, rate);
            let until = wake.min(now + STOP_CHECK);
            // Woken on the grid, the thread need not read each answer as it
            // comes when answers are stamped with their arrival: it sleeps
            // to the step and reads them there, in the same wake-up. At most
            // a step at a time: a start far off (after a gap in the plan)
            // leaves the thread waiting for events as usual.
            let nap = match work.pacing {
                Pacing::Batched(step) if ctx.stamps_seen.get() && wake > intended => {
                    Some(until.min(now + step))
                }
                _ => None,
            };
            pacer.wait_until(until, nap).await;
            now = Instant::now();
            continue;
        }
        if burst >= BURST {
            burst = 0;
            tokio::task::yield_now().await;
            now = Instant::now();
            continue;
        }
        burst += 1;
        if let Some(job) = queue.take(ctx, work, next, now) {
            queue.push(job);
            queue.ready.notify_one();
        }
    }
}

/// One connection: carries queued requests one at a time, and under
/// exact pacing, when none waits, a start that has fallen due.
async fn connection_task<T: Transport, R: Record>(
    ctx: Rc<ThreadCtx<T, R>>,
    work: Rc<OpenWork>,
    queue: Rc<Queue>,
    id: usize,
) {
    let mut lane = Lane::new();
    // Since when this connection has been free for the next request.
    let mut free = Instant::now();
    loop {
        let waiting = queue.pop();
        let job = match waiting {
            Some(job) => job,
            None => match due_start(&ctx, &work, &queue, free) {
                Some(job) => job,
                None if queue.closed.get() => return,
                None => {
                    queue.ready.notified().await;
                    continue;
                }
            },
        };
        let deadline = job.intended.checked_add(ctx.timeout);
        // The latest instant known without reading the clock, which is
        // read again once the request is built: its intended start, or when
        // this connection came free (its answer's arrival) if later. Its
        // body's millisecond timestamp takes it, at most its send lag early.
        let known = job.intended.max(free);
        // Never sent: no send lag, no location.
        let unsent = |class, at| (class, at, None, false, ctx.bodies.kind(job.index), at);
        let (class, sent, send_lag, has_location, kind, done) = if ctx.control.is_stopped() {
            // Interrupted before it could be sent: never started.
            unsent(Class::Dropped, Instant::now())
        } else if deadline.is_some_and(|d| known >= d) {
            // It waited its whole timeout for a connection.
            unsent(Class::TimeoutNeverSent, Instant::now())
        } else {
            let (start, kind) = ctx.build_request(job.index, known, &mut lane.request);
            let ready = Instant::now();
            if deadline.is_some_and(|d| ready >= d) {
                // The clock read last says it did wait its whole timeout.
                unsent(Class::TimeoutNeverSent, ready)
            } else {
                // Late against its intended start, or against the moment this
                // connection came free when it had to wait for one.
                let send_lag = ready.saturating_duration_since(known);
                ctx.occupy(
                    id,
                    InFlight {
                        intended: job.intended,
                        sent: ready,
                        warmup: job.warmup,
                        kind,
                    },
                );
                let deadline = deadline.map_or_else(
                    || tokio::time::Instant::now() + ctx.timeout,
                    tokio::time::Instant::from_std,
                );
                let (class, sent, has_location, done) =
                    ctx.send(&mut lane, start, deadline, ready).await;
                (class, sent, Some(send_lag), has_location, kind, done)
            }
        };
        ctx.record_lane(
            id,
            &Outcome {
                intended: job.intended,
                sent,
                done,
                send_lag,
                class,
                warmup: job.warmup,
                kind,
                location: lane.location(has_location),
            },
        );
        queue.in_flight.set(queue.in_flight.get() - 1);
        free = done;
        if class.is_connect_failure() {
            // A refused connect can return at once; let the others run.
            tokio::task::yield_now().await;
        }
    }
}

/// Under exact pacing, the thread's next start, taken by a connection free
/// since `free` when it has fallen due by then (so no earlier than
/// intended), unless the run is stopping. Waiting requests go first: the
/// caller found none.
fn due_start<T: Transport, R: Record>(
    ctx: &ThreadCtx<T, R>,
    work: &OpenWork,
    queue: &Queue,
    free: Instant,
) -> Option<Job> {
    if work.pacing != Pacing::Exact || ctx.control.is_stopped() {
        return None;
    }
    let next = queue.peek(ctx, work)?;
    if next.1 > free {
        return None;
    }
    queue.take(ctx, work, next, free)
}
