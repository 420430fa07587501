//! Every output of a run: the text summary for people, the JSON report for
//! machines (and its JSON Schema), the JUnit XML report for CI, the HTML
//! report with charts, the `--hlog` interval log, the live progress line
//! and the `/metrics` page. It
//! reads measured numbers and run facts; it never runs load.

pub mod ci;
pub mod compare;
mod csv;
mod hlog;
mod html;
mod json;
mod judge;
mod junit;
mod live;
pub mod merge;
mod output;
pub mod prometheus;
mod read;
mod schema;
mod text;

use std::time::{Duration, SystemTime};

pub use csv::write_csv;
pub use hlog::HlogFile;
pub use html::{write_compare_html, write_html};
pub use json::{
    SCHEMA, decode_fingerprints, encode_fingerprints, fingerprint_hex, histogram_base64, to_json,
};
pub use junit::{to_junit, write_junit};
pub use live::{LastSecond, clear_progress, plain_progress_line, progress_line, redraw_progress};
pub use output::OutputFile;
pub use read::{ReadError, Unjudgeable, judge_by, read, read_value, rejudge};
pub use schema::report_schema;
pub use text::{
    RunHeader, describe_load, grouped, rate_text, write_header, write_summary, write_text,
};

use crate::checks::CheckTally;
use crate::metrics::{Counts, ErrorSamples, Interval, Latency, Tally};
use crate::scenario::{Model, StopRule};
use crate::spec::RuleSet;
use crate::verdict::{Aborted, Cause, Evaluated};

/// A server's own counts, where mcload can know them (the embedded server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerCounts {
    /// Requests received.
    pub requests: u64,
    /// Its answers, by status.
    pub answers: Counts,
}

/// What the load generator says of itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Generator {
    /// Time closed-model workers waited after failed connects before
    /// trying again, summed over workers.
    pub backoff: Duration,
    /// Why the generator failed part-way, when it did: the counts cover
    /// only what ran before, and the run is invalid.
    pub failure: Option<String>,
}

/// Everything a report says about one run.
#[derive(Debug)]
pub struct RunReport {
    pub scenario: String,
    /// The target's base URL (scheme, host, port and base path).
    pub target: String,
    /// The endpoint path appended to it.
    pub path: String,
    /// The target was the embedded reference server.
    pub embedded: bool,
    /// The target's certificate was not verified, on purpose (`--insecure`).
    pub insecure: bool,
    /// The rules the target applies, which decide the status each invalid
    /// body is expected to get.
    pub rules: RuleSet,
    pub seed: u64,
    pub started_at: SystemTime,
    pub elapsed: Duration,
    /// When the last request started: `elapsed` less the wait for the
    /// last answers.
    pub sending: Duration,
    pub model: Model,
    pub threads: usize,
    /// The measured part's stop rule.
    pub stop: StopRule,
    /// Requests scheduled, warm-up included, as the engine counted them.
    pub scheduled: u64,
    /// The measured part.
    pub tally: Tally,
    /// The warm-up and what it measured, when there was one.
    pub warmup: Option<(Duration, Tally)>,
    /// One entry per second of the measured part.
    pub intervals: Vec<Interval>,
    /// The first reason of each kind of failure, warm-up included.
    pub error_reasons: ErrorSamples,
    /// Bodies by kind and the response checks.
    pub checks: CheckTally,
    pub server: Option<ServerCounts>,
    /// Stopped early by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    pub generator: Generator,
    /// Every threshold the run was judged by, judged.
    pub thresholds: Vec<Evaluated>,
    /// The `abort = true` threshold that stopped the run early, if one did.
    pub aborted: Option<Aborted>,
    /// Why the verdict fails, in judging order; empty when it passes.
    pub causes: Vec<Cause>,
    /// This run's part of a sharded plan (`--shard K/N`).
    pub shard: Option<crate::scenario::Shard>,
    /// The plan's fingerprint, equal for every shard of one plan.
    pub plan_fingerprint: u64,
    /// The agreed start (`--start-at`) and how late this run reached it.
    pub start: Option<SharedStart>,
    /// The session-id fingerprints remembered at the end, sorted (with
    /// `--shard`), for a merge to find repeats across shards.
    pub session_ids: Option<Vec<u64>>,
    /// How many shards' reports a merged report (`mcload merge`) was made
    /// of; `None` for the report of one run.
    pub shards: Option<u64>,
}

