//! What a market charges and allows: costs, lots, T+1, price limits by board, shorts. Two
//! presets (`CN`, `US`); every value can be overridden and is checked.

use thiserror::Error;

/// Costs of one order. Rates are fractions of the order's value (0.00025 = 0.025 %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Costs {
    /// Commission rate, both sides.
    pub commission_rate: f64,
    /// Smallest commission of an order that fills, in the market's currency.
    pub commission_min: f64,
    /// Stamp duty rate, on sells only.
    pub stamp_duty_rate: f64,
    /// Transfer fee rate, both sides.
    pub transfer_fee_rate: f64,
    /// Slippage as a fraction of the price, against the trader (5 bp = 0.0005).
    pub slippage: f64,
}

impl Costs {
    /// The commission of an order of `value`: the rate, at least the minimum.
    pub fn commission(&self, value: f64) -> f64 {
        (self.commission_rate * value).max(self.commission_min)
    }
}

crate::code_enum! {
    /// Which price of the day after the signal an order fills at.
    pub enum FillAt as "fill" {
        /// The next trading day's open.
        NextOpen = "next_open",
        /// The next trading day's close.
        NextClose = "next_close",
    }
}

impl FillAt {
    /// # Errors
    /// A [`RuleError`] on `fill` naming the allowed values.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        text.parse()
            .map_err(|e: crate::market::UnknownCode| RuleError::new("fill", e.not_one_of()))
    }
}

/// Short selling: a short credits its proceeds, holds `margin_rate` × its value of the cash
/// aside, and pays `borrow_fee_rate` a year of its value, charged daily over 252 days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShortRules {
    pub margin_rate: f64,
    pub borrow_fee_rate: f64,
}

impl Default for ShortRules {
    fn default() -> Self {
        Self {
            margin_rate: 0.5,
            borrow_fee_rate: 0.0,
        }
    }
}

/// An A-share board, which decides the daily price limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Board {
    /// Shanghai (60xxxx) and Shenzhen (000/001/002/003xxx) main boards: ±10 %.
    Main,
    /// A main-board ST stock: ±5 %.
    MainSt,
    /// STAR market (688xxx): ±20 %, ST too.
    Star,
    /// ChiNext (300/301xxx): ±20 %, ST too.
    ChiNext,
    /// Beijing Stock Exchange (8xxxxx, 4xxxxx, 92xxxx): ±30 %.
    Beijing,
}

impl Board {
    /// The board of a six-digit A-share code (`600519`, `600519.SH`), or `None` for anything
    /// else (a US ticker has no board and no limit).
    pub fn of_code(code: &str, st: bool) -> Option<Self> {
        let digits = code.split('.').next().unwrap_or_default();
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let board = if digits.starts_with("688") {
            Self::Star
        } else if digits.starts_with("300") || digits.starts_with("301") {
            Self::ChiNext
        } else if digits.starts_with("92") || digits.starts_with('8') || digits.starts_with('4') {
            Self::Beijing
        } else if digits.starts_with("60")
            || ["000", "001", "002", "003"]
                .iter()
                .any(|p| digits.starts_with(p))
        {
            if st { Self::MainSt } else { Self::Main }
        } else {
            return None;
        };
        Some(board)
    }

    /// The daily limit as a fraction of the previous close.
    pub fn limit(self) -> f64 {
        match self {
            Self::Main => 0.10,
            Self::MainSt => 0.05,
            Self::Star | Self::ChiNext => 0.20,
            Self::Beijing => 0.30,
        }
    }

    /// Limit-up and limit-down prices from the previous close, rounded to 0.01.
    pub fn limits(self, previous_close: f64) -> (f64, f64) {
        let round = |p: f64| (p * 100.0).round() / 100.0;
        (
            round(previous_close * (1.0 + self.limit())),
            round(previous_close * (1.0 - self.limit())),
        )
    }
}

/// Everything the simulator applies besides the prices.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub costs: Costs,
    /// Buys are whole multiples of this many shares.
    pub lot: u32,
    /// Shares bought on a day can be sold from the next trading day.
    pub t_plus_one: bool,
    /// Buys at limit-up and sells at limit-down do not fill (boards from the symbols' codes).
    pub price_limits: bool,
    /// `None`: long-only.
    pub shorts: Option<ShortRules>,
    pub fill: FillAt,
}

impl Rules {
    /// China A-shares: commission 0.025 % (min 5), stamp duty 0.05 % on sells, transfer fee
    /// 0.001 %, lots of 100, slippage 5 bp, T+1, price limits, no shorts.
    pub fn cn() -> Self {
        Self {
            costs: Costs {
                commission_rate: 0.000_25,
                commission_min: 5.0,
                stamp_duty_rate: 0.000_5,
                transfer_fee_rate: 0.000_01,
                slippage: 0.000_5,
            },
            lot: 100,
            t_plus_one: true,
            price_limits: true,
            shorts: None,
            fill: FillAt::NextOpen,
        }
    }

