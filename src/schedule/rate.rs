//! The open model's arrival arithmetic: given a rate curve, when request `i`
//! starts and how many requests are due by a given instant.
//!
//! It is a pure function of the request number, with no clock, so that a
//! generator that has fallen behind can work out exactly which requests it
//! owes without replaying the past, so that threads can split the request
//! numbers between them without talking to each other, and so that the
//! schedule can be tested exactly.
//!
//! With `N(t)` the integral of the rate from 0 to `t` (the requests expected
//! by `t`), request `i` starts at the first instant at which `N` exceeds `i`.
//! Request 0 therefore starts at 0 unless the curve opens at a zero rate, and
//! after a pause at zero rate the next request starts where the rate picks
//! up again, not where the pause began. A bounded curve holds exactly the
//! requests numbered below `N(end)`.

use std::time::Duration;

/// How far below a whole number an expected count may fall and still count
/// as that number. Exact plans (500/s for 4 s) must not gain a request from
/// float noise, and the noise grows with the count.
fn slack(n: f64) -> f64 {
    (n.abs() * 1e-13).max(1e-9)
}

/// The number of requests numbered below `reach`.
fn below(reach: f64) -> u64 {
    if reach > 0.0 {
        // `as` saturates, so an absurd curve counts u64::MAX, not garbage.
        reach.ceil() as u64
    } else {
        0
    }
}

fn to_duration(secs: f64) -> Duration {
    // `max` also turns NaN into 0; an offset too large for Duration saturates
    // rather than panicking, which keeps offsets non-decreasing.
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

/// One piece of a rate curve: the rate moves linearly from `from` to `to`
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
        (self.from + self.to) * 0.5 * self.secs()
    }

    /// Requests expected in the first `t` seconds of the segment.
    #[cfg(test)]
    fn requests_by(&self, t: f64) -> f64 {
        let d = self.secs();
        if d <= 0.0 {
            return 0.0;
        }
        let t = t.clamp(0.0, d);
        self.from * t + (self.to - self.from) * t * t / (2.0 * d)
    }

    /// Seconds into the segment at which `n` requests are expected.
    fn time_of(&self, n: f64) -> f64 {
        let d = self.secs();
        if n <= 0.0 || d <= 0.0 {
            return 0.0;
        }
        let accel = (self.to - self.from) / d;
        // The root of n = r0 t + a t^2 / 2 written as 2n / (r0 + sqrt(..)):
        // the textbook form divides by `a` and cancels badly for ramps from
        // zero, ramps down and near-constant rates; this one does neither,
        // and is n / r0 exactly when the rate is constant.
        let root = (self.from * self.from + 2.0 * accel * n).max(0.0).sqrt();
        let denom = self.from + root;
        if denom <= 0.0 {
            return d;
        }
        (2.0 * n / denom).min(d)
    }

    fn rate_at(&self, t: f64) -> f64 {
        let d = self.secs();
        if d <= 0.0 {
            return self.to;
        }
        self.from + (self.to - self.from) * (t / d).clamp(0.0, 1.0)
    }
}

/// A piecewise-linear arrival rate. The last segment may be open-ended
/// (constant rate with no end).
#[derive(Clone, Debug, PartialEq)]
pub struct RateCurve {
    segments: Vec<Segment>,
    /// Requests expected before each segment, and one more entry for the
    /// end of the last.
    before: Vec<f64>,
    /// Seconds from the start of the curve to each segment, and to the end.
    starts: Vec<f64>,
    /// Requests numbered below `reach[k]` start by the end of segment `k`:
    /// `before[k + 1]` less the slack, never decreasing.
    reach: Vec<f64>,
    /// The constant rate after the segments, when the curve has no end.
    tail: Option<f64>,
}

