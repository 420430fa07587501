//! The metrics a threshold can name, and the units each one takes.
//!
//! Every name is listed by [`Metric::all`], so the names a threshold
//! accepts, the nearest-name hint for a typo and the documentation's list
//! come from one place.

use std::fmt;

use crate::spec::Bucket;
use crate::spec::Check;

/// A statistic of a latency histogram (thresholds and `compare` alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stat {
    Min,
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
}

impl Stat {
    pub const ALL: [Stat; 8] = [
        Stat::Min,
        Stat::P50,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
        Stat::Max,
        Stat::Mean,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stat::Min => "min",
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::P999 => "p999",
            Stat::Max => "max",
            Stat::Mean => "mean",
        }
    }

    /// The quantile a percentile stands for; `None` for min, max and mean.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.5),
            Stat::P90 => Some(0.9),
            Stat::P95 => Some(0.95),
            Stat::P99 => Some(0.99),
            Stat::P999 => Some(0.999),
            Stat::Min | Stat::Max | Stat::Mean => None,
        }
    }
}

/// Which latency histogram a latency metric reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timing {
    /// Every answer, from the request's intended start.
    Latency,
    /// Every answer, from the actual send.
    ServiceTime,
    /// Every request sent, any outcome: the generator's own lateness in
    /// sending it (`send_lag.p99 < 250us` checks that it kept up).
    SendLag,
    /// The requests of one outcome (`latency.status.201.p99`, `latency.errors.p99`).
    Outcome(Bucket),
    /// The answers to valid bodies.
    Valid,
    /// The answers to invalid bodies.
    Invalid,
}

impl Timing {
    const ALL: [Timing; 10] = [
        Timing::Latency,
        Timing::ServiceTime,
        Timing::SendLag,
        Timing::Outcome(Bucket::Created),
        Timing::Outcome(Bucket::BadRequest),
        Timing::Outcome(Bucket::ServerError),
        Timing::Outcome(Bucket::OtherStatus),
        Timing::Outcome(Bucket::Error),
        Timing::Valid,
        Timing::Invalid,
    ];

    fn prefix(self) -> String {
        match self {
            Timing::Latency => "latency".into(),
            Timing::ServiceTime => "service_time".into(),
            Timing::SendLag => "send_lag".into(),
            Timing::Outcome(b) => format!("latency.{}", b.name()),
            Timing::Valid => "latency.valid".into(),
            Timing::Invalid => "latency.invalid".into(),
        }
    }
}

/// A count of requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    Status201,
    Status400,
    Status500,
    StatusOther,
    Errors,
    Connect,
    Tls,
    /// The generator's own resources ran out (a run with any is invalid).
    Local,
    Timeout,
    Io,
    Protocol,
    Dropped,
    /// On the wire when the run was cut short after Ctrl-C.
    Cancelled,
    /// Errors plus answers off the status their body expects.
    Unexpected,
    /// Every check's count together.
    Checks,
    Check(Check),
    /// Requests scheduled in the measured part.
    Requests,
}

impl Count {
    const ALL: [Count; 16] = [
        Count::Status201,
        Count::Status400,
        Count::Status500,
        Count::StatusOther,
        Count::Errors,
        Count::Connect,
        Count::Tls,
        Count::Local,
        Count::Timeout,
        Count::Io,
        Count::Protocol,
        Count::Dropped,
        Count::Cancelled,
        Count::Unexpected,
        Count::Checks,
        Count::Requests,
    ];

    fn name(self) -> String {
        match self {
            Count::Status201 => "status.201".into(),
            Count::Status400 => "status.400".into(),
            Count::Status500 => "status.500".into(),
            Count::StatusOther => "status.other".into(),
            Count::Errors => "errors".into(),
            Count::Connect => "errors.connect".into(),
            Count::Tls => "errors.tls".into(),
            Count::Local => "errors.local".into(),
            Count::Timeout => "errors.timeout".into(),
            Count::Io => "errors.io".into(),
            Count::Protocol => "errors.protocol".into(),
            Count::Dropped => "dropped".into(),
            Count::Cancelled => "cancelled".into(),
            Count::Unexpected => "unexpected".into(),
            Count::Checks => "checks".into(),
            Count::Check(c) => format!("checks.{}", c.name()),
            Count::Requests => "requests".into(),
        }
    }
}

