//! Exchange trading calendars: which days have sessions, so that syncs ask providers only for
//! days that can have data and "latest" means the last session, not yesterday.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::exchange::Exchange;

/// One calendar day of one exchange, as providers report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradingDay {
    /// The exchange whose calendar this is.
    pub exchange: Exchange,
    /// The calendar day.
    pub date: NaiveDate,
    /// Whether the exchange holds a session that day.
    pub is_open: bool,
    /// The last open day before `date`, when the provider reports it.
    pub pretrade_date: Option<NaiveDate>,
}

/// The open days of one exchange, sorted and without duplicates.
///
/// It knows only the days it was built from: a date outside [`TradingCalendar::covers`] is
/// reported closed, so callers that may reach past the loaded range check coverage first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradingCalendar {
    exchange: Exchange,
    open_days: Vec<NaiveDate>,
    coverage: Option<(NaiveDate, NaiveDate)>,
}

/// A calendar was built from days of more than one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("trading calendar of {expected} was given a day of {found} ({date})")]
pub struct MixedExchanges {
    /// The exchange the calendar is for.
    pub expected: Exchange,
    /// The exchange of the offending day.
    pub found: Exchange,
    /// The offending day.
    pub date: NaiveDate,
}

impl TradingCalendar {
    /// A calendar from a list of open days in any order; coverage runs from the first to the
    /// last of them.
    pub fn from_open_days(
        exchange: Exchange,
        open_days: impl IntoIterator<Item = NaiveDate>,
    ) -> TradingCalendar {
        let mut open_days: Vec<NaiveDate> = open_days.into_iter().collect();
        open_days.sort_unstable();
        open_days.dedup();
        let coverage = open_days
            .first()
            .zip(open_days.last())
            .map(|(f, l)| (*f, *l));
        TradingCalendar {
            exchange,
            open_days,
            coverage,
        }
    }

    /// A calendar from provider rows; closed days count towards coverage.
    ///
    /// # Errors
    /// [`MixedExchanges`] when a row belongs to another exchange than `exchange`.
    pub fn from_days(
        exchange: Exchange,
        days: &[TradingDay],
    ) -> Result<TradingCalendar, MixedExchanges> {
        if let Some(day) = days.iter().find(|d| d.exchange != exchange) {
            return Err(MixedExchanges {
                expected: exchange,
                found: day.exchange,
                date: day.date,
            });
        }
        let mut calendar =
            Self::from_open_days(exchange, days.iter().filter(|d| d.is_open).map(|d| d.date));
        let first = days.iter().map(|d| d.date).min();
        let last = days.iter().map(|d| d.date).max();
        calendar.coverage = first.zip(last);
        Ok(calendar)
    }

    /// The exchange this calendar belongs to.
    pub fn exchange(&self) -> Exchange {
        self.exchange
    }

    /// Every open day, ascending.
    pub fn open_days(&self) -> &[NaiveDate] {
        &self.open_days
    }

    /// Whether `date` lies within the days the calendar was built from.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.coverage
            .is_some_and(|(first, last)| first <= date && date <= last)
    }

    /// Open days in `start..=end`, ascending; empty when `start > end`.
    pub fn open_days_between(&self, start: NaiveDate, end: NaiveDate) -> &[NaiveDate] {
        let from = self.open_days.partition_point(|d| *d < start);
        let to = self.open_days.partition_point(|d| *d <= end);
        self.open_days.get(from..to).unwrap_or_default()
    }

    /// Whether the exchange has a session on `date`.
    pub fn is_open(&self, date: NaiveDate) -> bool {
        self.open_days.binary_search(&date).is_ok()
    }

    /// The last open day strictly before `date`.
    pub fn previous_open(&self, date: NaiveDate) -> Option<NaiveDate> {
        let idx = self.open_days.partition_point(|d| *d < date);
        idx.checked_sub(1)
            .and_then(|i| self.open_days.get(i))
            .copied()
    }

    /// The first open day strictly after `date`.
    pub fn next_open(&self, date: NaiveDate) -> Option<NaiveDate> {
        let idx = self.open_days.partition_point(|d| *d <= date);
        self.open_days.get(idx).copied()
    }

    /// The open days a sync still has to fetch: after `last_stored` (from the calendar's start
    /// when nothing is stored yet) up to `until` included, the earliest `limit` of them so
    /// that an interrupted sync resumes where it stopped.
    pub fn missing_after(
        &self,
        last_stored: Option<NaiveDate>,
        until: NaiveDate,
        limit: usize,
    ) -> &[NaiveDate] {
        let from = match last_stored {
            Some(last) => self.open_days.partition_point(|d| *d <= last),
            None => 0,
        };
        let to = self.open_days.partition_point(|d| *d <= until);
        let to = to.min(from.saturating_add(limit));
        self.open_days.get(from..to).unwrap_or_default()
    }
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
