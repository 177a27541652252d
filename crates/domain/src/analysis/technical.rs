//! The technical analyst: a deterministic view of a security from its daily bars alone,
//! combining trend, momentum, mean reversion and volatility regime with fixed weights.

use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;

use super::signal::{AnalystSignal, Confidence, Input, Signal};
use super::technical_figures::{
    ADX_PERIOD, BOLLINGER, EMA_LONG, EMA_SHORT, Figures, MACD_PERIODS, ROC_PERIODS, RSI_PERIOD,
    SESSIONS_PER_YEAR, VOL_WINDOW, ZSCORE_WINDOW, figures,
};
use crate::market::{DailyBar, Symbol};

/// Name the technical analyst signs its views with.
pub const TECHNICAL_ANALYST: &str = "technical";

/// Bars needed for every reading: the slow EMA of the long trend is the longest warm-up.
pub const TECHNICAL_MIN_BARS: usize = EMA_LONG.1;

/// A weighted score above this is bullish, below its negative bearish.
pub const TECHNICAL_SIGNAL_THRESHOLD: f64 = 0.2;

/// The components, each scored in [−1, 1], and their weights (summing to 1, so the
/// weighted score stays in [−1, 1]). Trend leads because it is the slowest, most reliable
/// reading; volatility only hints at direction (calm markets favour holders).
pub const TECHNICAL_WEIGHTS: [(&str, f64); 4] = [
    ("trend", 0.35),
    ("momentum", 0.30),
    ("mean_reversion", 0.20),
    ("volatility", 0.15),
];

/// What the technical analyst reads and how it weighs it, in one sentence built from the
/// constants the code uses: the API's analyst catalogue and docs/research.md show this text.
pub fn technical_description() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let weights: Vec<String> = TECHNICAL_WEIGHTS
            .iter()
            .map(|(_, w)| format!("{w:.2}"))
            .collect();
        let (fast, slow, signal) = MACD_PERIODS;
        format!(
            "Trend (EMA {}/{} and EMA {}/{} crossovers, ADX {ADX_PERIOD}), momentum (RSI \
             {RSI_PERIOD}, MACD {fast}/{slow}/{signal}, {}- and {}-day rate of change), mean \
             reversion (z-score of the close over {ZSCORE_WINDOW} bars, position in the \
             Bollinger {}/{} bands) and volatility regime ({VOL_WINDOW}-day realised \
             volatility against its {SESSIONS_PER_YEAR}-bar median), weighted {}; above \
             {TECHNICAL_SIGNAL_THRESHOLD} bullish, below −{TECHNICAL_SIGNAL_THRESHOLD} \
             bearish; needs {TECHNICAL_MIN_BARS} bars",
            EMA_SHORT.0,
            EMA_SHORT.1,
            EMA_LONG.0,
            EMA_LONG.1,
            ROC_PERIODS.0,
            ROC_PERIODS.1,
            BOLLINGER.0,
            BOLLINGER.1,
            weights.join("/"),
        )
    });
    TEXT.as_str()
}

/// ADX at which the trend component counts fully; ADX 20 (the usual "no trend" line)
/// halves it.
const ADX_FULL_STRENGTH: f64 = 40.0;

/// Ratios of realised volatility to its median are capped here, so a spike after a dead
/// calm year stays finite.
const MAX_VOL_RATIO: f64 = 3.0;

/// The technical view of `symbol` as of `as_of`, from its bars dated on or before `as_of`
/// (later bars are ignored; order of the slice does not matter, duplicate dates keep the
/// last). Unadjusted bars are accepted, but a split inside the window reads as a crash.
///
/// Scores (each in [−1, 1]):
/// - trend: `(0.4 × sign(EMA8 − EMA21) + 0.6 × sign(EMA50 − EMA200)) × min(1, ADX14 / 40)`;
///   `long_trend_state` is +1 in the golden-cross state (EMA50 above EMA200), −1 in the
///   death-cross state;
/// - momentum: mean of `clamp((RSI14 − 50) / 25)`, `0.5 × sign(hist) + 0.5 × sign(hist −
///   previous hist)` of MACD(12, 26, 9), and `0.5 × clamp(ROC20 / 10) + 0.5 × clamp(ROC60 / 20)`;
/// - mean reversion (contrarian): mean of `clamp(−z / 2)` with z the close's z-score over 50
///   bars (distance from SMA 50 in standard deviations) and `clamp(1 − 2 × %B)` of
///   Bollinger(20, 2);
/// - volatility: `clamp(1 − ratio)` with ratio = 20-day realised volatility over the median
///   of that volatility across the last 252 bars (fewer if less history, at least 180).
///
/// The weighted score ([`TECHNICAL_WEIGHTS`]) gives the signal against
/// [`TECHNICAL_SIGNAL_THRESHOLD`]. Confidence is `round(|score| × damping × 100)`, where
/// `damping = min(1, 1 / ratio)`: volatility above its usual level makes any reading less
/// trustworthy. With fewer than [`TECHNICAL_MIN_BARS`] bars the view is `InsufficientData`.
pub fn technical(symbol: &Symbol, bars: &[DailyBar], as_of: NaiveDate) -> AnalystSignal {
    let mut usable: Vec<&DailyBar> = bars.iter().filter(|b| b.trade_date <= as_of).collect();
    usable.sort_by_key(|bar| bar.trade_date);
    usable.dedup_by(|later, earlier| {
        let same = later.trade_date == earlier.trade_date;
        if same {
            *earlier = *later;
        }
        same
    });
    let insufficient = |missing: String| {
        AnalystSignal::insufficient(TECHNICAL_ANALYST, symbol.clone(), missing, Vec::new())
    };
    if usable.len() < TECHNICAL_MIN_BARS {
        return insufficient(format!(
            "has {} daily bars up to {as_of}, needs at least {TECHNICAL_MIN_BARS}",
            usable.len()
        ));
    }
    let mut series = [const { Vec::new() }; 3];
    for bar in &usable {
        for (values, price) in series.iter_mut().zip([bar.high, bar.low, bar.close]) {
            match price.to_f64() {
                Some(value) => values.push(value),
                None => {
                    return insufficient(format!(
                        "price {price} of the {} bar is not representable",
                        bar.trade_date
                    ));
                }
            }
        }
    }
    let [high, low, close] = series;
    let figures = match figures(&high, &low, &close) {
        Ok(figures) => figures,
        Err(missing) => return insufficient(missing),
    };
    // At least TECHNICAL_MIN_BARS ≥ 2 bars were checked above, so both indices exist.
    let last = usable[usable.len() - 1].trade_date;
    let before_last = usable[usable.len() - 2].trade_date;
    assess(symbol, &figures, last, before_last)
}

