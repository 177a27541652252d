//! The valuation analyst: an owner-earnings DCF and three multiples (P/E, P/B, EV/EBITDA)
//! compared with the security's own history. It refuses to guess: without a market
//! capitalisation, or without either a DCF or any usable multiple, the view is
//! `InsufficientData` naming what is missing.

use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::signal::{AnalystSignal, Confidence, Input, Signal};
use crate::market::{
    DailyValuation, FinancialIndicators, FinancialStatement, ReportPeriod, Symbol,
};

/// Name the valuation analyst signs its views with.
pub const VALUATION_ANALYST: &str = "valuation";

/// An overall score above this is bullish, below its negative bearish.
pub const VALUATION_SIGNAL_THRESHOLD: f64 = 0.2;

/// The DCF's assumptions and how gaps become scores; one table, documented in
/// `docs/research.md`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValuationParams {
    /// Annual discount rate of the DCF.
    pub discount_rate: f64,
    /// Growth after the explicit years (must be below the discount rate).
    pub terminal_growth: f64,
    /// Explicit forecast years.
    pub years: u32,
    /// Growth used in the explicit years is the reported revenue growth clamped to
    /// `[0, max_growth]`.
    pub max_growth: f64,
    /// A DCF gap of `±2 × margin_of_safety` scores ±1 (so the margin itself scores ±0.5).
    pub margin_of_safety: f64,
    /// A multiple 50 % below (above) its own median scores +1 (−1).
    pub multiple_band: f64,
    /// History the multiples are compared with, in calendar days before `as_of`.
    pub history_days: i64,
    /// Fewer observations than this in the history and a multiple is left out.
    pub min_history: usize,
    /// Share of the overall score that is the DCF when both parts are present.
    pub dcf_weight: f64,
}

impl Default for ValuationParams {
    fn default() -> ValuationParams {
        ValuationParams {
            discount_rate: 0.10,
            terminal_growth: 0.025,
            years: 5,
            max_growth: 0.15,
            margin_of_safety: 0.25,
            multiple_band: 0.5,
            history_days: 3 * 365,
            min_history: 60,
            dcf_weight: 0.5,
        }
    }
}

fn f(value: Option<Decimal>) -> Option<f64> {
    value.and_then(|v| v.to_f64()).filter(|v| v.is_finite())
}

/// Items of the annual statements dated `date` merged across income, balance and cash flow.
#[derive(Debug, Default, Clone, Copy)]
struct Annual {
    date: Option<NaiveDate>,
    revenue: Option<f64>,
    net_income: Option<f64>,
    depreciation: Option<f64>,
    capex: Option<f64>,
    ebitda: Option<f64>,
    debt: Option<f64>,
    cash: Option<f64>,
}

/// Annual statements known at `as_of` ([`FinancialStatement::known_on`]: announced by then,
/// or past the publication lag when the announcement date is unknown), merged per report
/// date, newest first.
fn annuals(symbol: &Symbol, statements: &[FinancialStatement], as_of: NaiveDate) -> Vec<Annual> {
    let mut dates: Vec<NaiveDate> = statements
        .iter()
        .filter(|s| {
            s.symbol == *symbol && s.period == ReportPeriod::Annual && s.known_on() <= as_of
        })
        .map(|s| s.report_date)
        .collect();
    dates.sort_unstable_by(|a, b| b.cmp(a));
    dates.dedup();
    dates
        .into_iter()
        .map(|date| {
            let mut a = Annual {
                date: Some(date),
                ..Annual::default()
            };
            for s in statements.iter().filter(|s| {
                s.symbol == *symbol && s.period == ReportPeriod::Annual && s.report_date == date
            }) {
                let i = &s.items;
                a.revenue = a.revenue.or(f(i.revenue));
                a.net_income = a.net_income.or(f(i.net_income));
                a.depreciation = a.depreciation.or(f(i.depreciation_and_amortization));
                a.capex = a.capex.or(f(i.capital_expenditure));
                a.ebitda = a.ebitda.or(f(i.ebitda));
                a.debt = a.debt.or(f(i.total_debt));
                a.cash = a.cash.or(f(i.cash_and_equivalents));
            }
            a
        })
        .collect()
}

