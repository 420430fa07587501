//! Waiting for a request's intended start with microsecond precision.
//!
//! tokio's timer has millisecond ticks and wakes up to a tick late; in the
//! open model, latency counts from the intended start, so that lateness
//! would be billed to the target. On Linux the pacer waits on a timerfd
//! (nanosecond deadlines, woken through the runtime's epoll like any
//! socket) with the thread's timer slack cut from 50 µs to 1 ns; elsewhere
//! it falls back to tokio's timer. It does not spin: at 20,000 starts a
//! second, spinning even 20 µs before each start costs 40% of a core.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// How the open model's scheduler wakes for its starts (`--pacing`).
///
/// Each wake-up costs the generator a context switch and a timer; a start
/// woken for late is sent late, and that lateness counts in its latency
/// (latency runs from the intended start) and in its send lag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pacing {
    /// A wake-up for every start, and a connection that comes free takes
    /// a start that has fallen due at once: the least send lag, the most
    /// wake-ups.
    Exact,
    /// When a thread has at least two starts per step on average, the
    /// starts due within one step of a grid share one wake-up at the
    /// step's end, so each is late by less than the step. Sparser starts
    /// are each woken for exactly: batching them would make them late and
    /// save few wake-ups.
    Batched(Duration),
}

impl Pacing {
    /// The default: see the table in the README for what each costs.
    pub const DEFAULT: Pacing = Pacing::Batched(Duration::from_micros(200));
    /// The longest batching step taken: beyond it, batching saves nothing
    /// more and the lateness would dwarf a fast endpoint's latency.
    pub const MAX_STEP: Duration = Duration::from_millis(10);

    /// When to wake for a start due at `intended`, on a thread whose starts
    /// come at `rate_per_thread` a second, the grid counted from `origin`
    /// (the thread's first start: each thread of a run, and each shard, has
    /// its starts offset from the others', and a grid shared by all would
    /// make every start of some threads late).
    pub(super) fn wake_time(
        self,
        intended: Instant,
        origin: Instant,
        rate_per_thread: f64,
    ) -> Instant {
        let Pacing::Batched(step) = self else {
            return intended;
        };
        if rate_per_thread * step.as_secs_f64() < 2.0 {
            return intended;
        }
        let step = step.as_nanos();
        let since = intended.saturating_duration_since(origin).as_nanos();
        u64::try_from(since.div_ceil(step) * step)
            .ok()
            .and_then(|n| origin.checked_add(Duration::from_nanos(n)))
            .unwrap_or(intended)
    }
}

impl Default for Pacing {
    fn default() -> Pacing {
        Pacing::DEFAULT
    }
}

/// `exact` or `batched:200us`, as `--pacing` takes it.
impl fmt::Display for Pacing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pacing::Exact => f.write_str("exact"),
            Pacing::Batched(step) => {
                write!(f, "batched:{}", humantime::format_duration(*step))
            }
        }
    }
}

/// `exact`, `batched` (the default step) or `batched:D`.
impl FromStr for Pacing {
    type Err = String;

    fn from_str(text: &str) -> Result<Pacing, String> {
        const FORMS: &str = "write `exact`, `batched` or `batched:D` with D a step such as 200us";
        let text = text.trim();
        if text == "exact" {
            return Ok(Pacing::Exact);
        }
        if text == "batched" {
            return Ok(Pacing::DEFAULT);
        }
        let Some(step) = text.strip_prefix("batched:") else {
            return Err(format!("{text:?} is not a pacing; {FORMS}"));
        };
        let step = humantime::parse_duration(step.trim())
            .map_err(|e| format!("{step:?} in {text:?} is not a duration ({e}); {FORMS}"))?;
        if step.is_zero() || step > Pacing::MAX_STEP {
            return Err(format!(
                "the batching step in {text:?} must be above 0 and at most {}; for a wake-up per start write `exact`",
                humantime::format_duration(Pacing::MAX_STEP)
            ));
        }
        Ok(Pacing::Batched(step))
    }
}

/// Deadlines closer than this are waited for by yielding to the runtime
/// (so connections keep running) rather than by arming the timer, which
/// costs more than so short a wait.
const YIELD_WITHIN: Duration = Duration::from_micros(2);

thread_local! {
    /// Until when this thread may sleep, events or not, before it waits
    /// for them ([`nap`]); set while the scheduler waits for a grid step.
    static NAP: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether starts on this thread wait for a free connection
    /// ([`set_starts_waiting`]).
    static STARTS_WAITING: Cell<bool> = const { Cell::new(false) };
    /// Connects under way on this thread ([`Connecting`]).
    static CONNECTING: Cell<u32> = const { Cell::new(0) };
}

/// The runtime's hook for when this thread is about to wait for events
/// (`on_thread_park`): sleeps out the nap the scheduler asked for first.
/// Answers that come meanwhile wait in their sockets, stamped with their
/// arrival ([`super::transport::Arrival`]), and are all read at the step,
/// in one wake-up, instead of one wake-up each. Not while starts wait for
/// a connection: an answer frees one, and a start should not wait a step
/// more for it (nor a connection carry only one request per step). Nor
/// while a connect is under way: its request would go out a step late.
pub(super) fn nap() {
    if let Some(until) = NAP.get()
        && !STARTS_WAITING.get()
        && CONNECTING.get() == 0
        && let Some(left) = until.checked_duration_since(Instant::now())
    {
        std::thread::sleep(left);
    }
}

