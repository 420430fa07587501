//! The generator threads: one current-thread runtime each, running its
//! share of the schedule with its own recorder, joined into [`Finished`].

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use super::{
    AnyTransport, Config, Control, Finished, Pacing, Record, RunStart, ThreadCtx, Transport,
    closed, open, pacer, stop,
};
use crate::schedule::Schedule;

/// Runs the load from `start` and returns one recorder per thread, each
/// built by `make_recorder(t)` on the calling thread. A thread that cannot
/// start stops the others; what they counted is kept, beside the failure.
pub fn run<R, F>(
    config: &Config,
    control: &Arc<Control>,
    start: RunStart,
    make_recorder: F,
) -> Finished<R>
where
    R: Record + Send + 'static,
    F: FnMut(usize) -> R,
{
    match &config.transport {
        AnyTransport::Plain(t) => run_with(t, config, control, start, make_recorder),
        AnyTransport::Tls(t) => run_with(t, config, control, start, make_recorder),
    }
}

fn run_with<T, R, F>(
    transport: &T,
    config: &Config,
    control: &Arc<Control>,
    start: RunStart,
    mut make_recorder: F,
) -> Finished<R>
where
    T: Transport + Send,
    R: Record + Send + 'static,
    F: FnMut(usize) -> R,
{
    let epoch_ms = start
        .wall
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let count = config.schedule.threads();
    // The open model's answers end when they arrived ([`Transport::stamping_arrivals`]).
    let transport = match config.schedule {
        Schedule::Open(_) => transport.clone().stamping_arrivals(),
        Schedule::Closed(_) => transport.clone(),
    };
    let threads: Vec<_> = (0..count)
        .map(|t| {
            let work = ThreadWork::of(&config.schedule, t, start.instant, config.pacing);
            let ctx = ThreadCtx {
                transport: transport.clone(),
                head: config.head.clone(),
                bodies: config.bodies.clone(),
                timeout: config.timeout,
                grace: config.grace,
                started: start.instant,
                epoch_ms,
                control: control.clone(),
                stamps_seen: Cell::new(false),
                taken: Cell::new(0),
                last_start: Cell::new(start.instant),
                backoff: Cell::new(Duration::ZERO),
                slots: stop::Slots::new(work.lanes()),
                recorder: RefCell::new(make_recorder(t)),
            };
            std::thread::Builder::new()
                .name(format!("mcload-gen-{t}"))
                .spawn(move || run_thread(ctx, work))
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot start generator thread {} of {count}: {e}", t + 1),
                    )
                })
        })
        .collect();
    // A thread that could not start stops the others at once, rather than
    // after they have sent their share at a skewed rate.
    if threads.iter().any(Result::is_err) {
        control.stop();
    }
    // Join every thread that started, even when another failed, so none is
    // left running behind an error.
    let mut recorders = Vec::with_capacity(threads.len());
    let mut scheduled = 0;
    let mut last_start = start.instant;
    let mut backoff = Duration::ZERO;
    let mut failure = None;
    for thread in threads {
        let result = match thread {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(std::io::Error::other(
                    "a generator thread panicked (a bug in mcload); its counts are lost",
                ))
            }),
            Err(e) => Err(e),
        };
        match result {
            Ok(done) => {
                recorders.push(done.recorder);
                scheduled += done.taken;
                last_start = last_start.max(done.last_start);
                backoff += done.backoff;
            }
            Err(e) => {
                control.stop();
                failure.get_or_insert(e);
            }
        }
    }
    Finished {
        recorders,
        scheduled,
        started_at: start.wall,
        elapsed: start.instant.elapsed(),
        sending: last_start.duration_since(start.instant),
        backoff,
        failure,
    }
}

/// What one thread hands back.
struct ThreadDone<R> {
    recorder: R,
    /// Requests it scheduled.
    taken: u64,
    /// When it last started a request.
    last_start: Instant,
    /// Time its workers spent backing off.
    backoff: Duration,
}

/// What one thread does: its share of the schedule.
enum ThreadWork {
    Closed(closed::ClosedWork),
    Open(Box<open::OpenWork>),
}

impl ThreadWork {
    fn of(schedule: &Schedule, thread: usize, started: Instant, pacing: Pacing) -> ThreadWork {
        match schedule {
            Schedule::Closed(p) => ThreadWork::Closed(closed::ClosedWork::new(p, thread, started)),
            Schedule::Open(p) => ThreadWork::Open(Box::new(open::OpenWork::new(p, thread, pacing))),
        }
    }

    /// How many requests the thread can have on the wire at once: its
    /// workers or its connections.
    fn lanes(&self) -> usize {
        match self {
            ThreadWork::Closed(w) => w.workers as usize,
            ThreadWork::Open(w) => w.connections as usize,
        }
    }
}

/// Runs one thread's share; its recorder and how many requests it scheduled.
fn run_thread<T: Transport, R: Record + 'static>(
    ctx: ThreadCtx<T, R>,
    work: ThreadWork,
) -> std::io::Result<ThreadDone<R>> {
    let runtime = match pacer::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            ctx.control.stop();
            return Err(std::io::Error::new(
                e.kind(),
                format!("cannot start a generator thread's runtime: {e}"),
            ));
        }
    };
    let ctx = Rc::new(ctx);
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let ticker = tokio::task::spawn_local(tick_every_second(ctx.clone()));
        let cancel = stop::cancelled(ctx.control.subscribe(), ctx.grace);
        match work {
            ThreadWork::Closed(work) => closed::run(ctx.clone(), work, cancel).await,
            ThreadWork::Open(work) => open::run(ctx.clone(), *work, cancel).await,
        }
        ticker.abort();
    });
    // Drops the tasks a cancel left unfinished, which hold the context.
    drop(local);
    let ctx = Rc::try_unwrap(ctx).unwrap_or_else(|_| unreachable!("every task has ended"));
    Ok(ThreadDone {
        recorder: ctx.recorder.into_inner(),
        taken: ctx.taken.get(),
        last_start: ctx.last_start.get(),
        backoff: ctx.backoff.get(),
    })
}

/// Lets the recorder close each second even when no outcome arrives.
async fn tick_every_second<T: Transport, R: Record>(ctx: Rc<ThreadCtx<T, R>>) {
    // Just after each second's end, so outcomes of that second come first.
    let first = tokio::time::Instant::from_std(ctx.started) + Duration::from_millis(1_002);
    let mut ticks = tokio::time::interval_at(first, Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        ticks.tick().await;
        ctx.recorder.borrow_mut().tick(Instant::now());
    }
}
