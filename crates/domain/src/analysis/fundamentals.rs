//! The fundamentals analyst: a deterministic view from the latest reported ratios, judging
//! profitability, growth and financial health against one table of thresholds.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::signal::{AnalystSignal, Confidence, Input, Signal};
use crate::market::{FinancialIndicators, ReportPeriod, Symbol};

/// Name the fundamentals analyst signs its views with.
pub const FUNDAMENTALS_ANALYST: &str = "fundamentals";

/// An overall score above this is bullish, below its negative bearish.
pub const FUNDAMENTALS_SIGNAL_THRESHOLD: f64 = 0.2;

/// Which side of its threshold a metric must be on to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Passing means strictly above the threshold.
    Above,
    /// Passing means strictly below the threshold.
    Below,
}

/// Every rule: (category, metric, threshold as a fraction, passing side). Metric names are
/// [`FinancialIndicators`] field names.
pub const FUNDAMENTAL_THRESHOLDS: [(&str, &str, f64, Better); 7] = [
    ("profitability", "roe", 0.15, Better::Above),
    ("profitability", "net_margin", 0.20, Better::Above),
    ("profitability", "operating_margin", 0.15, Better::Above),
    ("growth", "revenue_growth", 0.10, Better::Above),
    ("growth", "earnings_growth", 0.10, Better::Above),
    ("health", "current_ratio", 1.5, Better::Above),
    ("health", "debt_to_equity", 0.5, Better::Below),
];

const CATEGORIES: [&str; 3] = ["profitability", "growth", "health"];

fn metric(report: &FinancialIndicators, name: &str) -> Option<Decimal> {
    match name {
        "roe" => report.roe,
        "net_margin" => report.net_margin,
        "operating_margin" => report.operating_margin,
        "revenue_growth" => report.revenue_growth,
        "earnings_growth" => report.earnings_growth,
        "current_ratio" => report.current_ratio,
        "debt_to_equity" => report.debt_to_equity,
        _ => None,
    }
}

/// The fundamentals view of `symbol` from the latest of its `reports` dated on or before
/// `as_of` (TTM preferred over annual over quarterly on the same date). `FinancialIndicators`
/// carry no publication date, so callers must not pass reports unpublished at `as_of`.
///
/// Each category scores `(passes − fails) / metrics present` in [−1, 1] and is bullish when
/// positive, bearish when negative, neutral at 0; a category with none of its metrics is
/// insufficient and left out. The overall score is the mean over the categories present,
/// compared with [`FUNDAMENTALS_SIGNAL_THRESHOLD`]; confidence is `round(|score| × 100)`.
pub fn fundamentals(
    symbol: &Symbol,
    reports: &[FinancialIndicators],
    as_of: NaiveDate,
) -> AnalystSignal {
    let rank = |period: ReportPeriod| match period {
        ReportPeriod::Ttm => 2,
        ReportPeriod::Annual => 1,
        ReportPeriod::Quarterly => 0,
    };
    let Some(report) = reports
        .iter()
        .filter(|r| r.symbol == *symbol && r.report_date <= as_of)
        .max_by_key(|r| (r.report_date, rank(r.period)))
    else {
        return AnalystSignal::insufficient(
            FUNDAMENTALS_ANALYST,
            symbol.clone(),
            format!("no financial indicators of {symbol} reported on or before {as_of}"),
            Vec::new(),
        );
    };
    let mut inputs = Vec::new();
    let mut verdicts = Vec::new();
    let mut scores = Vec::new();
    for category in CATEGORIES {
        let (mut passes, mut fails, mut missing) = (0_i32, 0_i32, Vec::new());
        for (_, name, threshold, better) in FUNDAMENTAL_THRESHOLDS
            .iter()
            .filter(|(c, ..)| *c == category)
        {
            match metric(report, name).and_then(|v| v.to_f64()) {
                Some(value) => {
                    inputs.push(Input::new(*name, value, report.report_date));
                    let pass = match better {
                        Better::Above => value > *threshold,
                        Better::Below => value < *threshold,
                    };
                    if pass { passes += 1 } else { fails += 1 }
                }
                None => missing.push(*name),
            }
        }
        let present = passes + fails;
        if present == 0 {
            verdicts.push(format!(
                "{category} {} (missing {})",
                Signal::InsufficientData,
                missing.join(", ")
            ));
            continue;
        }
        let score = f64::from(passes - fails) / f64::from(present);
        scores.push(score);
        inputs.push(Input::new(
            format!("{category}_score"),
            score,
            report.report_date,
        ));
        let mut verdict = format!(
            "{category} {} ({passes} of {present} pass",
            Signal::from_score(score, 0.0)
        );
        if !missing.is_empty() {
            verdict.push_str(&format!("; missing {}", missing.join(", ")));
        }
        verdicts.push(verdict + ")");
    }
    let period = report.period;
    let date = report.report_date;
    if scores.is_empty() {
        return AnalystSignal::insufficient(
            FUNDAMENTALS_ANALYST,
            symbol.clone(),
            format!("{period} report of {date}: {}", verdicts.join("; ")),
            inputs,
        );
    }
    let score = scores.iter().sum::<f64>() / scores.len() as f64;
    inputs.push(Input::new("overall_score", score, date));
    let signal = Signal::from_score(score, FUNDAMENTALS_SIGNAL_THRESHOLD);
    AnalystSignal {
        analyst: FUNDAMENTALS_ANALYST.to_owned(),
        symbol: symbol.clone(),
        signal,
        confidence: Confidence::from_fraction(score),
        reasoning: format!(
            "{signal}: score {score:+.3} from the {period} report of {date}: {}",
            verdicts.join("; ")
        ),
        inputs,
    }
}

#[cfg(test)]
#[path = "fundamentals_tests.rs"]
mod tests;
