//! The indicator readings the technical analyst scores, all taken at the last bar it may see,
//! computed with the domain's indicator kernels so that charts and analyst agree.

use crate::indicators::{adx, bollinger, ema, macd, roc, rsi, sma, zscore};

/// Trading sessions in a year: the window of the realised-volatility median.
pub const SESSIONS_PER_YEAR: usize = 252;
/// Window of the realised volatility, in bars.
pub const VOL_WINDOW: usize = 20;
/// Fast EMA pair of the short trend (periods in bars).
pub const EMA_SHORT: (usize, usize) = (8, 21);
/// Slow EMA pair of the long trend (golden / death cross).
pub const EMA_LONG: (usize, usize) = (50, 200);
/// ADX period (trend strength).
pub const ADX_PERIOD: usize = 14;
/// RSI period.
pub const RSI_PERIOD: usize = 14;
/// MACD fast, slow and signal periods.
pub const MACD_PERIODS: (usize, usize, usize) = (12, 26, 9);
/// Rate-of-change look-backs, short and long.
pub const ROC_PERIODS: (usize, usize) = (20, 60);
/// Window of the close's z-score (distance from its SMA in standard deviations).
pub const ZSCORE_WINDOW: usize = 50;
/// Bollinger band window and width in standard deviations.
pub const BOLLINGER: (usize, f64) = (20, 2.0);

/// Every reading at the last bar (`prev` readings at the bar before it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Figures {
    pub close: f64,
    pub ema_8: f64,
    pub ema_21: f64,
    pub ema_50: f64,
    pub ema_200: f64,
    pub adx_14: f64,
    pub rsi_14: f64,
    pub macd_histogram: f64,
    pub macd_histogram_prev: f64,
    pub roc_20: f64,
    pub roc_60: f64,
    pub sma_50: f64,
    pub zscore_50: f64,
    pub bollinger_upper: f64,
    pub bollinger_lower: f64,
    pub percent_b: f64,
    pub realised_vol_20: f64,
    pub realised_vol_median: f64,
}

impl Figures {
    /// Named figures in a stable order, for the signal's `inputs`.
    pub(super) fn named(&self) -> [(&'static str, f64); 18] {
        [
            ("close", self.close),
            ("ema_8", self.ema_8),
            ("ema_21", self.ema_21),
            ("ema_50", self.ema_50),
            ("ema_200", self.ema_200),
            ("adx_14", self.adx_14),
            ("rsi_14", self.rsi_14),
            ("macd_histogram", self.macd_histogram),
            ("macd_histogram_prev", self.macd_histogram_prev),
            ("roc_20", self.roc_20),
            ("roc_60", self.roc_60),
            ("sma_50", self.sma_50),
            ("zscore_50", self.zscore_50),
            ("bollinger_upper_20_2", self.bollinger_upper),
            ("bollinger_lower_20_2", self.bollinger_lower),
            ("percent_b", self.percent_b),
            ("realised_vol_20", self.realised_vol_20),
            ("realised_vol_median_1y", self.realised_vol_median),
        ]
    }
}

/// The value `back` bars before the last of `n`, when it is defined; `name` is written out
/// only in the error.
fn value_at(
    series: &[f64],
    n: usize,
    back: usize,
    name: impl std::fmt::Display,
) -> Result<f64, String> {
    n.checked_sub(1 + back)
        .and_then(|i| series.get(i).copied())
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("{name} is undefined at the last bar"))
}