impl RateCurve {
    fn build(segments: Vec<Segment>, tail: Option<f64>) -> RateCurve {
        let mut before = Vec::with_capacity(segments.len() + 1);
        let mut starts = Vec::with_capacity(segments.len() + 1);
        let mut reach = Vec::with_capacity(segments.len());
        let (mut n, mut at, mut r) = (0.0, Duration::ZERO, f64::NEG_INFINITY);
        for s in &segments {
            before.push(n);
            // From the summed Durations, so the end in seconds is exactly
            // `duration()` in seconds.
            starts.push(at.as_secs_f64());
            n += s.requests();
            at = at.saturating_add(s.duration);
            r = f64::max(r, n - slack(n));
            reach.push(r);
        }
        before.push(n);
        starts.push(at.as_secs_f64());
        RateCurve {
            segments,
            before,
            starts,
            reach,
            tail,
        }
    }

    /// A constant rate; `None` duration = no end (a request count stops the
    /// run elsewhere).
    pub fn constant(rate: f64, duration: Option<Duration>) -> RateCurve {
        let rate = rate.max(0.0);
        match duration {
            Some(duration) => RateCurve::build(
                vec![Segment {
                    duration,
                    from: rate,
                    to: rate,
                }],
                None,
            ),
            None => RateCurve::build(Vec::new(), Some(rate)),
        }
    }

    /// k6-style stages: start at `start` req/s, then each
    /// `(duration, target)` ramps linearly from the previous rate to
    /// `target` over `duration`. A stage whose target equals the previous
    /// rate holds it; a stage of zero duration jumps to its target.
    pub fn stages(start: f64, stages: &[(Duration, f64)]) -> RateCurve {
        let mut from = start.max(0.0);
        let segments = stages
            .iter()
            .map(|&(duration, to)| {
                let to = to.max(0.0);
                let segment = Segment { duration, from, to };
                from = to;
                segment
            })
            .collect();
        RateCurve::build(segments, None)
    }

    /// When request `i` (from 0) should start, counted from the start of
    /// the plan; `None` if the curve ends before it.
    pub fn offset(&self, i: u64) -> Option<Duration> {
        let n = i as f64;
        // Segments that hold no requests (zero rate, zero length) are
        // passed over here, which is what skips a pause.
        let k = self.reach.partition_point(|&r| r <= n);
        if let Some(segment) = self.segments.get(k) {
            let within = segment.time_of((n - self.before[k]).max(0.0));
            // The clamp keeps offsets in order across segment boundaries
            // whatever the rounding of `starts`.
            let at = (self.starts[k] + within).min(self.starts[k + 1]);
            return Some(to_duration(at));
        }
        let rate = self.tail.filter(|&r| r > 0.0)?;
        let last = self.segments.len();
        let after = (n - self.before[last]).max(0.0) / rate;
        Some(to_duration(self.starts[last] + after))
    }

    /// The number of requests the plan holds; `None` when open-ended.
    pub fn total(&self) -> Option<u64> {
        match self.tail {
            Some(_) => None,
            None => Some(self.held()),
        }
    }

    /// Requests that ever start: `u64::MAX` stands for no end.
    fn held(&self) -> u64 {
        match self.tail {
            Some(rate) if rate > 0.0 => u64::MAX,
            _ => below(self.reach.last().copied().unwrap_or(f64::NEG_INFINITY)),
        }
    }

