//! On which trading days a backtest rebalances: every day, the last trading day of each week
//! (ISO weeks, Monday to Sunday), or the last trading day of each month.

use chrono::{Datelike, NaiveDate};

use super::rules::RuleError;

crate::code_enum! {
    /// How often a backtest rebalances.
    pub enum Rebalance as "rebalance" {
        /// Every trading day.
        Daily = "daily",
        /// The last trading day of each ISO week.
        Weekly = "weekly",
        /// The last trading day of each month.
        Monthly = "monthly",
    }
}

impl Rebalance {
    /// # Errors
    /// A [`RuleError`] on `rebalance` naming the allowed values.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        text.parse()
            .map_err(|e: crate::market::UnknownCode| RuleError::new("rebalance", e.not_one_of()))
    }

    /// Indexes into `calendar` (trading days, ascending) of the rebalance days. The last day of
    /// the calendar counts as the last of its week or month even if the period goes on past it.
    pub fn days(self, calendar: &[NaiveDate]) -> Vec<usize> {
        let period = |d: &NaiveDate| match self {
            Self::Daily => (d.year(), d.ordinal()),
            Self::Weekly => {
                let w = d.iso_week();
                (w.year(), w.week())
            }
            Self::Monthly => (d.year(), d.month()),
        };
        (0..calendar.len())
            .filter(|&i| {
                calendar
                    .get(i + 1)
                    .is_none_or(|next| period(next) != period(&calendar[i]))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_last_trading_day_of_each_period() {
        // Fri 2024-12-27, Mon 30, Tue 31, Thu 2025-01-02, Fri 03, Mon 06.
        let calendar: Vec<NaiveDate> = [
            "2024-12-27",
            "2024-12-30",
            "2024-12-31",
            "2025-01-02",
            "2025-01-03",
            "2025-01-06",
        ]
        .iter()
        .map(|s| d(s))
        .collect();
        assert_eq!(Rebalance::Daily.days(&calendar), [0, 1, 2, 3, 4, 5]);
        // ISO week 2025-W01 runs Mon 2024-12-30 to Sun 2025-01-05.
        assert_eq!(Rebalance::Weekly.days(&calendar), [0, 4, 5]);
        assert_eq!(Rebalance::Monthly.days(&calendar), [2, 5]);
        assert_eq!(
            Rebalance::parse("quarterly").unwrap_err().option,
            "rebalance"
        );
    }
}
