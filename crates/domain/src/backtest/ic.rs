//! The information coefficient: how well a score ranks the returns that follow it. Pearson's
//! correlation of the values, Spearman's of their ranks (ties get their average rank, as
//! scipy's `spearmanr`), the t-statistic `r √((n − 2) / (1 − r²))` and the hit rate.

/// The IC of one set of `(score, return)` pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InformationCoefficient {
    /// Pairs with both values finite.
    pub observations: usize,
    pub pearson: f64,
    pub spearman: f64,
    /// t-statistic of the Pearson IC (n − 2 degrees of freedom).
    pub t_stat: f64,
    /// Share of pairs whose score and return have the same sign, among pairs where neither is 0.
    pub hit_rate: f64,
}

/// Pearson's r of two equally long series; `NaN` when either is constant or shorter than 2.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return f64::NAN;
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let (mx, my) = (
        x[..n].iter().sum::<f64>() / nf,
        y[..n].iter().sum::<f64>() / nf,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (dx, dy) = (x[i] - mx, y[i] - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    (sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0)
}

/// Ranks from 1, ties sharing their average rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|a, b| x[*a].total_cmp(&x[*b]));
    let mut out = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        #[allow(clippy::cast_precision_loss)]
        let average = (i + j) as f64 / 2.0 + 1.0;
        for k in &order[i..=j] {
            out[*k] = average;
        }
        i = j + 1;
    }
    out
}

/// The IC of `scores` against `returns` (pairs with a non-finite value are left out).
pub fn information_coefficient(scores: &[f64], returns: &[f64]) -> InformationCoefficient {
    let (x, y): (Vec<f64>, Vec<f64>) = scores
        .iter()
        .zip(returns)
        .filter(|(s, r)| s.is_finite() && r.is_finite())
        .map(|(s, r)| (*s, *r))
        .unzip();
    let n = x.len();
    let r = pearson(&x, &y);
    let spearman = pearson(&ranks(&x), &ranks(&y));
    #[allow(clippy::cast_precision_loss)]
    let t_stat = if n > 2 && r.abs() < 1.0 {
        r * ((n as f64 - 2.0) / (1.0 - r * r)).sqrt()
    } else {
        f64::NAN
    };
    let signed: Vec<(f64, f64)> = x
        .iter()
        .zip(&y)
        .filter(|(s, r)| **s != 0.0 && **r != 0.0)
        .map(|(s, r)| (*s, *r))
        .collect();
    #[allow(clippy::cast_precision_loss)]
    let hit_rate = if signed.is_empty() {
        f64::NAN
    } else {
        signed
            .iter()
            .filter(|(s, r)| s.signum() == r.signum())
            .count() as f64
            / signed.len() as f64
    };
    InformationCoefficient {
        observations: n,
        pearson: r,
        spearman,
        t_stat,
        hit_rate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 5.0]), [2.5, 4.0, 2.5, 1.0]);
    }

    #[test]
    fn a_hand_case() {
        let scores = [1.0, 2.0, 3.0, 4.0, -1.0];
        let returns = [0.01, 0.03, 0.02, 0.05, -0.02];
        let ic = information_coefficient(&scores, &returns);
        assert_eq!(ic.observations, 5);
        // Ranks (2,3,4,5,1) vs (2,4,3,5,1): Σd² = 2 → ρ = 1 − 6·2 / (5·24) = 0.9.
        assert!((ic.spearman - 0.9).abs() < 1e-12);
        assert!(ic.pearson > 0.9 && ic.pearson < 1.0);
        let expected_t = ic.pearson * (3.0 / (1.0 - ic.pearson * ic.pearson)).sqrt();
        assert!((ic.t_stat - expected_t).abs() < 1e-12);
        assert_eq!(ic.hit_rate, 1.0);
    }

    #[test]
    fn constant_or_missing_values_give_undefined_not_infinite() {
        let ic = information_coefficient(&[1.0, 1.0, 1.0], &[0.1, 0.2, f64::NAN]);
        assert_eq!(ic.observations, 2);
        assert!(ic.pearson.is_nan() && ic.spearman.is_nan() && ic.t_stat.is_nan());
    }
}