/// What a threshold measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    Latency(Timing, Stat),
    Count(Count),
    /// Answers per second.
    Rate,
}

/// The kind of value a metric is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A duration: `300us`, `250ms`, `1.5s`.
    Duration,
    /// A share of the requests (`99.5%`) or a number of them (`0`).
    ShareOrCount,
    /// A number of requests.
    Count,
    /// Per second: `500/s`.
    Rate,
}

impl Metric {
    /// Every metric, in the order the documentation lists them.
    pub fn all() -> Vec<Metric> {
        let mut all = Vec::new();
        for timing in Timing::ALL {
            for stat in Stat::ALL {
                all.push(Metric::Latency(timing, stat));
            }
        }
        for count in Count::ALL {
            all.push(Metric::Count(count));
            if count == Count::Checks {
                all.extend(Check::ALL.map(|c| Metric::Count(Count::Check(c))));
            }
        }
        all.push(Metric::Rate);
        all
    }

    /// The metric a name stands for.
    pub fn by_name(name: &str) -> Option<Metric> {
        Metric::all().into_iter().find(|m| m.name() == name)
    }

    /// The name a threshold uses, e.g. `latency.p99`.
    pub fn name(&self) -> String {
        match self {
            Metric::Latency(timing, stat) => format!("{}.{}", timing.prefix(), stat.name()),
            Metric::Count(count) => count.name(),
            Metric::Rate => "rate".into(),
        }
    }

    /// The unit its limit is written in.
    pub fn unit(&self) -> Unit {
        match self {
            Metric::Latency(..) => Unit::Duration,
            Metric::Count(Count::Requests) => Unit::Count,
            Metric::Count(_) => Unit::ShareOrCount,
            Metric::Rate => Unit::Rate,
        }
    }

    /// Whether the per-second series keeps what `over D` needs: the
    /// latency of every answer, the outcome counts and the rate. The
    /// service time, the send lag, the latency per outcome or body kind and
    /// the checks are kept for the whole run only.
    pub fn windowed(&self) -> bool {
        match self {
            Metric::Latency(timing, _) => *timing == Timing::Latency,
            Metric::Count(count) => {
                !matches!(count, Count::Unexpected | Count::Checks | Count::Check(_))
            }
            Metric::Rate => true,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_metric_name_is_known_and_round_trips() {
        for name in [
            "latency.min",
            "latency.p50",
            "latency.p90",
            "latency.p95",
            "latency.p99",
            "latency.p999",
            "latency.max",
            "latency.mean",
            "service_time.p99",
            "send_lag.min",
            "send_lag.p50",
            "send_lag.p90",
            "send_lag.p95",
            "send_lag.p99",
            "send_lag.p999",
            "send_lag.max",
            "send_lag.mean",
            "latency.status.201.p99",
            "latency.status.other.p50",
            "latency.errors.max",
            "latency.valid.p99",
            "latency.invalid.p99",
            "status.201",
            "status.400",
            "status.500",
            "status.other",
            "errors",
            "errors.connect",
            "errors.tls",
            "errors.local",
            "errors.timeout",
            "errors.io",
            "errors.protocol",
            "dropped",
            "cancelled",
            "unexpected",
            "checks",
            "checks.valid_rejected",
            "checks.duplicate_session_ids",
            "rate",
            "requests",
        ] {
            let metric = Metric::by_name(name).unwrap_or_else(|| panic!("{name} unknown"));
            assert_eq!(metric.name(), name);
        }
        assert_eq!(Metric::by_name("latency.p98"), None);
        assert_eq!(Metric::by_name("checks.nope"), None);
        let names: Vec<String> = Metric::all().iter().map(Metric::name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "no name twice");
    }

    #[test]
    fn each_metric_takes_its_unit() {
        let unit = |n: &str| Metric::by_name(n).unwrap().unit();
        assert_eq!(unit("latency.p99"), Unit::Duration);
        assert_eq!(unit("service_time.mean"), Unit::Duration);
        assert_eq!(unit("send_lag.p99"), Unit::Duration);
        assert_eq!(unit("status.201"), Unit::ShareOrCount);
        assert_eq!(unit("unexpected"), Unit::ShareOrCount);
        assert_eq!(unit("requests"), Unit::Count);
        assert_eq!(unit("rate"), Unit::Rate);
    }
}
