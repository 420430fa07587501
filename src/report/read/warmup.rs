//! The warm-up's latency histogram, rebuilt from the seven figures the
//! report keeps of it (it keeps no histogram): a histogram of as many
//! answers, with exactly those figures (the mean of fewer than 10 answers
//! slower than 32 ms may be off by a few µs: their buckets are that
//! coarse). Not the original one; enough for
//! every output, which shows only those figures.

use super::ReadError;
use super::json::At;
use crate::metrics::{Latency, new_latency};

/// A latency's figures in µs; `None` when nothing was answered.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Figures {
    min: u64,
    /// p50, p90, p99, p99.9.
    quantiles: [u64; 4],
    max: u64,
    mean: f64,
}

const QUANTILES: [f64; 4] = [0.50, 0.90, 0.99, 0.999];

/// Reads a `latency_ms` object (figures in ms, to the µs).
pub(super) fn figures(l: &At<'_>) -> Result<Option<Figures>, ReadError> {
    let us = |key: &str| -> Result<Option<u64>, ReadError> {
        Ok(l.f64_opt(key)?.map(|ms| (ms * 1000.0).round() as u64))
    };
    let (Some(min), Some(max), Some(mean)) = (us("min")?, us("max")?, l.f64_opt("mean")?) else {
        return Ok(None);
    };
    let mut quantiles = [0; 4];
    for (q, key) in quantiles.iter_mut().zip(["p50", "p90", "p99", "p999"]) {
        *q = us(key)?.unwrap_or(max);
    }
    Ok(Some(Figures {
        min,
        quantiles,
        max,
        mean: mean * 1000.0,
    }))
}

/// The rank HdrHistogram reads quantile `q` of `n` values at (1-based).
fn rank(q: f64, n: u64) -> u64 {
    ((q * n as f64).ceil() as u64).clamp(1, n)
}

/// A histogram of `n` values with the figures `f`: the values at the
/// ranks the figures are read at are pinned; the others, free between
/// their pinned neighbours, are raised from the lower neighbour until the
/// mean is reached, coarse values first and fine ones to finish.
pub(super) fn histogram(n: u64, f: &Option<Figures>) -> Latency {
    let mut h = new_latency();
    let Some(f) = f else {
        return h;
    };
    if n == 0 {
        return h;
    }
    // Pins by rank; a later figure at the same rank is the same bucket.
    let mut pins: Vec<(u64, u64)> = vec![(1, f.min)];
    for (q, &value) in QUANTILES.iter().zip(&f.quantiles) {
        pins.push((rank(*q, n), value));
    }
    pins.push((n, f.max));
    pins.sort_by_key(|&(r, _)| r);
    pins.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 = later.1.max(earlier.1);
        }
        same
    });
    // Free runs between pins: (count, lower value, upper value).
    let mut runs: Vec<(u64, u64, u64)> = pins
        .windows(2)
        .filter(|w| w[1].0 > w[0].0 + 1)
        .map(|w| (w[1].0 - w[0].0 - 1, w[0].1, w[1].1))
        .collect();
    let med = |v: u64| h.median_equivalent(v) as f64;
    let pinned: f64 = pins.iter().map(|&(_, v)| med(v)).sum();
    let lowest: f64 = runs.iter().map(|&(k, lo, _)| k as f64 * med(lo)).sum();
    let mut gap = f.mean * n as f64 - pinned - lowest;
    let mut values: Vec<(u64, u64)> = pins.iter().map(|&(_, v)| (v, 1)).collect();
    // Coarse (high) runs first; finer ones finish the sum, in a few passes
    // since each pass leaves less than one bucket of its values.
    runs.sort_by_key(|&(_, lo, hi)| std::cmp::Reverse((hi, lo)));
    for _ in 0..3 {
        for (rest, lo, hi) in runs.iter_mut() {
            let step = med(*hi) - med(*lo);
            if *rest == 0 || step <= 0.0 || gap < 1.0 {
                continue;
            }
            let raised = ((gap / step).floor() as u64).min(*rest);
            gap -= raised as f64 * step;
            values.push((*hi, raised));
            *rest -= raised;
            if *rest > 0 && gap >= 1.0 {
                // One value part-way up: the highest whose rise fits the gap.
                let (mut a, mut b) = (*lo, *hi);
                while a < b {
                    let mid = a + (b - a).div_ceil(2);
                    if med(mid) - med(*lo) <= gap {
                        a = mid;
                    } else {
                        b = mid - 1;
                    }
                }
                gap -= med(a) - med(*lo);
                values.push((a, 1));
                *rest -= 1;
            }
        }
    }
    values.extend(runs.iter().map(|&(rest, lo, _)| (lo, rest)));
    for (value, count) in values {
        if count > 0 {
            h.saturating_record_n(value, count);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::LatencyMs;

    fn figures_of(h: &Latency) -> Figures {
        let l = LatencyMs::of(h).unwrap();
        let us = |ms: f64| (ms * 1000.0).round() as u64;
        Figures {
            min: us(l.min),
            quantiles: [us(l.p50), us(l.p90), us(l.p99), us(l.p999)],
            max: us(l.max),
            mean: (l.mean * 1000.0).round(),
        }
    }

    /// The rebuilt histogram gives back every figure the report keeps, to
    /// the microsecond, for small and large warm-ups and spread values
    /// (the mean of fewer than 10 slow answers to within a few µs).
    #[test]
    fn a_histogram_rebuilt_from_figures_has_those_figures() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for n in [1u64, 2, 3, 7, 10, 99, 100, 1_001, 25_000] {
            for spread in [50u64, 5_000, 400_000] {
                let mut original = new_latency();
                for _ in 0..n {
                    original.saturating_record(200 + next() % spread);
                }
                let want = figures_of(&original);
                let rebuilt = histogram(n, &Some(want));
                assert_eq!(rebuilt.len(), n);
                let got = figures_of(&rebuilt);
                let round = |f: Figures| (f.min, f.quantiles, f.max, f.mean.round() as u64);
                let (mut g, mut w) = (round(got), round(want));
                if n < 10 {
                    // A handful of slow answers: each value moves the sum
                    // by a whole bucket (32 µs and more above 32 ms).
                    assert!(g.3.abs_diff(w.3) <= 64 / n, "n {n}, spread {spread}");
                    (g.3, w.3) = (0, 0);
                }
                assert_eq!(g, w, "n {n}, spread {spread}");
            }
        }
        assert!(histogram(0, &None).is_empty());
    }
}
