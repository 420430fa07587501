//! The statistics behind `compare`: Welch's t-test with the confidence
//! interval of the difference of means, and Holm–Bonferroni's correction
//! for many rows. Student's t distribution comes from `statrs`.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and sample variance (n − 1 in the denominator; 0 for one value).
pub fn mean_var(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// Welch's two-sample t-test of `b` against `a` (the difference is
/// `mean(b) − mean(a)`), with the two-sided p-value and the confidence
/// interval of the difference at level `1 − alpha`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Welch {
    pub diff: f64,
    /// Standard error of the difference.
    pub se: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value of "no difference".
    pub p: f64,
    /// Confidence interval of the difference.
    pub ci: (f64, f64),
}

/// The test, for samples of at least two values each. When both samples
/// have no spread at all, the difference is exact: p is 1 when the means
/// are equal and 0 when they are not, and the interval is the difference
/// itself.
pub fn welch(a: &[f64], b: &[f64], alpha: f64) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (ma, va) = mean_var(a);
    let (mb, vb) = mean_var(b);
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let diff = mb - ma;
    let (qa, qb) = (va / na, vb / nb);
    let se2 = qa + qb;
    if !diff.is_finite() || !se2.is_finite() {
        return None;
    }
    // Spread this small against the means is rounding, not noise.
    let scale = ma.abs().max(mb.abs()).max(1.0);
    if se2.sqrt() <= scale * 1e-12 {
        let p = if diff.abs() <= scale * 1e-12 {
            1.0
        } else {
            0.0
        };
        return Some(Welch {
            diff,
            se: 0.0,
            df: na + nb - 2.0,
            p,
            ci: (diff, diff),
        });
    }
    let se = se2.sqrt();
    let df = se2 * se2 / (qa * qa / (na - 1.0) + qb * qb / (nb - 1.0));
    let t = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * t.cdf(-(diff / se).abs())).clamp(0.0, 1.0);
    let q = t.inverse_cdf(1.0 - alpha / 2.0);
    Some(Welch {
        diff,
        se,
        df,
        p,
        ci: (diff - q * se, diff + q * se),
    })
}

/// Holm–Bonferroni adjusted p-values, in the order given: rejecting every
/// hypothesis whose adjusted p is at most `alpha` keeps the chance of any
/// false rejection across the family at most `alpha`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let mut adjusted = vec![1.0; m];
    let mut running = 0.0_f64;
    for (rank, &i) in order.iter().enumerate() {
        let a = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(a);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    /// Equal sizes and spreads: Welch's degrees of freedom are 2(n − 1),
    /// and a difference of t(0.975, 10) = 2.228139 standard errors (the
    /// textbook quantile) has p = 0.05 and an interval that ends at 0.
    #[test]
    fn welch_matches_the_textbook_t_quantile() {
        let a = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let se = (2.0 * 3.5 / 6.0_f64).sqrt();
        let d = 2.228139 * se;
        let b = a.map(|x| x + d);
        let w = welch(&a, &b, 0.05).unwrap();
        assert!(close(w.diff, d, 1e-12));
        assert!(close(w.df, 10.0, 1e-9), "{w:?}");
        assert!(close(w.se, se, 1e-12), "{w:?}");
        assert!(close(w.p, 0.05, 1e-6), "{w:?}");
        assert!(close(w.ci.0, 0.0, 1e-5), "{w:?}");
        assert!(close(w.ci.1, 2.0 * d, 1e-5), "{w:?}");
        // Unequal spreads: fewer degrees of freedom than the pooled test's.
        let w = welch(&[1.0, 2.0, 3.0], &[1.0, 5.0, 9.0, 13.0], 0.05).unwrap();
        assert!(w.df < 5.0 && w.df > 2.0, "{w:?}");
    }

    #[test]
    fn samples_without_spread_give_an_exact_answer() {
        let same = welch(&[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0], 0.05).unwrap();
        assert_eq!(same.p, 1.0);
        assert_eq!(same.ci, (0.0, 0.0));
        let apart = welch(&[1.0, 1.0, 1.0], &[2.0, 2.0, 2.0], 0.05).unwrap();
        assert_eq!(apart.p, 0.0);
        assert_eq!(apart.ci, (1.0, 1.0));
        assert!(welch(&[1.0], &[2.0, 3.0], 0.05).is_none());
    }

    #[test]
    fn holm_multiplies_by_the_rank_and_keeps_the_order() {
        // Sorted: 0.01 (×4 = 0.04), 0.02 (×3 = 0.06), 0.03 (×2 = 0.06), 0.5 (×1).
        let adj = holm(&[0.03, 0.01, 0.5, 0.02]);
        let want = [0.06, 0.04, 0.5, 0.06];
        for (a, w) in adj.iter().zip(want) {
            assert!(close(*a, w, 1e-12), "{adj:?}");
        }
        // 0.8 × 2 = 1.6, capped at 1; the larger p cannot adjust lower.
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
        assert_eq!(holm(&[0.2, 0.01]), vec![0.2, 0.02]);
        assert!(holm(&[]).is_empty());
    }
}
