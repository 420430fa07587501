//! The generator's own limits, settled before anything is sent. A run
//! that needs more file descriptors than the process may open would fail
//! its connects with EMFILE, which looks like a broken target; so the soft
//! `RLIMIT_NOFILE` is raised toward the hard limit (as Go's runtime does at
//! start), and a run that still cannot have what it needs is refused.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Descriptors each generator thread holds besides its connections (its
/// runtime's epoll instance and waker, timers), with room to spare.
const PER_THREAD: u64 = 4;
/// Descriptors for everything else a run opens: the signal thread, the
/// collector threads, output files, the start probe, DNS lookups.
const MARGIN: u64 = 64;
/// The ceiling for a soft limit when the hard limit is unlimited and
/// `/proc/sys/fs/nr_open` cannot be read: the kernel's default `nr_open`.
const DEFAULT_NR_OPEN: u64 = 1 << 20;

/// What a run will hold open at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DescriptorNeed {
    /// Connections to the target, all threads together.
    pub connections: u64,
    /// The embedded reference server runs in this process, and holds the
    /// other end of every connection.
    pub embedded: bool,
    pub threads: u64,
}

impl DescriptorNeed {
    /// Descriptors the run opens, on top of those already open.
    fn new_descriptors(&self) -> u64 {
        let ends = if self.embedded { 2 } else { 1 };
        self.connections
            .saturating_mul(ends)
            .saturating_add(self.threads.saturating_mul(PER_THREAD))
            .saturating_add(MARGIN)
    }

    fn describe(&self) -> String {
        let mut parts = vec![format!("{} connections", self.connections)];
        if self.embedded {
            parts.push(format!(
                "{} for the embedded server's side of them",
                self.connections
            ));
        }
        parts.push("the rest for mcload itself".to_string());
        parts.join(", ")
    }
}

/// The run needs more descriptors than this process may have.
#[derive(Debug, thiserror::Error)]
#[error(
    "this run needs about {needed} open files ({detail}), but the limit is {soft} \
     (ulimit -n; the hard limit is {hard}): raise it with `ulimit -n {needed}` before \
     running mcload{advice}, or lower --concurrency or --connections"
)]
pub struct DescriptorShortage {
    pub needed: u64,
    pub soft: u64,
    /// The hard limit, as `ulimit -Hn` prints it.
    pub hard: String,
    detail: String,
    advice: &'static str,
}

/// The process's descriptor limits, `None` meaning unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Limits {
    soft: Option<u64>,
    hard: Option<u64>,
}

/// What to do about the limits.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// The soft limit already allows the run.
    Enough,
    /// Raise the soft limit to this, which allows the run.
    Raise(u64),
    /// Not even the hard limit allows it.
    Short { needed: u64 },
}

/// Decides from the limits, the descriptors already open and the run's
/// need; `ceiling` is the most the kernel allows a soft limit to be.
fn plan(limits: Limits, open: u64, need: &DescriptorNeed, ceiling: u64) -> Plan {
    let needed = open.saturating_add(need.new_descriptors());
    let allows = |limit: Option<u64>| limit.is_none_or(|l| l >= needed);
    if allows(limits.soft) {
        return Plan::Enough;
    }
    // As far as the hard limit allows: a margin over the estimate costs
    // nothing, and is what an unknown extra descriptor would need.
    let most = limits.hard.unwrap_or(u64::MAX).min(ceiling);
    if most >= needed {
        Plan::Raise(most)
    } else {
        Plan::Short { needed }
    }
}

/// Makes sure the run can open what it needs, raising the soft limit if
/// that is enough; a shortage is refused before anything starts.
pub fn ensure_descriptors(need: &DescriptorNeed) -> Result<(), DescriptorShortage> {
    let current = getrlimit(Resource::Nofile);
    let limits = Limits {
        soft: current.current,
        hard: current.maximum,
    };
    let shortage = |needed: u64, soft: u64| DescriptorShortage {
        needed,
        soft,
        hard: limits.hard.map_or("unlimited".into(), |h| h.to_string()),
        detail: need.describe(),
        advice: if limits.hard.is_some_and(|h| h < needed) {
            " (above the hard limit, which takes root or the system's limits configuration)"
        } else {
            ""
        },
    };
    match plan(limits, open_descriptors(), need, nr_open()) {
        Plan::Enough => Ok(()),
        Plan::Raise(to) => {
            let raised = Rlimit {
                current: Some(to),
                maximum: limits.hard,
            };
            setrlimit(Resource::Nofile, raised).map_err(|_| {
                shortage(
                    open_descriptors().saturating_add(need.new_descriptors()),
                    limits.soft.unwrap_or(0),
                )
            })
        }
        Plan::Short { needed } => Err(shortage(needed, limits.soft.unwrap_or(0))),
    }
}

/// Descriptors open now (standard streams, files opened for the reports).
fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(16, |dir| dir.count() as u64)
}

/// The most a soft limit may be raised to by an unprivileged process.
fn nr_open() -> u64 {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_NR_OPEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEED: DescriptorNeed = DescriptorNeed {
        connections: 1_000,
        embedded: false,
        threads: 2,
    };

    fn limits(soft: u64, hard: Option<u64>) -> Limits {
        Limits {
            soft: Some(soft),
            hard,
        }
    }

    #[test]
    fn the_need_counts_both_ends_of_a_connection_to_the_embedded_server() {
        let alone = NEED.new_descriptors();
        assert_eq!(alone, 1_000 + 2 * PER_THREAD + MARGIN);
        let embedded = DescriptorNeed {
            embedded: true,
            ..NEED
        };
        assert_eq!(embedded.new_descriptors(), alone + 1_000);
    }

    #[test]
    fn a_soft_limit_below_the_need_is_raised_as_far_as_the_hard_limit() {
        let needed = 10 + NEED.new_descriptors();
        assert_eq!(
            plan(limits(needed, Some(20_000)), 10, &NEED, 1 << 20),
            Plan::Enough
        );
        assert_eq!(
            plan(limits(256, Some(20_000)), 10, &NEED, 1 << 20),
            Plan::Raise(20_000)
        );
        // An unlimited hard limit is raised to what the kernel allows.
        assert_eq!(
            plan(limits(256, None), 10, &NEED, 1 << 20),
            Plan::Raise(1 << 20)
        );
    }

    #[test]
    fn a_run_that_even_the_hard_limit_cannot_hold_is_short() {
        assert_eq!(
            plan(limits(256, Some(256)), 10, &NEED, 1 << 20),
            Plan::Short {
                needed: 10 + NEED.new_descriptors()
            }
        );
        assert_eq!(
            plan(limits(256, None), 10, &NEED, 512),
            Plan::Short {
                needed: 10 + NEED.new_descriptors()
            }
        );
    }

    #[test]
    fn the_shortage_names_the_limit_the_need_and_what_to_do() {
        let message = DescriptorShortage {
            needed: 1_200,
            soft: 256,
            hard: "256".into(),
            detail: NEED.describe(),
            advice: "",
        }
        .to_string();
        assert!(message.contains("needs about 1200 open files"), "{message}");
        assert!(message.contains("the limit is 256"), "{message}");
        assert!(message.contains("ulimit -n 1200"), "{message}");
        assert!(message.contains("--concurrency"), "{message}");
    }
}
