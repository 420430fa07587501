//! Faults the reference server injects on request: wrong answers (to
//! prove mcload's checks), and misbehaviour of the connection (to rehearse
//! gates and soak mcload): latency, stalls, resets, answers that are not
//! HTTP, trickled answers and `Connection: close`.

use std::fmt;
use std::time::Duration;

/// What the server does wrong on purpose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Share of valid requests answered 500 instead of 201, from 0 to 1.
    pub error_rate: f64,
    /// Delay before every answer to the sessions endpoint.
    pub latency: Option<Latency>,
    /// Share of valid requests wrongly answered 400.
    pub reject_valid: f64,
    /// Share of invalid requests wrongly answered 201.
    pub accept_invalid: f64,
    /// Share of 201 answers whose `Location` names no session.
    pub bad_location: f64,
    /// Share of 201 answers that repeat a session id already given out.
    pub repeat_id: f64,
    /// Every `period`, no answer leaves for `length`.
    pub stall: Option<Stall>,
    /// Share of requests answered by resetting the connection (TCP RST).
    pub reset_share: f64,
    /// Share of requests answered with bytes that are not HTTP, then a
    /// closed connection.
    pub garbage_share: f64,
    /// Share of answers sent a few bytes at a time, then a closed
    /// connection.
    pub trickle_share: f64,
    /// Every answer says `Connection: close` and the connection closes.
    pub close: bool,
}

impl Faults {
    /// The faults that are on, for the banner: `None` when none is.
    pub fn describe(&self) -> Option<String> {
        let mut on = Vec::new();
        for (name, share) in [
            ("error-rate", self.error_rate),
            ("reject-valid", self.reject_valid),
            ("accept-invalid", self.accept_invalid),
            ("bad-location", self.bad_location),
            ("repeat-id", self.repeat_id),
            ("reset", self.reset_share),
            ("garbage", self.garbage_share),
            ("trickle", self.trickle_share),
        ] {
            if share > 0.0 {
                // Rounded to 0.01%: 0.07 * 100 is 7.000000000000001.
                on.push(format!("{name} {}%", (share * 1e4).round() / 100.0));
            }
        }
        if let Some(latency) = self.latency {
            on.push(format!("latency {latency}"));
        }
        if let Some(stall) = self.stall {
            on.push(format!("stall {:?} every {:?}", stall.length, stall.period));
        }
        if self.close {
            on.push("Connection: close".into());
        }
        (!on.is_empty()).then(|| on.join(", "))
    }

    /// Whether a fault needs the connection's socket itself (to reset it
    /// or to write to it past hyper).
    pub fn need_socket(&self) -> bool {
        self.reset_share > 0.0 || self.garbage_share > 0.0 || self.trickle_share > 0.0
    }
}

/// The delay before each answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Latency {
    /// The same every time: `20ms`.
    Fixed(Duration),
    /// Uniform between two bounds: `uniform:5ms..50ms`.
    Uniform(Duration, Duration),
    /// Log-normal with this median and σ (of the logarithm), the usual
    /// shape of service times: `lognormal:20ms,0.5`.
    LogNormal { median: Duration, sigma: f64 },
}

/// The longest delay a log-normal draw gives: its tail is unbounded.
pub const MAX_LATENCY: Duration = Duration::from_secs(60);

impl Latency {
    /// Parses `20ms`, `uniform:5ms..50ms` or `lognormal:20ms,0.5`.
    pub fn parse(text: &str) -> Result<Latency, String> {
        let text = text.trim();
        let form =
            "write 20ms, uniform:5ms..50ms or lognormal:MEDIAN,SIGMA (e.g. lognormal:20ms,0.5)";
        if let Some(range) = text.strip_prefix("uniform:") {
            let (lo, hi) = range
                .split_once("..")
                .ok_or_else(|| format!("{text:?}: a uniform latency is a range; {form}"))?;
            let (lo, hi) = (duration(lo)?, duration(hi)?);
            if lo > hi {
                return Err(format!("{text:?}: the lower bound is above the upper one"));
            }
            Ok(Latency::Uniform(lo, hi))
        } else if let Some(spec) = text.strip_prefix("lognormal:") {
            let (median, sigma) = spec.split_once(',').ok_or_else(|| {
                format!("{text:?}: a log-normal latency needs a median and a σ; {form}")
            })?;
            let median = duration(median)?;
            let sigma: f64 = sigma
                .trim()
                .parse()
                .ok()
                .filter(|s: &f64| s.is_finite() && (0.0..=4.0).contains(s))
                .ok_or_else(|| format!("{text:?}: σ is a number from 0 to 4 (0.5 is typical)"))?;
            Ok(Latency::LogNormal { median, sigma })
        } else {
            duration(text)
                .map(Latency::Fixed)
                .map_err(|e| format!("{e}; {form}"))
        }
    }

    /// The delay for one answer, from two uniform draws in [0, 1).
    pub fn sample(&self, u1: f64, u2: f64) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform(lo, hi) => lo + (hi - lo).mul_f64(u1),
            Latency::LogNormal { median, sigma } => {
                // Box–Muller: a standard normal from two uniforms (1 - u1
                // is in (0, 1], so its logarithm is finite).
                let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let secs = median.as_secs_f64() * (sigma * z).exp();
                Duration::try_from_secs_f64(secs)
                    .unwrap_or(MAX_LATENCY)
                    .min(MAX_LATENCY)
            }
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Latency::Fixed(d) => write!(f, "{d:?}"),
            Latency::Uniform(lo, hi) => write!(f, "uniform {lo:?}..{hi:?}"),
            Latency::LogNormal { median, sigma } => {
                write!(f, "log-normal, median {median:?}, σ {sigma}")
            }
        }
    }
}

