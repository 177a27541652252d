//! Specification of calendar queries over a hand-made week with a holiday.

use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 4, d).unwrap()
}

/// 2024-04-01..=2024-04-12 on the SSE: Qingming holiday on the 4th and 5th, weekend 6th/7th.
fn sse_april() -> TradingCalendar {
    TradingCalendar::from_open_days(
        Exchange::Sse,
        [
            day(12),
            day(1),
            day(2),
            day(3),
            day(8),
            day(9),
            day(10),
            day(11),
            day(3),
        ],
    )
}

#[test]
fn sorts_and_deduplicates_open_days() {
    let calendar = sse_april();
    assert_eq!(
        calendar.open_days(),
        [
            day(1),
            day(2),
            day(3),
            day(8),
            day(9),
            day(10),
            day(11),
            day(12)
        ]
    );
    assert_eq!(calendar.exchange(), Exchange::Sse);
}

#[test]
fn answers_whether_a_day_is_open() {
    let calendar = sse_april();
    assert!(calendar.is_open(day(3)));
    assert!(!calendar.is_open(day(4)));
    assert!(!calendar.is_open(day(7)));
}

#[test]
fn lists_open_days_between_two_dates_inclusive() {
    let calendar = sse_april();
    assert_eq!(
        calendar.open_days_between(day(3), day(9)),
        [day(3), day(8), day(9)]
    );
    assert_eq!(
        calendar.open_days_between(day(4), day(7)),
        [] as [NaiveDate; 0]
    );
    assert!(calendar.open_days_between(day(9), day(3)).is_empty());
}

#[test]
fn finds_the_previous_and_next_open_day() {
    let calendar = sse_april();
    assert_eq!(calendar.previous_open(day(8)), Some(day(3)));
    assert_eq!(calendar.previous_open(day(6)), Some(day(3)));
    assert_eq!(calendar.previous_open(day(1)), None);
    assert_eq!(calendar.next_open(day(3)), Some(day(8)));
    assert_eq!(calendar.next_open(day(12)), None);
}

#[test]
fn missing_after_starts_after_the_last_stored_day() {
    let calendar = sse_april();
    assert_eq!(
        calendar.missing_after(Some(day(3)), day(10), 100),
        [day(8), day(9), day(10)]
    );
    assert_eq!(calendar.missing_after(Some(day(5)), day(8), 100), [day(8)]);
}

#[test]
fn missing_after_starts_at_the_beginning_when_nothing_is_stored() {
    assert_eq!(
        sse_april().missing_after(None, day(2), 100),
        [day(1), day(2)]
    );
}

#[test]
fn missing_after_returns_the_earliest_days_up_to_the_limit() {
    let calendar = sse_april();
    assert_eq!(
        calendar.missing_after(Some(day(1)), day(12), 2),
        [day(2), day(3)]
    );
    assert!(calendar.missing_after(Some(day(1)), day(12), 0).is_empty());
    assert_eq!(
        calendar
            .missing_after(Some(day(1)), day(12), usize::MAX)
            .len(),
        7
    );
}

#[test]
fn missing_after_is_empty_when_up_to_date() {
    let calendar = sse_april();
    assert!(
        calendar
            .missing_after(Some(day(12)), day(12), 10)
            .is_empty()
    );
    assert!(calendar.missing_after(Some(day(9)), day(5), 10).is_empty());
}

#[test]
fn builds_from_provider_rows_keeping_closed_days_in_coverage() {
    let row = |d: u32, is_open: bool| TradingDay {
        exchange: Exchange::Szse,
        date: day(d),
        is_open,
        pretrade_date: None,
    };
    let calendar = TradingCalendar::from_days(
        Exchange::Szse,
        &[row(3, true), row(4, false), row(5, false)],
    )
    .unwrap();
    assert_eq!(calendar.open_days(), [day(3)]);
    assert!(calendar.covers(day(5)));
    assert!(!calendar.covers(day(6)));
    assert!(!sse_april().covers(day(13)));
}

#[test]
fn rejects_rows_of_another_exchange() {
    let row = TradingDay {
        exchange: Exchange::Us,
        date: day(1),
        is_open: true,
        pretrade_date: None,
    };
    let err = TradingCalendar::from_days(Exchange::Sse, &[row]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "trading calendar of SSE was given a day of US (2024-04-01)"
    );
}
