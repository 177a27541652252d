//! Metrics of a simulation's daily NAV, each with the convention it follows. Where quantstats
//! (0.0.86) and empyrical (-reloaded 0.7.1) differ, stockpilot follows quantstats, and the
//! oracle test checks both (empyrical given the per-period risk-free rate quantstats derives).

use chrono::NaiveDate;

use super::engine::Day;
use super::engine::SimulationError;

/// How returns are annualised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSettings {
    /// Return periods a year (252 trading days).
    pub periods: f64,
    /// Yearly risk-free rate, de-annualised as `(1 + rf)^(1/periods) − 1` (quantstats).
    pub risk_free: f64,
}

impl Default for MetricSettings {
    fn default() -> Self {
        Self {
            periods: 252.0,
            risk_free: 0.0,
        }
    }
}

/// The largest fall from a peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawdown {
    /// As a positive fraction (0.25 = the NAV fell 25 % below its peak).
    pub depth: f64,
    pub peak: NaiveDate,
    pub trough: NaiveDate,
    /// The first day the NAV was back at the peak, if it was.
    pub recovery: Option<NaiveDate>,
}

/// Every metric of one run. A ratio whose denominator is zero is `NaN` (shown as null).
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Daily returns the metrics are computed from (days − 1).
    pub periods_count: usize,
    pub total_return: f64,
    /// Total return with every cost added back (gross NAV).
    pub gross_total_return: f64,
    pub annual_return: f64,
    pub annual_volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub max_drawdown: Drawdown,
    pub calmar: f64,
    pub win_rate: f64,
    pub turnover: f64,
    pub exposure: f64,
    pub benchmark_total_return: f64,
    pub beta: f64,
    pub alpha: f64,
}