/// Answers freeze for `length` at the start of every `period` (the first
/// stall begins one period after the server starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub length: Duration,
    pub period: Duration,
}

impl Stall {
    /// Parses `D/P`, e.g. `2s/10s`: freeze for 2 s every 10 s.
    pub fn parse(text: &str) -> Result<Stall, String> {
        let (length, period) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?}: write LENGTH/PERIOD, e.g. 2s/10s"))?;
        let (length, period) = (duration(length)?, duration(period)?);
        if length.is_zero() || length >= period {
            return Err(format!(
                "{text:?}: the stall must be longer than 0 and shorter than its period"
            ));
        }
        Ok(Stall { length, period })
    }

    /// How long an answer ready `elapsed` after the server started waits
    /// for the stall it falls in to end (zero outside a stall).
    pub fn wait(&self, elapsed: Duration) -> Duration {
        if elapsed < self.period {
            return Duration::ZERO;
        }
        let period = self.period.as_nanos();
        let phase = Duration::from_nanos((elapsed.as_nanos() % period) as u64);
        self.length.saturating_sub(phase)
    }
}

fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let d = humantime::parse_duration(text)
        .map_err(|_| format!("{text:?} is not a duration (e.g. 20ms, 2s)"))?;
    if d > MAX_LATENCY * 60 {
        return Err(format!("{text:?} is longer than an hour"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn latencies_parse_in_their_three_forms_and_refuse_the_rest() {
        assert_eq!(Latency::parse("20ms"), Ok(Latency::Fixed(20 * MS)));
        assert_eq!(
            Latency::parse("uniform:5ms..50ms"),
            Ok(Latency::Uniform(5 * MS, 50 * MS))
        );
        assert_eq!(
            Latency::parse("lognormal:20ms,0.5"),
            Ok(Latency::LogNormal {
                median: 20 * MS,
                sigma: 0.5
            })
        );
        for bad in [
            "soon",
            "uniform:5ms",
            "uniform:50ms..5ms",
            "lognormal:20ms",
            "lognormal:20ms,nan",
            "lognormal:20ms,-1",
            "2h",
        ] {
            let e = Latency::parse(bad).expect_err(bad);
            assert!(e.contains(bad.split(':').next().unwrap()), "{e}");
        }
    }

    #[test]
    fn latency_draws_follow_their_distribution() {
        let uniform = Latency::Uniform(10 * MS, 20 * MS);
        assert_eq!(uniform.sample(0.0, 0.3), 10 * MS);
        assert_eq!(uniform.sample(0.5, 0.3), 15 * MS);
        let lognormal = Latency::LogNormal {
            median: 20 * MS,
            sigma: 0.5,
        };
        // u2 = 0.25 puts cos at 0: z = 0, the median.
        assert_eq!(lognormal.sample(0.7, 0.25), 20 * MS);
        // cos = -1 gives a draw below the median, cos = 1 one above.
        assert!(lognormal.sample(0.9, 0.5) < 20 * MS);
        assert!(lognormal.sample(0.9, 0.0) > 20 * MS);
        // Draws at the edges stay finite and bounded.
        assert_eq!(lognormal.sample(0.0, 0.0), 20 * MS);
        assert!(lognormal.sample(1.0 - f64::EPSILON, 0.0) <= MAX_LATENCY);
        let wide = Latency::LogNormal {
            median: 50 * MS * 1000,
            sigma: 4.0,
        };
        assert_eq!(wide.sample(1.0 - f64::EPSILON, 0.0), MAX_LATENCY);
        // The median of many draws is the median.
        let mut draws: Vec<Duration> = (0..999)
            .map(|i| lognormal.sample((i as f64 + 0.5) / 999.0, (i * 7919 % 999) as f64 / 999.0))
            .collect();
        draws.sort();
        let median = draws[499].as_secs_f64() * 1000.0;
        assert!((15.0..27.0).contains(&median), "{median}");
    }

    #[test]
    fn the_banner_lists_the_faults_that_are_on() {
        assert_eq!(Faults::default().describe(), None);
        let faults = Faults {
            reset_share: 0.05,
            latency: Some(Latency::Uniform(5 * MS, 50 * MS)),
            stall: Stall::parse("2s/10s").ok(),
            close: true,
            ..Faults::default()
        };
        assert_eq!(
            faults.describe().unwrap(),
            "reset 5%, latency uniform 5ms..50ms, stall 2s every 10s, Connection: close"
        );
    }

    #[test]
    fn a_stall_holds_answers_from_each_period_start_for_its_length() {
        let stall = Stall::parse("2s/10s").unwrap();
        let s = Duration::from_secs;
        assert_eq!(stall.wait(s(1)), Duration::ZERO, "not in the first period");
        assert_eq!(stall.wait(s(10)), s(2));
        assert_eq!(stall.wait(s(11)), s(1));
        assert_eq!(stall.wait(s(12)), Duration::ZERO);
        assert_eq!(stall.wait(s(25)), Duration::ZERO);
        assert_eq!(stall.wait(s(30) + 500 * MS), s(1) + 500 * MS);
        for bad in ["2s", "10s/2s", "0s/1s", "2s/x"] {
            assert!(Stall::parse(bad).is_err(), "{bad}");
        }
    }
}