/// Readings at the last index of equally long, ascending `high`/`low`/`close` series.
///
/// # Errors
/// A sentence naming the first reading that is undefined at the last bar (too little
/// history, or a zero price making a ratio undefined).
pub(super) fn figures(high: &[f64], low: &[f64], close: &[f64]) -> Result<Figures, String> {
    let n = close.len();
    let at = |series: &[f64], name: &str, back: usize| value_at(series, n, back, name);
    let kernel = |e: crate::indicators::IndicatorError| e.to_string();
    // The last value of an indicator over `period` bars, named (lazily) as "EMA 200".
    let latest = |series: Result<Vec<f64>, crate::indicators::IndicatorError>,
                  indicator: &str,
                  period: usize|
     -> Result<f64, String> {
        value_at(
            &series.map_err(kernel)?,
            n,
            0,
            format_args!("{indicator} {period}"),
        )
    };
    let (fast, slow, signal) = MACD_PERIODS;
    let macd = macd(close, fast, slow, signal).map_err(kernel)?;
    let bands = bollinger(close, BOLLINGER.0, BOLLINGER.1).map_err(kernel)?;
    let upper = at(&bands.upper, "bollinger upper band", 0)?;
    let lower = at(&bands.lower, "bollinger lower band", 0)?;
    let last_close = at(close, "close", 0)?;
    let percent_b = if upper > lower {
        (last_close - lower) / (upper - lower)
    } else {
        // Flat window: the close sits on the middle band.
        0.5
    };
    let vol = realised_vol(close, VOL_WINDOW);
    let realised_vol_median = median(
        vol[n.saturating_sub(SESSIONS_PER_YEAR)..]
            .iter()
            .copied()
            .filter(|v| v.is_finite()),
    )
    .ok_or("the 1-year realised volatility median is undefined")?;
    Ok(Figures {
        close: last_close,
        ema_8: latest(ema(close, EMA_SHORT.0), "EMA", EMA_SHORT.0)?,
        ema_21: latest(ema(close, EMA_SHORT.1), "EMA", EMA_SHORT.1)?,
        ema_50: latest(ema(close, EMA_LONG.0), "EMA", EMA_LONG.0)?,
        ema_200: latest(ema(close, EMA_LONG.1), "EMA", EMA_LONG.1)?,
        adx_14: latest(adx(high, low, close, ADX_PERIOD), "ADX", ADX_PERIOD)?,
        rsi_14: latest(rsi(close, RSI_PERIOD), "RSI", RSI_PERIOD)?,
        macd_histogram: at(&macd.histogram, "MACD histogram", 0)?,
        macd_histogram_prev: at(&macd.histogram, "previous MACD histogram", 1)?,
        roc_20: latest(roc(close, ROC_PERIODS.0), "ROC", ROC_PERIODS.0)?,
        roc_60: latest(roc(close, ROC_PERIODS.1), "ROC", ROC_PERIODS.1)?,
        sma_50: latest(sma(close, ZSCORE_WINDOW), "SMA", ZSCORE_WINDOW)?,
        zscore_50: latest(zscore(close, ZSCORE_WINDOW), "z-score", ZSCORE_WINDOW)?,
        bollinger_upper: upper,
        bollinger_lower: lower,
        percent_b,
        realised_vol_20: at(&vol, "20-day realised volatility", 0)?,
        realised_vol_median,
    })
}

/// Daily (not annualised) realised volatility: the sample standard deviation of the last
/// `window` simple returns `close[i] / close[i − 1] − 1`; first value at index `window`.
pub(super) fn realised_vol(close: &[f64], window: usize) -> Vec<f64> {
    let returns: Vec<f64> = close
        .windows(2)
        .map(|pair| {
            if pair[0] != 0.0 {
                pair[1] / pair[0] - 1.0
            } else {
                f64::NAN
            }
        })
        .collect();
    let mut out = vec![f64::NAN; close.len()];
    for (i, slot) in out.iter_mut().enumerate().skip(window) {
        *slot = sample_std_dev(&returns[i - window..i]);
    }
    out
}

/// Sample (n − 1) standard deviation; NaN for fewer than two values.
pub(crate) fn sample_std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return f64::NAN;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (squares / (values.len() - 1) as f64).sqrt()
}

/// Median (mean of the two middle values for an even count); `None` when empty.
pub(crate) fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => sorted.get(mid).copied(),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}