/// A run's agreed start instant and its lateness against it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharedStart {
    pub at: SystemTime,
    pub lateness: Duration,
}

impl RunReport {
    /// Whether the verdict passed: no cause fails it.
    pub fn passed(&self) -> bool {
        self.causes.is_empty()
    }

    /// Answers per second over the measured window; 0 when the window is
    /// empty (a run stopped during its warm-up answered nothing measured).
    pub fn throughput(&self) -> f64 {
        let secs = self.measured_duration().as_secs_f64();
        if secs > 0.0 {
            self.tally.counts.completed() as f64 / secs
        } else {
            0.0
        }
    }

    /// The measured window, in time from the start of the run: from the
    /// end of the warm-up to the end of the plan or the last answer,
    /// whichever is later. Every rate and `duration_s` use it.
    ///
    /// The plan ends at warm-up + duration for a run by duration that ran
    /// its course (an open model at a low rate may have sent its last
    /// request long before). A run by count, or one stopped early (Ctrl-C,
    /// an `abort` threshold), ends with its last answer: when the engine
    /// had joined every request.
    pub fn measured_window(&self) -> (Duration, Duration) {
        let from = self.warmup_ran().unwrap_or_default();
        let by_duration = match (self.stop.duration, self.stop.requests) {
            (Some(d), None) => Some(d),
            (Some(d), Some(n)) if self.measured_scheduled() < n => Some(d),
            _ => None,
        };
        let plan_end = match by_duration {
            Some(d) if !self.interrupted && self.aborted.is_none() => from + d,
            _ => Duration::ZERO,
        };
        (from, plan_end.max(self.elapsed).max(from))
    }

    /// How long the measured window lasted.
    pub fn measured_duration(&self) -> Duration {
        let (from, to) = self.measured_window();
        to - from
    }

    /// How long the warm-up ran: its planned length, or less when the run
    /// was stopped during it.
    pub fn warmup_ran(&self) -> Option<Duration> {
        self.warmup.as_ref().map(|(w, _)| (*w).min(self.elapsed))
    }

    /// Every scheduled request ended in exactly one outcome: the engine's
    /// own count of scheduled requests equals the sum of the outcomes,
    /// warm-up and measured part together.
    pub fn accounted(&self) -> bool {
        self.scheduled == self.tally.counts.total() + self.warmup_counts().map_or(0, Counts::total)
    }

    /// Requests scheduled in the measured part.
    pub fn measured_scheduled(&self) -> u64 {
        self.scheduled
            .saturating_sub(self.warmup_counts().map_or(0, Counts::total))
    }

    /// Requests, warm-up included, that failed for lack of resources on
    /// the machine running mcload: any makes the run invalid.
    pub fn local_errors(&self) -> u64 {
        self.tally.counts.local() + self.warmup_counts().map_or(0, Counts::local)
    }