/// A generator thread's runtime: single-threaded, with [`nap`] as its
/// hook for when the thread is about to wait for events.
pub(super) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .on_thread_park(nap)
        .build()
}

/// Tells [`nap`] whether starts wait for a free connection on this thread.
/// The hook runs when every task has had its turn, so a start still
/// waiting then found every connection busy.
pub(super) fn set_starts_waiting(waiting: bool) {
    STARTS_WAITING.set(waiting);
}

/// A connect under way on this thread, for as long as it lives: the
/// thread does not nap meanwhile ([`nap`]).
pub(super) struct Connecting(());

impl Connecting {
    pub(super) fn new() -> Connecting {
        CONNECTING.set(CONNECTING.get() + 1);
        Connecting(())
    }
}

impl Drop for Connecting {
    fn drop(&mut self) {
        CONNECTING.set(CONNECTING.get() - 1);
    }
}

/// Ends a nap however its wait ends, cancelled included.
struct Awake;

impl Drop for Awake {
    fn drop(&mut self) {
        NAP.set(None);
    }
}

pub(super) struct Pacer {
    #[cfg(target_os = "linux")]
    timer: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl Pacer {
    /// Must be created inside the runtime that will poll it.
    pub(super) fn new() -> Pacer {
        #[cfg(target_os = "linux")]
        // The default slack lets the kernel fire timers up to 50 µs late, to
        // batch wake-ups; a late start is billed as latency.
        let _ = rustix::thread::set_current_timer_slack(std::num::NonZeroU64::new(1));
        Pacer {
            #[cfg(target_os = "linux")]
            timer: linux::timerfd().ok(),
        }
    }

    /// Returns at `deadline` or just after it, never before. With
    /// `nap_until`, the thread sleeps until then (or the deadline, if
    /// sooner) whatever else comes ([`nap`]): only for a thread whose
    /// answers are stamped with their arrival.
    pub(super) async fn wait_until(&mut self, deadline: Instant, nap_until: Option<Instant>) {
        let _awake = nap_until.map(|until| {
            NAP.set(Some(until.min(deadline)));
            Awake
        });
        loop {
            let now = Instant::now();
            let Some(left) = deadline
                .checked_duration_since(now)
                .filter(|d| !d.is_zero())
            else {
                return;
            };
            if left <= YIELD_WITHIN {
                tokio::task::yield_now().await;
                continue;
            }
            #[cfg(target_os = "linux")]
            if let Some(timer) = &self.timer
                && linux::sleep(timer, left).await.is_ok()
            {
                continue;
            }
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::OwnedFd;
    use std::time::Duration;

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::unix::AsyncFd;

    pub(super) fn timerfd() -> io::Result<AsyncFd<OwnedFd>> {
        let fd = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
        )?;
        // SAFETY: an `OwnedFd` is a valid open descriptor that stays the
        // same until it is dropped with the `AsyncFd`, and it is only ever
        // reached through `get_ref`.
        unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
            .map_err(io::Error::from)
    }

    /// Sleeps for `d` (more than zero) on the timer.
    pub(super) async fn sleep(timer: &AsyncFd<OwnedFd>, d: Duration) -> io::Result<()> {
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let value = Timespec {
            tv_sec: d.as_secs().try_into().unwrap_or(i64::MAX),
            tv_nsec: d.subsec_nanos().into(),
        };
        timerfd_settime(
            timer.get_ref(),
            TimerfdTimerFlags::empty(),
            &Itimerspec {
                it_interval: zero,
                it_value: value,
            },
        )?;
        loop {
            let mut ready = timer.readable().await?;
            let mut expirations = [0u8; 8];
            let read = rustix::io::read(timer.get_ref(), &mut expirations);
            // Whatever the read said, the timer is drained: a one-shot
            // timerfd is not readable again until it is re-armed. Clearing
            // the readiness after a read that succeeded too spares the next
            // sleep a read that could only say EAGAIN (one system call per
            // wake-up).
            ready.clear_ready();
            match read {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_pacing_wakes_on_a_grid_only_with_two_starts_per_step() {
        let start = Instant::now();
        let at = |micros| start + Duration::from_micros(micros);
        let batched = Pacing::Batched(Duration::from_micros(500));
        // Up to 3,999/s: under two starts per 500 µs, each woken exactly;
        // 2,000/s is one per step, and a grid would only make it late.
        for rate in [500.0, 2_000.0, 3_999.0] {
            assert_eq!(batched.wake_time(at(2_010), start, rate), at(2_010));
        }
        // 4,000/s and 20,000/s: starts wake at the next 500 µs step, never
        // before.
        assert_eq!(batched.wake_time(at(2_010), start, 4_000.0), at(2_500));
        assert_eq!(batched.wake_time(at(2_010), start, 20_000.0), at(2_500));
        assert_eq!(batched.wake_time(at(2_500), start, 20_000.0), at(2_500));
        assert_eq!(batched.wake_time(at(0), start, 20_000.0), at(0));
        // The grid runs from the thread's own first start: a thread whose
        // starts are offset by 100 µs is not made 400 µs late for each.
        let origin = at(100);
        assert_eq!(batched.wake_time(at(600), origin, 20_000.0), at(600));
        assert_eq!(batched.wake_time(at(650), origin, 20_000.0), at(1_100));
        // Exact wakes for every start, whatever the rate.
        assert_eq!(Pacing::Exact.wake_time(at(2_010), start, 1e6), at(2_010));
    }

    #[test]
    fn pacing_reads_and_writes_its_three_forms_and_refuses_others() {
        let us = Duration::from_micros;
        assert_eq!("exact".parse(), Ok(Pacing::Exact));
        assert_eq!("batched".parse(), Ok(Pacing::DEFAULT));
        assert_eq!("batched:100us".parse(), Ok(Pacing::Batched(us(100))));
        assert_eq!("batched:1ms".parse(), Ok(Pacing::Batched(us(1_000))));
        for p in [Pacing::Exact, Pacing::DEFAULT, Pacing::Batched(us(1_500))] {
            assert_eq!(p.to_string().parse(), Ok(p), "{p}");
        }
        assert_eq!(Pacing::DEFAULT.to_string(), "batched:200us");
        for bad in ["", "fast", "batched:", "exact:1ms"] {
            let err = bad.parse::<Pacing>().unwrap_err();
            assert!(err.contains("batched:D"), "{bad}: {err}");
        }
        for out_of_range in ["batched:0us", "batched:1s"] {
            let err = out_of_range.parse::<Pacing>().unwrap_err();
            assert!(err.contains("at most 10ms"), "{out_of_range}: {err}");
        }
    }

    #[test]
    fn waits_until_the_deadline_and_never_returns_early() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut pacer = Pacer::new();
            for micros in [0u64, 5, 50, 300, 1_500, 4_000] {
                let deadline = Instant::now() + Duration::from_micros(micros);
                pacer.wait_until(deadline, None).await;
                assert!(Instant::now() >= deadline, "{micros} µs");
            }
        });
    }

    #[test]
    fn a_nap_leaves_what_arrives_unread_until_its_deadline_unless_starts_wait_or_a_connect_runs() {
        use tokio::io::AsyncReadExt;
        // (nap asked for, starts waiting for a connection, a connect under way)
        let cases = [
            (true, false, false),
            (false, false, false),
            (true, true, false),
            (true, false, true),
        ];
        for (nap, waiting, connecting) in cases {
            // The engine's threads' own runtime, with the nap hook.
            let runtime = runtime().unwrap();
            let (read_at, deadline) = runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // The byte is written 20 ms after the wait began, when the
                // reader has long been waiting for it and the thread parked.
                let (go, wait_began) = std::sync::mpsc::channel::<()>();
                let writer = std::thread::spawn(move || {
                    let mut stream = std::net::TcpStream::connect(addr).unwrap();
                    wait_began.recv().unwrap();
                    std::thread::sleep(Duration::from_millis(20));
                    std::io::Write::write_all(&mut stream, b"x").unwrap();
                    stream
                });
                let (mut accepted, _) = listener.accept().await.unwrap();
                let reader = tokio::spawn(async move {
                    let mut byte = [0u8; 1];
                    accepted.read_exact(&mut byte).await.unwrap();
                    Instant::now()
                });
                let deadline = Instant::now() + Duration::from_millis(100);
                set_starts_waiting(waiting);
                let under_way = connecting.then(Connecting::new);
                go.send(()).unwrap();
                Pacer::new()
                    .wait_until(deadline, nap.then_some(deadline))
                    .await;
                set_starts_waiting(false);
                drop(under_way);
                assert_eq!(NAP.get(), None, "a nap outlived its wait");
                let read_at = reader.await.unwrap();
                drop(writer.join());
                (read_at, deadline)
            });
            if nap && !waiting && !connecting {
                assert!(read_at >= deadline, "read {:?} early", deadline - read_at);
            } else {
                let case = match (nap, waiting) {
                    (false, _) => "no nap",
                    (true, true) => "with starts waiting",
                    (true, false) => "with a connect under way",
                };
                assert!(
                    read_at < deadline,
                    "{case}: read {:?} late",
                    read_at - deadline
                );
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_finished_sleep_leaves_the_timer_not_ready_so_the_next_one_reads_only_on_expiry() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let timer = linux::timerfd().unwrap();
            for micros in [50, 200] {
                linux::sleep(&timer, Duration::from_micros(micros))
                    .await
                    .unwrap();
                // A readiness left set would send the next sleep straight
                // to a read that can only say EAGAIN.
                let stale = tokio::select! {
                    biased;
                    _ = timer.readable() => true,
                    () = std::future::ready(()) => false,
                };
                assert!(!stale, "readiness left set after a {micros} µs sleep");
            }
        });
    }
}
