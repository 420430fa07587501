//! The live progress line: redrawn in place on a terminal, or printed as a
//! plain line every so often in a log.

use std::io::{self, Write};
use std::time::Duration;

use super::grouped;
use crate::metrics::Counts;

/// The last complete second, for the live view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastSecond {
    /// Requests started in that second.
    pub rate: u64,
    pub p99_ms: f64,
}

/// Redraws the progress line in place on a terminal: `line` over the
/// previous one, the rest of the terminal line erased.
pub fn redraw_progress(out: &mut dyn Write, line: &str) -> io::Result<()> {
    write!(out, "\r{line}\x1b[K")?;
    out.flush()
}

/// Erases the progress line, leaving the cursor at the line's start.
pub fn clear_progress(out: &mut dyn Write) -> io::Result<()> {
    write!(out, "\r\x1b[K")?;
    out.flush()
}

/// The one-line live view: elapsed time, requests ended, the last
/// second's rate and p99, 201s and errors so far.
pub fn progress_line(
    elapsed: Duration,
    planned: Option<Duration>,
    now: &Counts,
    last: Option<LastSecond>,
) -> String {
    let time = match planned {
        Some(p) => format!(
            "{:>5.1}s/{}",
            elapsed.as_secs_f64(),
            humantime::format_duration(p)
        ),
        None => format!("{:>5.1}s", elapsed.as_secs_f64()),
    };
    let second = match last {
        Some(l) => format!("{:>9}/s  p99 {:>8.3} ms", grouped(l.rate), l.p99_ms),
        None => format!("{:>9}/s  p99 {:>8} ms", "-", "-"),
    };
    format!(
        "{time}  {} requests  {second}  201 {}  errors {}",
        grouped(now.total()),
        grouped(now.created()),
        grouped(now.errors())
    )
}

/// The progress line for a log that is not a terminal, printed on a line
/// of its own every so often:
/// `mcload: 10s/60s · 123,456 requests · 12,345/s · p99 1.234 ms · errors 0`.
pub fn plain_progress_line(
    elapsed: Duration,
    planned: Option<Duration>,
    now: &Counts,
    last: Option<LastSecond>,
) -> String {
    let time = match planned {
        Some(p) if p.subsec_millis() == 0 => format!("{}s/{}s", elapsed.as_secs(), p.as_secs()),
        Some(p) => format!("{}s/{:.1}s", elapsed.as_secs(), p.as_secs_f64()),
        None => format!("{}s", elapsed.as_secs()),
    };
    let second = match last {
        Some(l) => format!("{}/s · p99 {:.3} ms", grouped(l.rate), l.p99_ms),
        None => "-/s · p99 - ms".to_string(),
    };
    format!(
        "mcload: {time} · {} requests · {second} · errors {}",
        grouped(now.total()),
        grouped(now.errors())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_time_requests_rate_and_errors() {
        let line = progress_line(
            Duration::from_millis(2_500),
            Some(Duration::from_secs(10)),
            &Counts::from_pairs([
                (crate::metrics::Kind::Created, 123_400),
                (crate::metrics::Kind::Timeout, 50),
                (crate::metrics::Kind::Connect, 6),
            ]),
            Some(LastSecond {
                rate: 49_382,
                p99_ms: 0.1934,
            }),
        );
        assert_eq!(
            line,
            "  2.5s/10s  123,456 requests     49,382/s  p99    0.193 ms  201 123,400  errors 56"
        );
    }

    /// A CI log gets a plain line: no carriage return, no escape.
    #[test]
    fn the_plain_progress_line_is_one_line_of_plain_text() {
        let line = plain_progress_line(
            Duration::from_millis(10_400),
            Some(Duration::from_secs(60)),
            &Counts::from_pairs([
                (crate::metrics::Kind::Created, 123_450),
                (crate::metrics::Kind::Timeout, 6),
            ]),
            Some(LastSecond {
                rate: 12_345,
                p99_ms: 1.2344,
            }),
        );
        assert_eq!(
            line,
            "mcload: 10s/60s · 123,456 requests · 12,345/s · p99 1.234 ms · errors 6"
        );
        let first = plain_progress_line(Duration::from_secs(1), None, &Counts::default(), None);
        assert_eq!(first, "mcload: 1s · 0 requests · -/s · p99 - ms · errors 0");
        let part = plain_progress_line(
            Duration::from_millis(1_900),
            Some(Duration::from_millis(2_500)),
            &Counts::default(),
            None,
        );
        assert!(part.starts_with("mcload: 1s/2.5s · "), "{part}");
        assert!(!line.contains(['\r', '\x1b', '\n']));
    }
}
