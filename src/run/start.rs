//! A shared start (`--start-at`): every shard of a plan waits for one
//! agreed instant, and the plan's time axis starts there. A shard that gets
//! there later than the tolerance sends nothing, rather than a plan shifted
//! in time that the merge would then misalign.

use std::time::{Duration, Instant, SystemTime};

use crate::engine::{Control, RunStart};

/// How late a shard may start before it gives up, when not told.
pub const DEFAULT_START_TOLERANCE: Duration = Duration::from_secs(1);

/// When the measured plan starts, agreed between shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartAt {
    pub at: SystemTime,
    /// How late this process may reach `at` and still send.
    pub tolerance: Duration,
}

/// How a run started against its agreed instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Started {
    pub at: SystemTime,
    /// How late the process began sending against `at`.
    pub lateness: Duration,
}

/// Why a run did not start at its instant; nothing was sent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StartError {
    #[error(
        "started {} late, beyond --start-tolerance {}: nothing sent; start the shards earlier or raise the tolerance",
        humantime::format_duration(round_ms(*late)),
        humantime::format_duration(*tolerance)
    )]
    TooLate { late: Duration, tolerance: Duration },
    #[error("stopped while waiting for --start-at; nothing was sent")]
    Stopped,
}

fn round_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

/// `--start-at`'s form: an RFC 3339 instant in UTC (`2026-11-30T17:00:00Z`,
/// fractions allowed) or `+D`, that long from now (`+30s`).
pub fn parse_start_at(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let text = text.trim();
    if let Some(relative) = text.strip_prefix('+') {
        let d = humantime::parse_duration(relative.trim())
            .map_err(|e| format!("{text:?}: {e}; write e.g. +30s"))?;
        return now
            .checked_add(d)
            .ok_or_else(|| format!("{text:?} is too far ahead"));
    }
    humantime::parse_rfc3339_weak(text).map_err(|e| {
        format!("{text:?} is not an instant ({e}): write it in UTC like 2026-11-30T17:00:00Z, or +30s from now")
    })
}

/// Waits until `start.at` (checking `control` for a stop every few
/// milliseconds), then returns the run's start: the agreed instant, mapped
/// onto this process's monotonic clock, and how late it was reached.
pub fn wait_for(start: &StartAt, control: &Control) -> Result<(RunStart, Started), StartError> {
    const STEP: Duration = Duration::from_millis(20);
    loop {
        if control.is_stopped() {
            return Err(StartError::Stopped);
        }
        match start.at.duration_since(SystemTime::now()) {
            Ok(left) if left > STEP => std::thread::sleep(STEP),
            Ok(left) if !left.is_zero() => std::thread::sleep(left),
            _ => break,
        }
    }
    let (instant, wall) = (Instant::now(), SystemTime::now());
    let lateness = wall.duration_since(start.at).unwrap_or_default();
    if lateness > start.tolerance {
        return Err(StartError::TooLate {
            late: lateness,
            tolerance: start.tolerance,
        });
    }
    // The plan's axis is the agreed instant: a shard late by a few ms
    // sends its overdue requests at once, as a generator behind schedule
    // does, so its requests keep their planned instants.
    let run = RunStart {
        instant: instant.checked_sub(lateness).unwrap_or(instant),
        wall: start.at,
    };
    Ok((
        run,
        Started {
            at: start.at,
            lateness,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_at_reads_rfc3339_and_relative_instants() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(
            parse_start_at("+30s", now),
            Ok(now + Duration::from_secs(30))
        );
        assert_eq!(
            parse_start_at("1970-01-01T00:16:40.5Z", now),
            Ok(now + Duration::from_millis(500))
        );
        let bad = parse_start_at("tomorrow", now).unwrap_err();
        assert!(bad.contains("2026-11-30T17:00:00Z"), "{bad}");
        assert!(parse_start_at("+soon", now).is_err());
    }

    #[test]
    fn a_start_in_the_past_beyond_the_tolerance_is_refused() {
        let start = StartAt {
            at: SystemTime::now() - Duration::from_secs(5),
            tolerance: DEFAULT_START_TOLERANCE,
        };
        let err = wait_for(&start, &Control::default()).unwrap_err();
        assert!(matches!(err, StartError::TooLate { late, .. } if late >= Duration::from_secs(5)));
        let message = err.to_string();
        assert!(
            message.contains("nothing sent") && message.contains("--start-tolerance 1s"),
            "{message}"
        );
    }

    #[test]
    fn the_run_starts_at_the_agreed_instant_and_says_how_late() {
        let at = SystemTime::now() + Duration::from_millis(50);
        let start = StartAt {
            at,
            tolerance: DEFAULT_START_TOLERANCE,
        };
        let (run, started) = wait_for(&start, &Control::default()).unwrap();
        assert_eq!(run.wall, at);
        assert_eq!(started.at, at);
        assert!(started.lateness < Duration::from_millis(200), "{started:?}");
        assert!(SystemTime::now() >= at);
    }

    #[test]
    fn a_stop_during_the_wait_ends_it() {
        let control = Control::default();
        control.interrupt();
        let start = StartAt {
            at: SystemTime::now() + Duration::from_secs(60),
            tolerance: DEFAULT_START_TOLERANCE,
        };
        assert_eq!(wait_for(&start, &control).unwrap_err(), StartError::Stopped);
    }
}