    /// How many requests are due by `elapsed` (requests whose offset <=
    /// elapsed), capped at `total()`: what a generator running behind owes.
    /// The scheduler walks the offsets itself; this is the tests' oracle.
    #[cfg(test)]
    pub fn due_by(&self, elapsed: Duration) -> u64 {
        let held = self.held();
        let late = |i: u64| i >= held || self.offset(i).is_none_or(|at| at > elapsed);
        // N(elapsed) lands within a request or so of the answer; searching
        // outward from there with `offset` itself makes the two agree
        // exactly, whatever the rounding.
        let guess = ((self.requests_by(elapsed.as_secs_f64()) + 1.0).floor() as u64).min(held);
        // Everything below `lo` is due; `hi` is late.
        let (mut lo, mut hi) = if late(guess) {
            let (mut hi, mut step) = (guess, 1u64);
            loop {
                if hi == 0 {
                    break (0, 0);
                }
                let probe = hi.saturating_sub(step);
                if !late(probe) {
                    break (probe + 1, hi);
                }
                hi = probe;
                step = step.saturating_mul(2);
            }
        } else {
            let (mut due, mut step) = (guess, 1u64);
            loop {
                // Ends: u64::MAX >= held is always late.
                let probe = due.saturating_add(step);
                if late(probe) {
                    break (due + 1, probe);
                }
                due = probe;
                step = step.saturating_mul(2);
            }
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if late(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// Requests expected by `t` seconds: N(t).
    #[cfg(test)]
    fn requests_by(&self, t: f64) -> f64 {
        let last = self.segments.len();
        let end = self.starts[last];
        if t >= end {
            return self.before[last] + self.tail.unwrap_or(0.0) * (t - end);
        }
        let k = self.starts[..last].partition_point(|&s| s <= t) - 1;
        self.before[k] + self.segments[k].requests_by(t - self.starts[k])
    }

    /// The plan's length (sum of segments), `None` when open-ended.
    #[cfg(test)]
    pub fn duration(&self) -> Option<Duration> {
        match self.tail {
            Some(_) => None,
            None => Some(
                self.segments
                    .iter()
                    .fold(Duration::ZERO, |sum, s| sum.saturating_add(s.duration)),
            ),
        }
    }

    /// The rate at instant `t` (for reports); 0 after the end.
    pub fn rate_at(&self, t: Duration) -> f64 {
        let t = t.as_secs_f64();
        let last = self.segments.len();
        if t >= self.starts[last] {
            return self.tail.unwrap_or(0.0);
        }
        // The last segment starting at or before `t`, so past any jump.
        let k = self.starts[..last].partition_point(|&s| s <= t) - 1;
        self.segments[k].rate_at(t - self.starts[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// (seconds, target rate) pairs.
    type Stages = &'static [(f64, f64)];

    fn within_micro(a: Duration, b: Duration) -> bool {
        a.abs_diff(b) <= Duration::from_micros(1)
    }

    fn offsets(plan: &RateCurve) -> Vec<Duration> {
        (0..).map_while(|i| plan.offset(i)).collect()
    }

    /// Requests starting in `[from, to)` seconds.
    fn started_in(offsets: &[Duration], from: f64, to: f64) -> usize {
        offsets
            .iter()
            .filter(|o| (from..to).contains(&o.as_secs_f64()))
            .count()
    }

    /// A rate curve written out independently of the module: pieces of
    /// (seconds, from, to) and an optional endless rate after them.
    struct Reference {
        pieces: Vec<(f64, f64, f64)>,
        tail: Option<f64>,
    }

    impl Reference {
        fn stages(start: f64, stages: &[(f64, f64)]) -> Reference {
            let mut from = start;
            let pieces = stages
                .iter()
                .map(|&(d, to)| {
                    let p = (d, from, to);
                    from = to;
                    p
                })
                .collect();
            Reference { pieces, tail: None }
        }

        /// N(t), the trapezoid under the rate up to `t`.
        fn expected_by(&self, t: f64) -> f64 {
            let (mut n, mut at) = (0.0, 0.0);
            for &(d, from, to) in &self.pieces {
                if t < at + d {
                    let x = t - at;
                    let rate = from + (to - from) * x / d;
                    return n + (from + rate) / 2.0 * x;
                }
                n += (from + to) / 2.0 * d;
                at += d;
            }
            n + self.tail.unwrap_or(0.0) * (t - at)
        }

        /// The first t with N(t) > i, by bisection.
        fn start_of(&self, i: u64) -> f64 {
            let i = i as f64;
            let (mut lo, mut hi) = (0.0, 1.0);
            while self.expected_by(hi) <= i {
                hi *= 2.0;
            }
            for _ in 0..200 {
                let mid = (lo + hi) / 2.0;
                if self.expected_by(mid) > i {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            hi
        }
    }

    #[test]
    fn constant_rate_spaces_requests_evenly() {
        // (rate, seconds, requests held)
        let table = [
            (500.0, 4.0, 2_000),
            (1_000.0, 1.0, 1_000),
            (0.5, 3.0, 2),
            (3.0, 1.0, 3),
            (7.0, 0.5, 4),
            (20_000.0, 10.0, 200_000),
        ];
        for (rate, duration, total) in table {
            let plan = RateCurve::constant(rate, Some(secs(duration)));
            let what = format!("{rate}/s for {duration}s");
            assert_eq!(plan.total(), Some(total), "{what}");
            assert_eq!(plan.duration(), Some(secs(duration)), "{what}");
            assert_eq!(plan.offset(0), Some(Duration::ZERO), "{what}");
            for i in [1, total / 2, total - 1] {
                let want = secs(i as f64 / rate);
                assert!(within_micro(plan.offset(i).unwrap(), want), "{what}: {i}");
            }
            assert_eq!(plan.offset(total), None, "{what}");
            assert_eq!(plan.rate_at(secs(duration / 2.0)), rate, "{what}");
            assert_eq!(plan.rate_at(secs(duration)), 0.0, "{what}");
        }
        let plan = RateCurve::constant(500.0, Some(secs(4.0)));
        assert_eq!(plan.offset(1), Some(Duration::from_millis(2)));
        assert!(within_micro(plan.offset(1_999).unwrap(), secs(3.998)));
        let half = RateCurve::constant(0.5, Some(secs(3.0)));
        assert_eq!(half.offset(1), Some(secs(2.0)));
    }

    #[test]
    fn float_noise_does_not_add_a_request() {
        // (rate, duration, requests): products that land a hair above a
        // whole number, and one that is genuinely above it.
        let table = [
            (2_000.000_000_000_1, Duration::from_secs(1), 2_000),
            (30.0, Duration::from_millis(100), 3),
            (10.0, Duration::from_millis(300), 3),
            (0.7, Duration::from_secs(10), 7),
            (1_000_000.0, Duration::from_secs(1_000), 1_000_000_000),
            (3.0, Duration::from_nanos(1_000_000_001), 4),
        ];
        for (rate, duration, total) in table {
            let plan = RateCurve::constant(rate, Some(duration));
            assert_eq!(plan.total(), Some(total), "{rate}/s for {duration:?}");
            assert!(plan.offset(total - 1).unwrap() < duration);
            assert_eq!(plan.offset(total), None);
        }
    }

    #[test]
    fn zero_rate_holds_no_requests() {
        let table = [
            (RateCurve::constant(0.0, Some(secs(5.0))), Some(0)),
            (RateCurve::constant(0.0, None), None),
            (RateCurve::stages(0.0, &[(secs(3.0), 0.0)]), Some(0)),
            (RateCurve::stages(0.0, &[]), Some(0)),
        ];
        for (plan, total) in table {
            assert_eq!(plan.total(), total, "{plan:?}");
            assert_eq!(plan.offset(0), None, "{plan:?}");
            assert_eq!(plan.due_by(secs(10.0)), 0, "{plan:?}");
            assert_eq!(plan.rate_at(secs(1.0)), 0.0, "{plan:?}");
        }
    }

    #[test]
    fn zero_rate_pause_is_skipped() {
        // 100/s for 1 s, straight down to 0 and held 1 s, straight back to
        // 100/s for 1 s: the pause holds nothing, and request 100 starts
        // when the rate comes back.
        let plan = RateCurve::stages(
            100.0,
            &[
                (secs(1.0), 100.0),
                (Duration::ZERO, 0.0),
                (secs(1.0), 0.0),
                (Duration::ZERO, 100.0),
                (secs(1.0), 100.0),
            ],
        );
        assert_eq!(plan.total(), Some(200));
        assert_eq!(plan.duration(), Some(secs(3.0)));
        let all = offsets(&plan);
        assert_eq!(all.len(), 200);
        assert_eq!(started_in(&all, 1.0, 2.0), 0);
        assert!(within_micro(all[99], secs(0.99)));
        assert_eq!(all[100], secs(2.0));
        assert!(within_micro(all[199], secs(2.99)));
        assert_eq!(plan.rate_at(secs(1.5)), 0.0);
        assert_eq!(plan.rate_at(secs(2.0)), 100.0);
        assert_eq!(plan.due_by(secs(1.999)), 100);

        // The same with ramps: 1 s down to 0 (50), 1 s at 0, 1 s back up (50).
        let plan = RateCurve::stages(
            100.0,
            &[(secs(1.0), 0.0), (secs(1.0), 0.0), (secs(1.0), 100.0)],
        );
        assert_eq!(plan.total(), Some(100));
        let all = offsets(&plan);
        assert_eq!(started_in(&all, 1.0, 2.0), 0);
        assert!(all[49] < secs(1.0));
        assert!(all[50] >= secs(2.0));
        // Opening with a pause: request 0 waits for the rate.
        let late_start = RateCurve::stages(
            0.0,
            &[(secs(2.0), 0.0), (Duration::ZERO, 10.0), (secs(1.0), 10.0)],
        );
        assert_eq!(late_start.offset(0), Some(secs(2.0)));
        assert_eq!(late_start.due_by(secs(1.0)), 0);
        assert_eq!(late_start.total(), Some(10));
    }

    #[test]
    fn ramps_up_and_down_hold_their_integral() {
        // Either way round: (100 + 1000) / 2 * 5 s = 2750 requests.
        for (from, to) in [(100.0, 1_000.0), (1_000.0, 100.0)] {
            let plan = RateCurve::stages(from, &[(secs(5.0), to)]);
            let what = format!("{from} -> {to}");
            assert_eq!(plan.total(), Some(2_750), "{what}");
            let all = offsets(&plan);
            assert_eq!(all.len(), 2_750, "{what}");
            assert!(
                all.windows(2).all(|w| w[0] < w[1]),
                "{what}: strictly increasing"
            );
            let gaps: Vec<Duration> = all.windows(2).map(|w| w[1] - w[0]).collect();
            let (first, last) = (gaps[0], gaps[gaps.len() - 1]);
            // The first gap is a little under 1/from (1/to on the way down),
            // because the rate moves during it.
            let reference = Reference::stages(from, &[(5.0, to)]);
            assert!(within_micro(first, secs(reference.start_of(1))), "{what}");
            if to > from {
                assert!(first > last, "{what}: spacing shrinks as the rate rises");
            } else {
                assert!(first < last, "{what}: spacing grows as the rate falls");
            }
            // What the per-second series will show: each second holds the
            // integral of the rate over it, to within a request.
            for s in 0..5 {
                let (a, b) = (f64::from(s), f64::from(s + 1));
                let want = reference.expected_by(b) - reference.expected_by(a);
                let got = started_in(&all, a, b) as f64;
                assert!(
                    (got - want).abs() <= 1.0,
                    "{what}, second {s}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn stages_hold_and_chain_from_the_previous_rate() {
        // (start, stages, total = the integral)
        let table: [(f64, Stages, u64); 4] = [
            // Up to 200 in 2 s (200), hold 3 s (600), down to 0 in 1 s (100).
            (0.0, &[(2.0, 200.0), (3.0, 200.0), (1.0, 0.0)], 900),
            // Hold 50 for 2 s (100), then up to 150 in 2 s (200).
            (50.0, &[(2.0, 50.0), (2.0, 150.0)], 300),
            // Jump from 10 to 400 at once, hold 0.5 s (200), down to 100 in 1 s (250).
            (10.0, &[(0.0, 400.0), (0.5, 400.0), (1.0, 100.0)], 450),
            // Up from 0 to 3 in 1 s holds 1.5: requests 0 and 1.
            (0.0, &[(1.0, 3.0)], 2),
        ];
        for (start, stages, total) in table {
            let durations: Vec<(Duration, f64)> =
                stages.iter().map(|&(d, r)| (secs(d), r)).collect();
            let plan = RateCurve::stages(start, &durations);
            let what = format!("{start} then {stages:?}");
            assert_eq!(plan.total(), Some(total), "{what}");
            let length: f64 = stages.iter().map(|s| s.0).sum();
            assert_eq!(plan.duration(), Some(secs(length)), "{what}");
            let all = offsets(&plan);
            assert_eq!(all.len() as u64, total, "{what}");
            assert!(all.windows(2).all(|w| w[0] < w[1]), "{what}");
            assert!(*all.last().unwrap() < secs(length), "{what}");
        }
        let plan = RateCurve::stages(
            0.0,
            &[(secs(2.0), 200.0), (secs(3.0), 200.0), (secs(1.0), 0.0)],
        );
        assert_eq!(plan.rate_at(secs(1.0)), 100.0);
        assert_eq!(plan.rate_at(secs(3.0)), 200.0);
        assert_eq!(plan.rate_at(secs(5.5)), 100.0);
        assert_eq!(plan.rate_at(secs(7.0)), 0.0);
        // On the first ramp N(t) = 50 t^2, so request i starts at sqrt(i / 50).
        assert_eq!(plan.offset(0), Some(Duration::ZERO));
        assert!(within_micro(plan.offset(50).unwrap(), secs(1.0)));
        assert!(within_micro(plan.offset(200).unwrap(), secs(2.0)));
        assert!(within_micro(plan.offset(500).unwrap(), secs(3.5)));
    }

    #[test]
    fn very_high_rate_stays_exact_and_monotone() {
        let plan = RateCurve::constant(10_000_000.0, None);
        assert!(within_micro(
            plan.offset(1_000_000_000).unwrap(),
            secs(100.0)
        ));
        for start in [0, 1_000_000_000, 999_999_990_000] {
            let window: Vec<Duration> = (start..start + 10_000)
                .map(|i| plan.offset(i).unwrap())
                .collect();
            assert!(window.windows(2).all(|w| w[0] < w[1]), "from {start}");
        }
        assert!(within_micro(
            plan.offset(1_000_000_000_000).unwrap(),
            secs(100_000.0)
        ));
        assert!(plan.offset(u64::MAX).is_some());
        assert_eq!(plan.due_by(secs(100.0)), 1_000_000_001);
        assert_eq!(plan.due_by(Duration::MAX), u64::MAX);

        // 0 to 10M/s over 100 s: 500M requests, the last just before the end.
        let ramp = RateCurve::stages(0.0, &[(secs(100.0), 10_000_000.0)]);
        assert_eq!(ramp.total(), Some(500_000_000));
        let tail: Vec<Duration> = (499_990_000..500_000_000)
            .map(|i| ramp.offset(i).unwrap())
            .collect();
        assert!(tail.windows(2).all(|w| w[0] < w[1]));
        assert!(*tail.last().unwrap() < secs(100.0));
        assert_eq!(ramp.offset(500_000_000), None);
        assert_eq!(ramp.due_by(secs(1_000.0)), 500_000_000);

        // A tiny rate with an absurd request number saturates, not panics.
        let slow = RateCurve::constant(1e-9, None);
        assert_eq!(slow.offset(u64::MAX), Some(Duration::MAX));
    }

    #[test]
    fn generator_running_behind_owes_exactly_the_due_requests() {
        let plans = [
            RateCurve::constant(500.0, Some(secs(4.0))),
            RateCurve::constant(0.5, Some(secs(3.0))),
            RateCurve::stages(100.0, &[(secs(5.0), 1_000.0)]),
            RateCurve::stages(0.0, &[(secs(2.0), 300.0), (secs(1.0), 0.0)]),
            RateCurve::stages(
                50.0,
                &[
                    (secs(1.0), 50.0),
                    (Duration::ZERO, 0.0),
                    (secs(1.0), 0.0),
                    (Duration::ZERO, 80.0),
                    (secs(1.0), 80.0),
                ],
            ),
            RateCurve::stages(200.0, &[(secs(2.0), 200.0), (secs(3.0), 200.0)]),
        ];
        for plan in &plans {
            let all = offsets(plan);
            let total = plan.total().unwrap();
            assert_eq!(all.len() as u64, total, "{plan:?}");
            let mut instants: Vec<Duration> = [0.0, 0.000_5, 0.3, 1.0, 1.7, 2.0, 2.5, 3.999]
                .map(secs)
                .to_vec();
            // Exactly at, and a nanosecond either side of, some offsets.
            for &o in all.iter().step_by(97) {
                instants.extend([o, o + Duration::from_nanos(1)]);
                instants.extend(o.checked_sub(Duration::from_nanos(1)));
            }
            for at in instants {
                let owed = all.iter().filter(|&&o| o <= at).count() as u64;
                assert_eq!(plan.due_by(at), owed, "{plan:?} at {at:?}");
            }
            // Long after the end: everything, nothing skipped, nothing extra.
            let end = plan.duration().unwrap();
            assert_eq!(plan.due_by(end), total, "{plan:?}");
            assert_eq!(plan.due_by(end * 1_000), total, "{plan:?}");
        }
    }

    #[test]
    fn open_ended_constant_never_ends() {
        let plan = RateCurve::constant(250.0, None);
        assert_eq!(plan.total(), None);
        assert_eq!(plan.duration(), None);
        assert_eq!(plan.offset(0), Some(Duration::ZERO));
        assert_eq!(plan.offset(1_000_000), Some(secs(4_000.0)));
        assert_eq!(plan.due_by(secs(4_000.0)), 1_000_001);
        assert_eq!(plan.rate_at(secs(1e6)), 250.0);
    }

    #[test]
    fn offsets_round_trip_through_due_by_and_the_integral() {
        // Each plan beside the same plan written out independently.
        let cases = [
            (
                RateCurve::constant(333.0, Some(secs(2.0))),
                Reference::stages(333.0, &[(2.0, 333.0)]),
            ),
            (
                RateCurve::stages(10.0, &[(secs(3.0), 2_000.0), (secs(2.0), 50.0)]),
                Reference::stages(10.0, &[(3.0, 2_000.0), (2.0, 50.0)]),
            ),
            (
                RateCurve::stages(
                    0.0,
                    &[(secs(4.0), 900.0), (secs(1.0), 900.0), (secs(2.0), 0.0)],
                ),
                Reference::stages(0.0, &[(4.0, 900.0), (1.0, 900.0), (2.0, 0.0)]),
            ),
            (
                RateCurve::stages(
                    400.0,
                    &[(secs(1.0), 0.0), (secs(1.0), 0.0), (secs(1.0), 250.0)],
                ),
                Reference::stages(400.0, &[(1.0, 0.0), (1.0, 0.0), (1.0, 250.0)]),
            ),
            (
                RateCurve::stages(1_000.0, &[(secs(1.5), 1_000.0), (secs(2.0), 3_000.0)]),
                Reference::stages(1_000.0, &[(1.5, 1_000.0), (2.0, 3_000.0)]),
            ),
        ];
        for (plan, reference) in &cases {
            let last = plan.total().unwrap_or(5_000).min(5_000);
            let mut previous: Option<Duration> = None;
            for i in 0..last {
                let at = plan.offset(i).unwrap();
                let want = secs(reference.start_of(i));
                assert!(
                    within_micro(at, want),
                    "{plan:?}: request {i} at {at:?}, N says {want:?}"
                );
                assert!(
                    plan.due_by(at) > i,
                    "{plan:?}: request {i} is due at its own offset"
                );
                if let Some(p) = previous {
                    // Every plan here has a positive rate wherever a request starts.
                    assert!(p < at, "{plan:?}: request {i}");
                }
                previous = Some(at);
            }
        }
    }
}