    /// Why the figures cannot be trusted, if they cannot: the machine
    /// running mcload ran out of resources, or the generator failed.
    pub fn invalid_reason(&self) -> Option<String> {
        let mut reasons = Vec::new();
        let local = self.local_errors();
        if local > 0 {
            reasons.push(format!(
                "{local} requests failed for lack of resources on the machine running mcload"
            ));
        }
        if let Some(failure) = &self.generator.failure {
            reasons.push(format!("the load generator failed part-way: {failure}"));
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    fn warmup_counts(&self) -> Option<&Counts> {
        self.warmup.as_ref().map(|(_, t)| &t.counts)
    }

    /// How the server's counts compare with mcload's (warm-up included,
    /// since the server saw it too), when they are known.
    pub fn server_check(&self) -> Option<ServerCheck> {
        let mut counts = self.tally.counts;
        if let Some(w) = self.warmup_counts() {
            counts += w;
        }
        self.server.map(|s| compare(&s, &counts))
    }
}

/// The verdict of comparing a server's counts with mcload's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerCheck {
    /// The same answers on both sides, request for request.
    Equal,
    /// The server answered `unseen` requests whose answers mcload gave up
    /// on (timeouts, broken connections); everything else is equal.
    Consistent { unseen: u64 },
    /// The counts disagree beyond what lost answers explain.
    Different,
}

impl ServerCheck {
    pub fn holds(self) -> bool {
        self != ServerCheck::Different
    }
}

/// Compares by outcome. Connect, TLS and local errors never reach a
/// server; a request that timed out, broke or was cancelled may have been
/// received and answered there without mcload seeing the answer, so those
/// may make the server's counts larger, by at most their number, and never
/// smaller.
pub fn compare(server: &ServerCounts, counts: &Counts) -> ServerCheck {
    let s = &server.answers;
    let pairs = [
        (s.created(), counts.created()),
        (s.bad_request(), counts.bad_request()),
        (s.server_error(), counts.server_error()),
        (s.other(), counts.other()),
    ];
    let lost = counts.timeout() + counts.io() + counts.protocol() + counts.cancelled();
    let completed = counts.completed();
    if pairs.iter().all(|(s, m)| s == m) && server.requests == completed {
        return ServerCheck::Equal;
    }
    let unseen: u64 = pairs.iter().map(|(s, m)| s.saturating_sub(*m)).sum();
    let never_fewer = pairs.iter().all(|(s, m)| s >= m);
    let received_fits = server.requests >= completed && server.requests - completed <= lost;
    if never_fewer && unseen <= lost && received_fits {
        ServerCheck::Consistent { unseen }
    } else {
        ServerCheck::Different
    }
}

/// Latency figures in milliseconds, of a histogram with at least one
/// answer ([`LatencyMs::of`] is `None` for an empty one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LatencyMs {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl LatencyMs {
    /// The figures; `None` when nothing was answered, so that no made-up
    /// zero reads as a latency.
    pub fn of(h: &Latency) -> Option<LatencyMs> {
        let ms = |us: u64| us as f64 / 1000.0;
        crate::metrics::LatencyStats::of(h).map(|s| LatencyMs {
            min: ms(s.min),
            p50: ms(s.p50),
            p90: ms(s.p90),
            p99: ms(s.p99),
            p999: ms(s.p999),
            max: ms(s.max),
            mean: s.mean / 1000.0,
        })
    }
}