/// `r_t = v_t / v_{t−1} − 1`.
pub fn returns(values: &[f64]) -> Vec<f64> {
    values.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

fn mean(x: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    x.iter().sum::<f64>() / n
}

/// Sample standard deviation (ddof = 1).
fn std(x: &[f64]) -> f64 {
    let m = mean(x);
    #[allow(clippy::cast_precision_loss)]
    let n = x.len() as f64;
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator == 0.0 || !denominator.is_finite() {
        f64::NAN
    } else {
        numerator / denominator
    }
}

/// The deepest drawdown of `values` over `dates` (the first value counts as a peak).
pub fn max_drawdown(dates: &[NaiveDate], values: &[f64]) -> Drawdown {
    let mut peak_i = 0;
    let mut worst = (0.0, 0, 0);
    for (i, v) in values.iter().enumerate() {
        if *v > values[peak_i] {
            peak_i = i;
        }
        let depth = 1.0 - v / values[peak_i];
        if depth > worst.0 {
            worst = (depth, peak_i, i);
        }
    }
    let (depth, peak, trough) = worst;
    let recovery = (trough + 1..values.len())
        .find(|&i| values[i] >= values[peak])
        .filter(|_| depth > 0.0)
        .map(|i| dates[i]);
    Drawdown {
        depth,
        peak: dates[peak],
        trough: dates[trough],
        recovery,
    }
}

/// The metrics of a run's days.
///
/// # Errors
/// Fewer than two days, or a NAV that is not positive.
pub fn metrics(days: &[Day], settings: MetricSettings) -> Result<Metrics, SimulationError> {
    if days.len() < 2 {
        return Err(SimulationError(
            "metrics need at least two days of NAV".into(),
        ));
    }
    if let Some(d) = days.iter().find(|d| !(d.nav > 0.0 && d.nav.is_finite())) {
        return Err(SimulationError(format!(
            "{}: the NAV is {}, not positive: returns are undefined from there",
            d.date, d.nav
        )));
    }
    let p = settings.periods;
    let nav: Vec<f64> = days.iter().map(|d| d.nav).collect();
    let dates: Vec<NaiveDate> = days.iter().map(|d| d.date).collect();
    let r = returns(&nav);
    #[allow(clippy::cast_precision_loss)]
    let n = r.len() as f64;
    let rf = (1.0 + settings.risk_free).powf(1.0 / p) - 1.0;
    let excess: Vec<f64> = r.iter().map(|v| v - rf).collect();

    let first = nav[0];
    let last = nav[nav.len() - 1];
    let total_return = last / first - 1.0;
    let annual_return = (last / first).powf(p / n) - 1.0;
    let annual_volatility = std(&r) * p.sqrt();
    let sharpe = ratio(mean(&excess), std(&excess)) * p.sqrt();
    let downside = (excess
        .iter()
        .filter(|v| **v < 0.0)
        .map(|v| v * v)
        .sum::<f64>()
        / n)
        .sqrt();
    let sortino = ratio(mean(&excess), downside) * p.sqrt();
    let max_drawdown = max_drawdown(&dates, &nav);
    let calmar = ratio(annual_return, max_drawdown.depth);
    let wins = r.iter().filter(|v| **v > 0.0).count();
    let moves = r.iter().filter(|v| **v != 0.0).count();
    #[allow(clippy::cast_precision_loss)]
    let win_rate = ratio(wins as f64, moves as f64);
    let traded: f64 = days.iter().map(|d| d.traded).sum();
    let turnover = traded / 2.0 / mean(&nav) * p / n;
    let exposure = mean(
        &days
            .iter()
            .map(|d| d.gross_exposure / d.nav)
            .collect::<Vec<_>>(),
    );

    let bench: Vec<f64> = days.iter().map(|d| d.benchmark_nav).collect();
    let b = returns(&bench);
    let (beta, alpha) = if b.iter().all(|v| v.is_finite()) {
        let (mr, mb) = (mean(&r), mean(&b));
        let cov: f64 = r
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - mr) * (y - mb))
            .sum::<f64>();
        let var: f64 = b.iter().map(|y| (y - mb).powi(2)).sum::<f64>();
        let beta = ratio(cov, var);
        let residual: Vec<f64> = r
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - rf) - beta * (y - rf))
            .collect();
        (beta, (1.0 + mean(&residual)).powf(p) - 1.0)
    } else {
        (f64::NAN, f64::NAN)
    };
    let gross_total_return = days[days.len() - 1].gross_nav / days[0].gross_nav - 1.0;
    let benchmark_total_return = bench[bench.len() - 1] / bench[0] - 1.0;
    Ok(Metrics {
        periods_count: r.len(),
        total_return,
        gross_total_return,
        annual_return,
        annual_volatility,
        sharpe,
        sortino,
        max_drawdown,
        calmar,
        win_rate,
        turnover,
        exposure,
        benchmark_total_return,
        beta,
        alpha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(navs: &[f64]) -> Vec<Day> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        navs.iter()
            .enumerate()
            .map(|(i, nav)| Day {
                date: start + chrono::Duration::days(i as i64),
                cash: *nav,
                positions_value: 0.0,
                nav: *nav,
                gross_nav: *nav,
                benchmark_nav: 100.0 + i as f64,
                traded: 0.0,
                gross_exposure: 0.0,
            })
            .collect()
    }

    #[test]
    fn a_hand_series() {
        // Returns +10 %, −10 %, +10 %.
        let m = metrics(
            &days(&[100.0, 110.0, 99.0, 108.9]),
            MetricSettings::default(),
        )
        .unwrap();
        assert!((m.total_return - 0.089).abs() < 1e-12);
        assert!((m.annual_return - (1.089f64.powf(84.0) - 1.0)).abs() < 1e-9);
        assert!((m.max_drawdown.depth - 0.1).abs() < 1e-12);
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        assert_eq!(m.max_drawdown.peak, start + chrono::Duration::days(1));
        assert_eq!(m.max_drawdown.trough, start + chrono::Duration::days(2));
        assert_eq!(m.max_drawdown.recovery, None, "108.9 < 110");
        assert!((m.win_rate - 2.0 / 3.0).abs() < 1e-12);
        // mean 1/30, sample std of (0.1, −0.1, 0.1) = √(0.04/3 · 3/2)… = 0.11547.
        let std =
            (((0.1f64 - 1.0 / 30.0).powi(2) * 2.0 + (-0.1f64 - 1.0 / 30.0).powi(2)) / 2.0).sqrt();
        assert!((m.sharpe - (1.0 / 30.0) / std * 252f64.sqrt()).abs() < 1e-9);
        // Downside: √(0.01 / 3).
        assert!((m.sortino - (1.0 / 30.0) / (0.01f64 / 3.0).sqrt() * 252f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn flat_series_have_undefined_ratios_not_infinities() {
        let m = metrics(&days(&[100.0, 100.0, 100.0]), MetricSettings::default()).unwrap();
        assert!(m.sharpe.is_nan() && m.sortino.is_nan() && m.calmar.is_nan());
        assert_eq!(m.max_drawdown.depth, 0.0);
        assert!(m.win_rate.is_nan());
    }

    #[test]
    fn too_short_or_wiped_out_series_are_refused() {
        assert!(metrics(&days(&[100.0]), MetricSettings::default()).is_err());
        let err = metrics(&days(&[100.0, 0.0]), MetricSettings::default()).unwrap_err();
        assert!(err.0.contains("not positive"), "{err}");
    }
}
