//! Waiting for a request's intended start with microsecond precision.
//!
//! tokio's timer has millisecond ticks and wakes up to a tick late; in the
//! open model, latency counts from the intended start, so that lateness
//! would be billed to the target. On Linux the pacer waits on a timerfd
//! (nanosecond deadlines, woken through the runtime's epoll like any
//! socket) with the thread's timer slack cut from 50 µs to 1 ns; elsewhere
//! it falls back to tokio's timer. It does not spin: at 20,000 starts a
//! second, spinning even 20 µs before each start costs 40% of a core.

use std::time::{Duration, Instant};

/// Deadlines closer than this are waited for by yielding to the runtime
/// (so connections keep running) rather than by arming the timer, which
/// costs more than so short a wait.
const YIELD_WITHIN: Duration = Duration::from_micros(2);

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

    /// Returns at `deadline` or just after it, never before.
    pub(super) async fn wait_until(&mut self, deadline: Instant) {
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
            match rustix::io::read(timer.get_ref(), &mut expirations) {
                Ok(_) => return Ok(()),
                Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                pacer.wait_until(deadline).await;
                assert!(Instant::now() >= deadline, "{micros} µs");
            }
        });
    }
}
