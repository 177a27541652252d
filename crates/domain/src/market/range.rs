//! Inclusive calendar-date ranges as requested by API callers and sync jobs, with the bound on
//! their length that keeps one request from asking for decades of data.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An inclusive range of calendar dates, `start <= end`.
///
/// Fields are private so that a deserialized or constructed range is always ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "UncheckedDateRange")]
pub struct DateRange {
    start: NaiveDate,
    end: NaiveDate,
}

/// Why a pair of dates is not an acceptable range.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InvalidDateRange {
    /// The dates are in the wrong order.
    #[error("start date {start} is after end date {end}")]
    StartAfterEnd {
        /// The requested first day.
        start: NaiveDate,
        /// The requested last day.
        end: NaiveDate,
    },
    /// The range is longer than the caller allows.
    #[error("date range {start} to {end} spans {days} days; at most {max_days} days are allowed")]
    TooLong {
        /// The requested first day.
        start: NaiveDate,
        /// The requested last day.
        end: NaiveDate,
        /// Length of the requested range, both ends included.
        days: u32,
        /// The limit that was exceeded.
        max_days: u32,
    },
}

#[derive(Deserialize)]
struct UncheckedDateRange {
    start: NaiveDate,
    end: NaiveDate,
}

impl TryFrom<UncheckedDateRange> for DateRange {
    type Error = InvalidDateRange;

    fn try_from(raw: UncheckedDateRange) -> Result<Self, Self::Error> {
        DateRange::new(raw.start, raw.end, None)
    }
}

impl DateRange {
    /// Builds a range of `start..=end`, at most `max_days` long (both ends counted) when a
    /// limit is given.
    ///
    /// # Errors
    /// [`InvalidDateRange::StartAfterEnd`] when `start > end`;
    /// [`InvalidDateRange::TooLong`] when the range has more than `max_days` days.
    pub fn new(
        start: NaiveDate,
        end: NaiveDate,
        max_days: Option<u32>,
    ) -> Result<DateRange, InvalidDateRange> {
        if start > end {
            return Err(InvalidDateRange::StartAfterEnd { start, end });
        }
        let range = DateRange { start, end };
        match max_days {
            Some(max_days) if range.days() > max_days => Err(InvalidDateRange::TooLong {
                start,
                end,
                days: range.days(),
                max_days,
            }),
            _ => Ok(range),
        }
    }

    /// A range of one day.
    pub fn single(day: NaiveDate) -> DateRange {
        DateRange {
            start: day,
            end: day,
        }
    }

    /// First day, included.
    pub fn start(&self) -> NaiveDate {
        self.start
    }

    /// Last day, included.
    pub fn end(&self) -> NaiveDate {
        self.end
    }

    /// Number of calendar days, both ends included (a single-day range has 1).
    pub fn days(&self) -> u32 {
        // NaiveDate spans about ±262,000 years, i.e. fewer than 2^27 days, so this never
        // saturates; saturating keeps the function total without a panic path.
        let span = (self.end - self.start).num_days() + 1;
        u32::try_from(span).unwrap_or(u32::MAX)
    }

    /// Whether `date` falls inside the range, ends included.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as DeError, MapDeserializer};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn counts_both_ends() {
        let range = DateRange::new(day(2024, 1, 1), day(2024, 1, 31), None).unwrap();
        assert_eq!(range.days(), 31);
        assert_eq!(DateRange::single(day(2024, 2, 29)).days(), 1);
    }

    #[test]
    fn rejects_a_start_after_the_end_naming_both_dates() {
        let err = DateRange::new(day(2024, 3, 2), day(2024, 3, 1), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "start date 2024-03-02 is after end date 2024-03-01"
        );
    }

    #[test]
    fn accepts_a_range_exactly_as_long_as_the_limit() {
        let range = DateRange::new(day(2024, 1, 1), day(2024, 1, 10), Some(10)).unwrap();
        assert_eq!(range.start(), day(2024, 1, 1));
        assert_eq!(range.end(), day(2024, 1, 10));
    }

    #[test]
    fn rejects_a_range_longer_than_the_limit_naming_the_limit() {
        let err = DateRange::new(day(2024, 1, 1), day(2024, 1, 11), Some(10)).unwrap_err();
        assert_eq!(
            err,
            InvalidDateRange::TooLong {
                start: day(2024, 1, 1),
                end: day(2024, 1, 11),
                days: 11,
                max_days: 10
            }
        );
        assert!(err.to_string().contains("at most 10 days"));
    }

    #[test]
    fn contains_its_ends_and_nothing_outside() {
        let range = DateRange::new(day(2024, 1, 2), day(2024, 1, 4), None).unwrap();
        assert!(range.contains(day(2024, 1, 2)));
        assert!(range.contains(day(2024, 1, 3)));
        assert!(range.contains(day(2024, 1, 4)));
        assert!(!range.contains(day(2024, 1, 1)));
        assert!(!range.contains(day(2024, 1, 5)));
    }

    #[test]
    fn deserializing_checks_the_order() {
        let parse = |start: &'static str, end: &'static str| {
            let de: MapDeserializer<'_, _, DeError> =
                MapDeserializer::new([("start", start), ("end", end)].into_iter());
            DateRange::deserialize(de)
        };
        assert_eq!(parse("2024-01-01", "2024-01-05").unwrap().days(), 5);
        let err = parse("2024-01-05", "2024-01-01").unwrap_err();
        assert!(err.to_string().contains("is after end date"));
    }
}
