//! The open model's arithmetic: a piecewise-linear arrival rate and the
//! instant each request is due. Pure functions of the request number, so a
//! generator running late still knows exactly which requests it owes, and
//! the plan does not depend on how many threads carry it out.
//!
//! With `N(t)` the integral of the rate from 0 to `t` (the requests
//! expected by `t`), request `i` is due at the first `t` with `N(t) = i`;
//! request 0 is due when the plan starts.

use std::time::Duration;

/// Slack against float noise when counting requests: an integral of
/// 2000.0000000001 holds 2000 requests, not 2001.
const EPSILON: f64 = 1e-6;

/// One piece of a rate plan: the rate moves linearly from `from` to `to`
/// over `duration`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    pub duration: Duration,
    pub from: f64,
    pub to: f64,
}

impl Segment {
    fn secs(&self) -> f64 {
        self.duration.as_secs_f64()
    }

    /// Requests expected over the whole segment.
    fn requests(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.secs()
    }

    /// Requests expected in the first `t` seconds of the segment.
    fn requests_by(&self, t: f64) -> f64 {
        let d = self.secs();
        if d == 0.0 {
            return 0.0;
        }
        let t = t.clamp(0.0, d);
        self.from * t + (self.to - self.from) * t * t / (2.0 * d)
    }

    /// Seconds into the segment at which `n` requests are expected. The
    /// root is written as `2n / (r0 + sqrt(r0^2 + 2an))` so that it stays
    /// exact for ramps from zero and for ramps down.
    fn time_of(&self, n: f64) -> f64 {
        let d = self.secs();
        if n <= 0.0 {
            return 0.0;
        }
        let slope = (self.to - self.from) / d;
        let disc = (self.from * self.from + 2.0 * slope * n).max(0.0);
        let denom = self.from + disc.sqrt();
        if denom <= 0.0 {
            return d;
        }
        (2.0 * n / denom).min(d)
    }

    fn rate_at(&self, t: f64) -> f64 {
        let d = self.secs();
        if d == 0.0 {
            return self.to;
        }
        self.from + (self.to - self.from) * (t / d).clamp(0.0, 1.0)
    }
}

/// A piecewise-linear arrival rate, in requests per second, bounded or
/// ending in a constant rate with no end.
#[derive(Clone, Debug, PartialEq)]
pub struct RatePlan {
    segments: Vec<Segment>,
    /// Requests expected before each segment, and after the last.
    before: Vec<f64>,
    /// Seconds from the start of the plan to each segment, and to its end.
    starts: Vec<f64>,
    /// The constant rate after the last segment, when the plan has no end.
    tail: Option<f64>,
    warmup_requests: u64,
}

/// The requests an integral holds: those numbered below it.
fn count(integral: f64) -> u64 {
    if integral <= EPSILON {
        0
    } else {
        (integral - EPSILON).ceil().min(u64::MAX as f64) as u64
    }
}

impl RatePlan {
    fn build(segments: Vec<Segment>, tail: Option<f64>, warmup_requests: u64) -> RatePlan {
        let mut before = Vec::with_capacity(segments.len() + 1);
        let mut starts = Vec::with_capacity(segments.len() + 1);
        let (mut n, mut t) = (0.0, 0.0);
        for s in &segments {
            before.push(n);
            starts.push(t);
            n += s.requests();
            t += s.secs();
        }
        before.push(n);
        starts.push(t);
        RatePlan {
            segments,
            before,
            starts,
            tail,
            warmup_requests,
        }
    }

    /// A constant rate; with no duration the plan has no end (a request
    /// count or an interruption ends the run).
    pub fn constant(rate: f64, duration: Option<Duration>) -> RatePlan {
        let rate = rate.max(0.0);
        match duration {
            Some(duration) => RatePlan::build(
                vec![Segment {
                    duration,
                    from: rate,
                    to: rate,
                }],
                None,
                0,
            ),
            None => RatePlan::build(Vec::new(), Some(rate), 0),
        }
    }

    /// k6-style stages: start at `start`, then each `(duration, target)`
    /// moves linearly from the previous rate to `target` over `duration`.
    pub fn stages(start: f64, stages: &[(Duration, f64)]) -> RatePlan {
        let mut from = start.max(0.0);
        let segments = stages
            .iter()
            .map(|&(duration, to)| {
                let to = to.max(0.0);
                let s = Segment { duration, from, to };
                from = to;
                s
            })
            .collect();
        RatePlan::build(segments, None, 0)
    }