    /// US equities: commission 0.05 % (min 1), lots of 1, slippage 5 bp, no stamp duty, no
    /// T+1, no limits; shorts off unless enabled.
    pub fn us() -> Self {
        Self {
            costs: Costs {
                commission_rate: 0.000_5,
                commission_min: 1.0,
                stamp_duty_rate: 0.0,
                transfer_fee_rate: 0.0,
                slippage: 0.000_5,
            },
            lot: 1,
            t_plus_one: false,
            price_limits: false,
            shorts: None,
            fill: FillAt::NextOpen,
        }
    }

    /// The preset of a market code (`CN`, `US`).
    pub fn preset(market: &str) -> Result<Self, RuleError> {
        match market.to_ascii_uppercase().parse::<crate::market::Market>() {
            Ok(crate::market::Market::Cn) => Ok(Self::cn()),
            Ok(crate::market::Market::Us) => Ok(Self::us()),
            Err(e) => {
                let asked = crate::market::UnknownCode {
                    input: market.to_owned(),
                    ..e
                };
                Err(RuleError::new("market", asked.not_one_of()))
            }
        }
    }

    /// Every value within its range, each problem naming its option.
    pub fn check(&self) -> Result<(), RuleError> {
        let c = &self.costs;
        let rates = [
            ("commission", c.commission_rate),
            ("stamp-duty", c.stamp_duty_rate),
            ("transfer-fee", c.transfer_fee_rate),
            ("slippage", c.slippage),
        ];
        for (name, rate) in rates {
            if !(0.0..0.1).contains(&rate) {
                return Err(RuleError::new(
                    name,
                    format!("{rate} is not a rate in [0, 0.1) (0.0005 = 0.05 %)"),
                ));
            }
        }
        if !(c.commission_min >= 0.0 && c.commission_min.is_finite()) {
            return Err(RuleError::new(
                "min-commission",
                format!("{} is not an amount ≥ 0", c.commission_min),
            ));
        }
        if self.lot == 0 {
            return Err(RuleError::new("lot", "must be at least 1"));
        }
        if let Some(s) = &self.shorts {
            if !(0.0..=1.0).contains(&s.margin_rate) || s.margin_rate.is_nan() {
                return Err(RuleError::new(
                    "short-margin",
                    format!("{} is not a rate in [0, 1]", s.margin_rate),
                ));
            }
            if !(0.0..1.0).contains(&s.borrow_fee_rate) {
                return Err(RuleError::new(
                    "borrow-fee",
                    format!("{} is not a yearly rate in [0, 1)", s.borrow_fee_rate),
                ));
            }
        }
        Ok(())
    }
}

/// A rule or option out of range, naming it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{option}: {message}")]
pub struct RuleError {
    pub option: &'static str,
    pub message: String,
}

impl RuleError {
    pub fn new(option: &'static str, message: impl Into<String>) -> Self {
        Self {
            option,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boards_by_code_and_their_limits() {
        assert_eq!(Board::of_code("600519.SH", false), Some(Board::Main));
        assert_eq!(Board::of_code("000001", true), Some(Board::MainSt));
        assert_eq!(Board::of_code("688981.SH", true), Some(Board::Star));
        assert_eq!(Board::of_code("300750.SZ", false), Some(Board::ChiNext));
        assert_eq!(Board::of_code("830799.BJ", false), Some(Board::Beijing));
        assert_eq!(Board::of_code("920001", false), Some(Board::Beijing));
        assert_eq!(Board::of_code("AAPL", false), None);
        // 7.33 × 1.05 = 7.6965 → 7.70 and 7.33 × 0.95 = 6.9635 → 6.96.
        let (up, down) = Board::Main.limits(10.0);
        assert_eq!((up, down), (11.0, 9.0));
        let (up, down) = Board::MainSt.limits(7.33);
        assert_eq!((up, down), (7.7, 6.96));
        assert_eq!(Board::Beijing.limits(10.0), (13.0, 7.0));
    }

    #[test]
    fn out_of_range_options_are_named() {
        let mut rules = Rules::cn();
        rules.costs.commission_rate = -0.1;
        assert_eq!(rules.check().unwrap_err().option, "commission");
        let mut rules = Rules::us();
        rules.lot = 0;
        assert_eq!(rules.check().unwrap_err().option, "lot");
        assert_eq!(Rules::preset("HK").unwrap_err().option, "market");
        assert!(Rules::preset("cn").is_ok());
        assert_eq!(FillAt::parse("same_close").unwrap_err().option, "fill");
    }
}