/// Present value of owner earnings growing at `growth` for `years`, then at the terminal
/// rate forever, discounted at the discount rate.
pub fn owner_earnings_dcf(owner_earnings: f64, growth: f64, params: &ValuationParams) -> f64 {
    let r = params.discount_rate;
    let mut value = 0.0;
    let mut flow = owner_earnings;
    let mut discount = 1.0;
    for _ in 0..params.years {
        flow *= 1.0 + growth;
        discount *= 1.0 + r;
        value += flow / discount;
    }
    let terminal = flow * (1.0 + params.terminal_growth) / (r - params.terminal_growth);
    value + terminal / discount
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// The valuation view of `symbol` as of `as_of`.
///
/// - **DCF**: owner earnings = net income + depreciation & amortisation − |capital
///   expenditure| of the latest annual statements known at `as_of`; growth = the latest
///   reported revenue growth (indicators, else the change between the last two annual
///   revenues) clamped to `[0, max_growth]`; intrinsic value by [`owner_earnings_dcf`]; gap =
///   intrinsic / market cap − 1; score = `clamp(gap / (2 × margin_of_safety), −1, 1)`.
/// - **Multiples**: P/E (TTM, else static) and P/B on `as_of`'s latest valuation against their
///   median over `history_days` (at least `min_history` positive observations), and EV/EBITDA
///   (EV = market cap + debt − cash of the latest annual statements at each date) likewise;
///   each scores `−clamp((current / median − 1) / multiple_band, −1, 1)`; non-positive
///   multiples are meaningless and left out.
/// - Overall: `dcf_weight × dcf + (1 − dcf_weight) × mean(multiples)` when both exist, else
///   whichever exists; signal against [`VALUATION_SIGNAL_THRESHOLD`]; confidence `|score|`.
pub fn valuation(
    symbol: &Symbol,
    valuations: &[DailyValuation],
    statements: &[FinancialStatement],
    indicators: &[FinancialIndicators],
    as_of: NaiveDate,
    params: &ValuationParams,
) -> AnalystSignal {
    let mut history: Vec<&DailyValuation> = valuations
        .iter()
        .filter(|v| v.symbol == *symbol && v.trade_date <= as_of)
        .collect();
    history.sort_by_key(|v| v.trade_date);
    let Some((latest, cap)) = history
        .iter()
        .rev()
        .find_map(|v| f(v.total_market_cap).filter(|c| *c > 0.0).map(|c| (*v, c)))
    else {
        return AnalystSignal::insufficient(
            VALUATION_ANALYST,
            symbol.clone(),
            format!(
                "no market capitalisation of {symbol} on or before {as_of}; sync daily valuations"
            ),
            Vec::new(),
        );
    };
    let today = latest.trade_date;
    let mut inputs = vec![Input::new("market_cap", cap, today)];
    let mut notes = Vec::new();
    let years = annuals(symbol, statements, as_of);

    // DCF
    let dcf = match years.first() {
        None => {
            notes.push("DCF: no annual statements".to_owned());
            None
        }
        Some(a) => {
            let date = a.date.unwrap_or(today);
            match (a.net_income, a.depreciation, a.capex) {
                (Some(ni), Some(da), Some(capex)) => {
                    let oe = ni + da - capex.abs();
                    let growth_reported = indicators
                        .iter()
                        .filter(|i| i.symbol == *symbol && i.report_date <= as_of)
                        .max_by_key(|i| i.report_date)
                        .and_then(|i| f(i.revenue_growth).map(|g| (g, i.report_date)))
                        .or_else(|| match (years.first(), years.get(1)) {
                            (Some(now), Some(before)) => match (now.revenue, before.revenue) {
                                (Some(r1), Some(r0)) if r0 > 0.0 => Some((r1 / r0 - 1.0, date)),
                                _ => None,
                            },
                            _ => None,
                        });
                    let growth = match growth_reported {
                        Some((g, when)) => {
                            inputs.push(Input::new("revenue_growth", g, when));
                            g.clamp(0.0, params.max_growth)
                        }
                        None => {
                            notes.push(
                                "DCF: no revenue growth reported; explicit years grow at 0"
                                    .to_owned(),
                            );
                            0.0
                        }
                    };
                    let intrinsic = owner_earnings_dcf(oe, growth, params);
                    let gap = intrinsic / cap - 1.0;
                    inputs.push(Input::new("net_income", ni, date));
                    inputs.push(Input::new("depreciation_and_amortization", da, date));
                    inputs.push(Input::new("capital_expenditure", capex, date));
                    inputs.push(Input::new("owner_earnings", oe, date));
                    inputs.push(Input::new("growth_used", growth, date));
                    inputs.push(Input::new("intrinsic_value", intrinsic, today));
                    inputs.push(Input::new("dcf_gap", gap, today));
                    let score = (gap / (2.0 * params.margin_of_safety)).clamp(-1.0, 1.0);
                    notes.push(format!(
                        "DCF: owner earnings {oe:.0} growing {:.1} % give {intrinsic:.0} vs market cap {cap:.0} ({:+.1} %)",
                        growth * 100.0,
                        gap * 100.0
                    ));
                    Some(score)
                }
                (ni, da, capex) => {
                    let missing: Vec<&str> = [
                        ("net_income", ni),
                        ("depreciation_and_amortization", da),
                        ("capital_expenditure", capex),
                    ]
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(n, _)| *n)
                    .collect();
                    notes.push(format!(
                        "DCF: annual statements of {date} lack {}",
                        missing.join(", ")
                    ));
                    None
                }
            }
        }
    };

    // Multiples against their own history.
    let since = as_of - Duration::days(params.history_days);
    let window: Vec<&&DailyValuation> = history.iter().filter(|v| v.trade_date >= since).collect();
    let mut multiple_scores = Vec::new();
    let mut judge = |name: &str,
                     current: Option<f64>,
                     past: Vec<f64>,
                     inputs: &mut Vec<Input>,
                     notes: &mut Vec<String>| {
        let Some(current) = current.filter(|c| *c > 0.0) else {
            notes.push(format!("{name}: none positive on {today}"));
            return;
        };
        let mut past: Vec<f64> = past
            .into_iter()
            .filter(|v| *v > 0.0 && v.is_finite())
            .collect();
        if past.len() < params.min_history {
            notes.push(format!(
                "{name}: {} of the {} observations of history needed",
                past.len(),
                params.min_history
            ));
            return;
        }
        let Some(med) = median(&mut past) else { return };
        let rel = current / med - 1.0;
        let score = -(rel / params.multiple_band).clamp(-1.0, 1.0);
        inputs.push(Input::new(name, current, today));
        inputs.push(Input::new(format!("{name}_median"), med, today));
        notes.push(format!(
            "{name} {current:.2} vs own median {med:.2} ({:+.1} %)",
            rel * 100.0
        ));
        multiple_scores.push(score);
    };
    let pe = |v: &DailyValuation| f(v.pe_ttm).or(f(v.pe));
    judge(
        "pe",
        pe(latest),
        window.iter().filter_map(|v| pe(v)).collect(),
        &mut inputs,
        &mut notes,
    );
    judge(
        "pb",
        f(latest.pb),
        window.iter().filter_map(|v| f(v.pb)).collect(),
        &mut inputs,
        &mut notes,
    );
    let ev_ebitda = |v: &DailyValuation| {
        let cap = f(v.total_market_cap)?;
        let a = years
            .iter()
            .find(|a| a.date.is_some_and(|d| d <= v.trade_date))?;
        let ebitda = a.ebitda.filter(|e| *e > 0.0)?;
        Some((cap + a.debt.unwrap_or(0.0) - a.cash.unwrap_or(0.0)) / ebitda)
    };
    judge(
        "ev_ebitda",
        ev_ebitda(latest),
        window.iter().filter_map(|v| ev_ebitda(v)).collect(),
        &mut inputs,
        &mut notes,
    );
    let multiples = if multiple_scores.is_empty() {
        None
    } else {
        Some(multiple_scores.iter().sum::<f64>() / multiple_scores.len() as f64)
    };

    let score = match (dcf, multiples) {
        (Some(d), Some(m)) => params.dcf_weight * d + (1.0 - params.dcf_weight) * m,
        (Some(d), None) => d,
        (None, Some(m)) => m,
        (None, None) => {
            return AnalystSignal::insufficient(
                VALUATION_ANALYST,
                symbol.clone(),
                format!(
                    "neither a DCF nor a multiple could be formed: {}",
                    notes.join("; ")
                ),
                inputs,
            );
        }
    };
    inputs.push(Input::new("valuation_score", score, today));
    let signal = Signal::from_score(score, VALUATION_SIGNAL_THRESHOLD);
    AnalystSignal {
        analyst: VALUATION_ANALYST.to_owned(),
        symbol: symbol.clone(),
        signal,
        confidence: Confidence::from_fraction(score),
        reasoning: format!("{signal}: score {score:+.3}; {}", notes.join("; ")),
        inputs,
    }
}

#[cfg(test)]
#[path = "valuation_tests.rs"]
mod tests;