    /// Puts a warm-up first: `warmup` at the plan's starting rate. Its
    /// requests are the first [`RatePlan::warmup_requests`] of the plan.
    pub fn with_warmup(self, warmup: Duration) -> RatePlan {
        let rate = self.rate_at(Duration::ZERO);
        let first = Segment {
            duration: warmup,
            from: rate,
            to: rate,
        };
        let warmup_requests = count(first.requests());
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.push(first);
        segments.extend(self.segments);
        RatePlan::build(segments, self.tail, warmup_requests)
    }

    /// Requests `0..warmup_requests()` belong to the warm-up.
    pub fn warmup_requests(&self) -> u64 {
        self.warmup_requests
    }

    /// The plan's length; `None` when it has no end.
    pub fn duration(&self) -> Option<Duration> {
        match self.tail {
            Some(_) => None,
            None => Some(self.segments.iter().map(|s| s.duration).sum()),
        }
    }

    /// The requests the plan holds; `None` when it has no end (or ends in
    /// a zero rate that holds none after the segments, see below).
    pub fn total(&self) -> Option<u64> {
        let segments_total = count(*self.before.last().expect("never empty"));
        match self.tail {
            None | Some(0.0) => Some(segments_total),
            Some(_) => None,
        }
    }

    /// When request `i` (from 0) is due, from the start of the plan;
    /// `None` when the plan ends before it.
    pub fn offset(&self, i: u64) -> Option<Duration> {
        let n = i as f64;
        let segments_total = *self.before.last().expect("never empty");
        if n < segments_total - EPSILON {
            // The segment that holds request n: the first whose end holds
            // more than n. Segments at rate zero hold none and are passed.
            let k = self.before[1..]
                .partition_point(|&b| b <= n)
                .min(self.segments.len() - 1);
            let within = self.segments[k].time_of(n - self.before[k]);
            return Some(secs_to_duration(self.starts[k] + within));
        }
        match self.tail {
            Some(rate) if rate > 0.0 => {
                let end = *self.starts.last().expect("never empty");
                Some(secs_to_duration(end + (n - segments_total) / rate))
            }
            _ => None,
        }
    }

    /// How many requests are due by `elapsed`: those whose offset is at
    /// most `elapsed`, capped at the total. A generator that has fallen
    /// behind owes exactly this many by now.
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        let t = elapsed.as_secs_f64();
        let n = self.requests_by(t);
        // Request i is due once N(t) >= i, so requests 0..=floor(N(t)).
        let due = ((n + EPSILON).floor() as u64).saturating_add(1);
        match self.total() {
            Some(total) => due.min(total),
            None => due,
        }
    }

    /// Requests expected by `t` seconds: the integral of the rate.
    fn requests_by(&self, t: f64) -> f64 {
        let k = self.starts.partition_point(|&s| s <= t);
        if k == 0 {
            return 0.0;
        }
        let k = k - 1;
        if k < self.segments.len() {
            return self.before[k] + self.segments[k].requests_by(t - self.starts[k]);
        }
        let end = self.starts[k];
        self.before[k] + self.tail.unwrap_or(0.0) * (t - end)
    }

    /// The rate at `t`, for reports; 0 after the end of a bounded plan.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let k = self.starts.partition_point(|&s| s <= t);
        if k == 0 {
            return self
                .segments
                .first()
                .map_or(self.tail.unwrap_or(0.0), |s| s.from);
        }
        let k = k - 1;
        match self.segments.get(k) {
            Some(s) => s.rate_at(t - self.starts[k]),
            None => self.tail.unwrap_or(0.0),
        }
    }
}