/// Component scores in [`TECHNICAL_WEIGHTS`] order, plus the two cross states.
struct Scores {
    components: [f64; 4],
    short_state: f64,
    long_state: f64,
    vol_ratio: f64,
}

fn score(f: &Figures) -> Scores {
    let short_state = sign(f.ema_8 - f.ema_21);
    let long_state = sign(f.ema_50 - f.ema_200);
    let strength = (f.adx_14 / ADX_FULL_STRENGTH).min(1.0);
    let trend = (0.4 * short_state + 0.6 * long_state) * strength;

    let rsi = clamp((f.rsi_14 - 50.0) / 25.0);
    let histogram =
        0.5 * sign(f.macd_histogram) + 0.5 * sign(f.macd_histogram - f.macd_histogram_prev);
    let rate = 0.5 * clamp(f.roc_20 / 10.0) + 0.5 * clamp(f.roc_60 / 20.0);
    let momentum = (rsi + histogram + rate) / 3.0;

    let mean_reversion = (clamp(-f.zscore_50 / 2.0) + clamp(1.0 - 2.0 * f.percent_b)) / 2.0;

    let vol_ratio = if f.realised_vol_median > 0.0 {
        (f.realised_vol_20 / f.realised_vol_median).min(MAX_VOL_RATIO)
    } else if f.realised_vol_20 > 0.0 {
        MAX_VOL_RATIO
    } else {
        1.0
    };
    let volatility = clamp(1.0 - vol_ratio);
    Scores {
        components: [trend, momentum, mean_reversion, volatility],
        short_state,
        long_state,
        vol_ratio,
    }
}

fn assess(symbol: &Symbol, f: &Figures, last: NaiveDate, before_last: NaiveDate) -> AnalystSignal {
    let scores = score(f);
    let weighted: f64 = TECHNICAL_WEIGHTS
        .iter()
        .zip(scores.components)
        .map(|((_, weight), component)| weight * component)
        .sum();
    let damping = (1.0 / scores.vol_ratio).min(1.0);
    let signal = Signal::from_score(weighted, TECHNICAL_SIGNAL_THRESHOLD);
    let confidence = Confidence::from_fraction(weighted * damping);

    let mut inputs: Vec<Input> = f
        .named()
        .into_iter()
        .map(|(name, value)| {
            let as_of = if name == "macd_histogram_prev" {
                before_last
            } else {
                last
            };
            Input::new(name, value, as_of)
        })
        .collect();
    let derived = [
        ("short_trend_state", scores.short_state),
        ("long_trend_state", scores.long_state),
        ("volatility_ratio", scores.vol_ratio),
        ("confidence_damping", damping),
        ("weighted_score", weighted),
    ];
    let components = TECHNICAL_WEIGHTS
        .iter()
        .zip(scores.components)
        .map(|((name, _), value)| (format!("{name}_score"), value));
    inputs.extend(derived.map(|(name, value)| Input::new(name, value, last)));
    inputs.extend(components.map(|(name, value)| Input::new(name, value, last)));

    let parts: Vec<String> = TECHNICAL_WEIGHTS
        .iter()
        .zip(scores.components)
        .map(|((name, weight), value)| format!("{name} {value:+.2} (weight {weight:.2})"))
        .collect();
    let cross = match scores.long_state {
        s if s > 0.0 => "golden-cross state (EMA50 above EMA200)",
        s if s < 0.0 => "death-cross state (EMA50 below EMA200)",
        _ => "EMA50 equal to EMA200",
    };
    let reasoning = format!(
        "{signal}: weighted score {weighted:+.3} as of {last} from {}; {cross}, ADX {:.1}; \
         20-day volatility at {:.2}× its 1-year median, confidence damped by {:.0} %",
        parts.join(", "),
        f.adx_14,
        scores.vol_ratio,
        (1.0 - damping) * 100.0,
    );
    AnalystSignal {
        analyst: TECHNICAL_ANALYST.to_owned(),
        symbol: symbol.clone(),
        signal,
        confidence,
        reasoning,
        inputs,
    }
}

/// −1, 0 or +1; 0 for NaN too (readings are checked finite before scoring).
fn sign(value: f64) -> f64 {
    if value > 0.0 {
        1.0
    } else if value < 0.0 {
        -1.0
    } else {
        0.0
    }
}

fn clamp(value: f64) -> f64 {
    value.clamp(-1.0, 1.0)
}

#[cfg(test)]
#[path = "technical_tests.rs"]
mod tests;