#[cfg(test)]
impl RunReport {
    /// A closed-model run of one request that sent nothing, for tests to
    /// change the fields they are about.
    pub(crate) fn example() -> RunReport {
        RunReport {
            scenario: "t".into(),
            target: "http://127.0.0.1:1".into(),
            path: "/api/v1/sessions".into(),
            embedded: false,
            insecure: false,
            rules: RuleSet::Strict,
            seed: 1,
            started_at: SystemTime::now(),
            elapsed: Duration::ZERO,
            sending: Duration::ZERO,
            model: Model::Closed { concurrency: 1 },
            threads: 1,
            stop: StopRule {
                duration: None,
                requests: Some(1),
            },
            scheduled: 0,
            tally: Tally::default(),
            warmup: None,
            intervals: Vec::new(),
            error_reasons: ErrorSamples::default(),
            checks: CheckTally::default(),
            server: None,
            interrupted: false,
            generator: Generator::default(),
            thresholds: Vec::new(),
            aborted: None,
            causes: Vec::new(),
            shard: None,
            plan_fingerprint: 0,
            start: None,
            session_ids: None,
            shards: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Class;
    use crate::metrics::Kind;
    use crate::scenario::StopRule;

    fn counts(classes: &[(Class, u64)]) -> Counts {
        let mut c = Counts::default();
        for &(class, n) in classes {
            for _ in 0..n {
                c.add(class);
            }
        }
        c
    }

    fn server(
        requests: u64,
        created: u64,
        bad_request: u64,
        server_error: u64,
        other: u64,
    ) -> ServerCounts {
        ServerCounts {
            requests,
            answers: Counts::from_pairs([
                (Kind::Created, created),
                (Kind::BadRequest, bad_request),
                (Kind::ServerError, server_error),
                (Kind::OtherStatus, other),
            ]),
        }
    }

    fn report(
        stop: (Option<u64>, Option<u64>),
        warmup_ms: Option<u64>,
        elapsed_ms: u64,
    ) -> RunReport {
        let ms = Duration::from_millis;
        RunReport {
            elapsed: ms(elapsed_ms),
            stop: StopRule {
                duration: stop.0.map(ms),
                requests: stop.1,
            },
            warmup: warmup_ms.map(|w| (ms(w), Tally::default())),
            ..RunReport::example()
        }
    }

    /// The window runs from the end of the warm-up (what of it ran) to the
    /// end of the plan or the last answer, whichever is later; a run
    /// stopped early, or by count, ends with its last answer.
    #[test]
    fn the_measured_window_ends_at_the_plan_or_the_last_answer() {
        let ms = Duration::from_millis;
        let window = |r: &RunReport| r.measured_window();
        // A low rate whose last answer came early: the plan's end.
        assert_eq!(
            window(&report((Some(1_000), None), None, 20)),
            (ms(0), ms(1_000))
        );
        // Slow answers after the plan: the last answer.
        assert_eq!(
            window(&report((Some(3_000), None), None, 4_080)),
            (ms(0), ms(4_080))
        );
        // After a warm-up.
        assert_eq!(
            window(&report((Some(1_000), None), Some(500), 1_200)),
            (ms(500), ms(1_500))
        );
        // By count: the last answer.
        assert_eq!(
            window(&report((None, Some(10)), None, 300)),
            (ms(0), ms(300))
        );
        // Stopped early, during the warm-up: it ran 300 ms, nothing measured.
        let mut stopped = report((Some(1_000), None), Some(5_000), 300);
        stopped.interrupted = true;
        assert_eq!(window(&stopped), (ms(300), ms(300)));
        assert_eq!(stopped.warmup_ran(), Some(ms(300)));
        assert_eq!(stopped.throughput(), 0.0);
    }

    #[test]
    fn equal_counts_are_equal_and_connect_errors_never_reach_the_server() {
        let c = counts(&[
            (Class::Status(201), 90),
            (Class::Status(400), 5),
            (Class::Status(404), 1),
            (Class::Connect, 7),
        ]);
        assert_eq!(compare(&server(96, 90, 5, 0, 1), &c), ServerCheck::Equal);
    }

    #[test]
    fn answers_lost_to_timeouts_make_the_counts_consistent_not_equal() {
        let c = counts(&[(Class::Status(201), 90), (Class::Timeout, 3)]);
        // The server received all 93 and answered two of the timed-out ones.
        assert_eq!(
            compare(&server(93, 92, 0, 0, 0), &c),
            ServerCheck::Consistent { unseen: 2 }
        );
    }

    #[test]
    fn answers_to_cancelled_requests_make_the_counts_consistent_not_different() {
        let c = counts(&[(Class::Status(201), 90), (Class::Cancelled, 4)]);
        // The server answered the four after mcload had stopped waiting.
        assert_eq!(
            compare(&server(94, 94, 0, 0, 0), &c),
            ServerCheck::Consistent { unseen: 4 }
        );
    }

    #[test]
    fn differences_beyond_lost_answers_are_different() {
        let c = counts(&[(Class::Status(201), 90), (Class::Timeout, 1)]);
        // More unseen answers than lost requests.
        assert_eq!(
            compare(&server(93, 93, 0, 0, 0), &c),
            ServerCheck::Different
        );
        // The server answered fewer than mcload counted.
        assert_eq!(
            compare(&server(90, 89, 1, 0, 0), &c),
            ServerCheck::Different
        );
        // The server received fewer requests than were answered.
        assert_eq!(
            compare(&server(80, 90, 0, 0, 0), &c),
            ServerCheck::Different
        );
    }
}