fn secs_to_duration(secs: f64) -> Duration {
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    fn close(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) <= Duration::from_micros(1)
    }

    /// The integral of the rate over [from, to), computed by small steps.
    fn integral(plan: &RatePlan, from: f64, to: f64) -> f64 {
        let steps = 100_000;
        let dt = (to - from) / steps as f64;
        (0..steps)
            .map(|k| plan.rate_at(secs(from + (k as f64 + 0.5) * dt)) * dt)
            .sum()
    }

    fn offsets_in(plan: &RatePlan, from: f64, to: f64) -> u64 {
        (0..)
            .map_while(|i| plan.offset(i))
            .filter(|o| (from..to).contains(&o.as_secs_f64()))
            .count() as u64
    }

    #[test]
    fn a_constant_rate_spaces_requests_evenly_and_holds_rate_times_duration() {
        // rate, seconds, total
        for (rate, duration, total) in [
            (500.0, 4.0, 2_000),
            (1_000.0, 1.0, 1_000),
            (0.5, 3.0, 2),
            (3.0, 1.0, 3),
            (20_000.0, 10.0, 200_000),
        ] {
            let plan = RatePlan::constant(rate, Some(secs(duration)));
            assert_eq!(plan.total(), Some(total), "{rate}/s for {duration}s");
            assert_eq!(plan.offset(0), Some(Duration::ZERO));
            assert!(close(
                plan.offset(total - 1).unwrap(),
                secs((total - 1) as f64 / rate)
            ));
            assert_eq!(plan.offset(total), None, "{rate}/s for {duration}s");
            assert_eq!(plan.duration(), Some(secs(duration)));
        }
        let plan = RatePlan::constant(500.0, Some(secs(4.0)));
        assert_eq!(plan.offset(1), Some(Duration::from_millis(2)));
        assert!(close(plan.offset(1_999).unwrap(), secs(3.998)));
    }

    #[test]
    fn a_zero_rate_holds_no_requests() {
        for plan in [
            RatePlan::constant(0.0, Some(secs(5.0))),
            RatePlan::constant(0.0, None),
            RatePlan::stages(0.0, &[(secs(3.0), 0.0)]),
        ] {
            assert_eq!(plan.total(), Some(0), "{plan:?}");
            assert_eq!(plan.offset(0), None);
            assert_eq!(plan.due_by(secs(10.0)), 0);
        }
    }

    #[test]
    fn a_pause_at_zero_rate_is_skipped_over() {
        // 100/s for 1 s, down to 0 at once and held 1 s, back to 100/s for 1 s.
        let plan = RatePlan::stages(
            100.0,
            &[
                (secs(1.0), 100.0),
                (Duration::from_nanos(1), 0.0),
                (secs(1.0), 0.0),
                (Duration::from_nanos(1), 100.0),
                (secs(1.0), 100.0),
            ],
        );
        assert_eq!(plan.total(), Some(200));
        assert!(close(plan.offset(99).unwrap(), secs(0.99)));
        // Request 100 is due the instant the first second's 100 are done;
        // then nothing until the rate comes back.
        assert!(close(plan.offset(100).unwrap(), secs(1.0)));
        assert_eq!(offsets_in(&plan, 1.001, 2.0), 0);
        let next = plan.offset(101).unwrap();
        assert!(next > secs(2.0) && next < secs(2.011), "{next:?}");
    }

    #[test]
    fn ramps_hold_their_integral_second_by_second() {
        // Up and down: (100 + 1000) / 2 * 5 s = 2750 requests either way.
        for (from, to) in [(100.0, 1_000.0), (1_000.0, 100.0)] {
            let plan = RatePlan::stages(from, &[(secs(5.0), to)]);
            assert_eq!(plan.total(), Some(2_750), "{from} -> {to}");
            let offsets: Vec<Duration> = (0..2_750).map(|i| plan.offset(i).unwrap()).collect();
            assert!(
                offsets.windows(2).all(|w| w[0] < w[1]),
                "strictly increasing"
            );
            let first_gap = offsets[1] - offsets[0];
            let last_gap = offsets[2_749] - offsets[2_748];
            assert_eq!(first_gap > last_gap, to > from, "spacing follows the rate");
            for second in 0..5 {
                let (a, b) = (second as f64, second as f64 + 1.0);
                let want = integral(&plan, a, b);
                let got = offsets_in(&plan, a, b) as f64;
                assert!(
                    (got - want).abs() <= 1.0,
                    "{from}->{to} second {second}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn stages_hold_and_chain_from_the_previous_rate() {
        // From 0: up to 200 in 2 s (200), hold 3 s (600), down to 0 in 1 s (100).
        let plan = RatePlan::stages(
            0.0,
            &[(secs(2.0), 200.0), (secs(3.0), 200.0), (secs(1.0), 0.0)],
        );
        assert_eq!(plan.total(), Some(900));
        assert_eq!(plan.duration(), Some(secs(6.0)));
        assert_eq!(plan.rate_at(secs(1.0)), 100.0);
        assert_eq!(plan.rate_at(secs(3.0)), 200.0);
        assert_eq!(plan.rate_at(secs(7.0)), 0.0);
        // Request 200 starts the hold.
        assert!(close(plan.offset(200).unwrap(), secs(2.0)));
        assert!(close(plan.offset(500).unwrap(), secs(3.5)));
        let last = plan.offset(899).unwrap();
        assert!(last < secs(6.0) && last > secs(5.8), "{last:?}");
        // From a zero start, request i is at sqrt(i / 50) on the first ramp.
        assert!(close(plan.offset(50).unwrap(), secs(1.0)));
    }

    #[test]
    fn very_high_rates_stay_exact_and_monotone() {
        let plan = RatePlan::constant(10_000_000.0, None);
        assert_eq!(plan.total(), None);
        assert_eq!(plan.duration(), None);
        assert!(close(plan.offset(1_000_000_000).unwrap(), secs(100.0)));
        let window: Vec<Duration> = (0..10_000)
            .map(|k| plan.offset(999_999_999_000 + k).unwrap())
            .collect();
        assert!(window.windows(2).all(|w| w[0] <= w[1]));
        assert!(
            plan.offset(u64::MAX).is_some(),
            "no overflow at the end of u64"
        );
        let ramp = RatePlan::stages(0.0, &[(secs(100.0), 10_000_000.0)]);
        assert_eq!(ramp.total(), Some(500_000_000));
        let a = ramp.offset(499_999_998).unwrap();
        let b = ramp.offset(499_999_999).unwrap();
        assert!(a < b && b < secs(100.0));
    }

    #[test]
    fn a_generator_running_behind_owes_exactly_the_due_requests() {
        let plans = [
            RatePlan::constant(500.0, Some(secs(4.0))),
            RatePlan::stages(100.0, &[(secs(5.0), 1_000.0)]),
            RatePlan::stages(0.0, &[(secs(2.0), 300.0), (secs(1.0), 0.0)]),
        ];
        for plan in &plans {
            let total = plan.total().unwrap();
            for elapsed in [0.0, 0.0005, 0.3, 1.0, 1.7, 2.5, 3.999] {
                let due = (0..total)
                    .take_while(|&i| plan.offset(i).unwrap() <= secs(elapsed))
                    .count() as u64;
                assert_eq!(plan.due_by(secs(elapsed)), due, "{plan:?} at {elapsed}s");
            }
            // Long after the end, everything and nothing more.
            assert_eq!(plan.due_by(secs(3_600.0)), total);
        }
    }

    #[test]
    fn a_warm_up_comes_first_at_the_starting_rate() {
        let plan = RatePlan::constant(200.0, Some(secs(3.0))).with_warmup(secs(2.0));
        assert_eq!(plan.warmup_requests(), 400);
        assert_eq!(plan.total(), Some(1_000));
        assert!(close(plan.offset(400).unwrap(), secs(2.0)));
        assert_eq!(plan.duration(), Some(secs(5.0)));

        let ramp = RatePlan::stages(100.0, &[(secs(1.0), 300.0)]).with_warmup(secs(1.0));
        assert_eq!(ramp.warmup_requests(), 100);
        assert_eq!(ramp.total(), Some(300));

        let from_zero = RatePlan::stages(0.0, &[(secs(1.0), 300.0)]).with_warmup(secs(1.0));
        assert_eq!(from_zero.warmup_requests(), 0);
        assert_eq!(from_zero.total(), Some(150));

        let endless = RatePlan::constant(50.0, None).with_warmup(secs(1.0));
        assert_eq!(endless.warmup_requests(), 50);
        assert_eq!(endless.total(), None);
        assert!(close(endless.offset(60).unwrap(), secs(1.2)));
    }

    #[test]
    fn offsets_and_due_counts_agree() {
        let plans = [
            RatePlan::constant(333.0, Some(secs(2.0))),
            RatePlan::stages(10.0, &[(secs(3.0), 2_000.0), (secs(2.0), 50.0)]),
            RatePlan::constant(7.0, None).with_warmup(secs(0.5)),
        ];
        for plan in &plans {
            for i in (0..3_000).step_by(7) {
                let Some(at) = plan.offset(i) else { break };
                assert!(
                    plan.due_by(at) > i,
                    "{plan:?}: request {i} is due at its own offset"
                );
                if let Some(before) = at.checked_sub(Duration::from_micros(2)) {
                    assert!(plan.due_by(before) <= i, "{plan:?}: not before it, {i}");
                }
            }
        }
    }
}
