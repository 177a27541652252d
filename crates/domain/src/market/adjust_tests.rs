//! Specification of price adjustment on a hand-made 2-for-1 split.

use super::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, n).unwrap()
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn bar(symbol: &str, n: u32, close: &str) -> DailyBar {
    let close = d(close);
    DailyBar {
        symbol: sym(symbol),
        trade_date: day(n),
        open: close,
        high: close,
        low: close,
        close,
        pre_close: Some(close - d("1")),
        change: Some(d("1")),
        pct_change: Some(d("12.5")),
        volume: d("1000"),
        amount: Some(d("9999")),
    }
}

fn factor(symbol: &str, n: u32, value: &str) -> AdjustmentFactor {
    AdjustmentFactor {
        symbol: sym(symbol),
        trade_date: day(n),
        factor: d(value),
    }
}

/// Split on the 8th: the factor doubles while the traded price halves.
fn split_history() -> (Vec<DailyBar>, Vec<AdjustmentFactor>) {
    let bars = vec![
        bar("600519.SH", 6, "10"),
        bar("600519.SH", 7, "11"),
        bar("600519.SH", 8, "6"),
        bar("600519.SH", 9, "6.3"),
    ];
    // Unordered on purpose, and without a factor for the 9th.
    let factors = vec![
        factor("600519.SH", 8, "2"),
        factor("600519.SH", 6, "1"),
        factor("600519.SH", 7, "1"),
    ];
    (bars, factors)
}

fn closes(bars: &[DailyBar]) -> Vec<Decimal> {
    bars.iter().map(|b| b.close).collect()
}

#[test]
fn none_returns_the_bars_unchanged() {
    let (bars, factors) = split_history();
    assert_eq!(adjust_bars(&bars, &factors, Adjust::None), bars);
}

#[test]
fn backward_multiplies_by_the_factor_of_the_day() {
    let (bars, factors) = split_history();
    let adjusted = adjust_bars(&bars, &factors, Adjust::Backward);
    // 10×1, 11×1, 6×2, 6.3×2 (the 9th falls back to the 8th's factor)
    assert_eq!(closes(&adjusted), [d("10"), d("11"), d("12"), d("12.6")]);
}

#[test]
fn forward_divides_by_the_latest_factor() {
    let (bars, factors) = split_history();
    let adjusted = adjust_bars(&bars, &factors, Adjust::Forward);
    // 10×1/2, 11×1/2, 6×2/2, 6.3×2/2
    assert_eq!(closes(&adjusted), [d("5"), d("5.5"), d("6"), d("6.3")]);
    // pre_close 9 and change 1 on the 6th scale alike
    assert_eq!(adjusted[0].pre_close, Some(d("4.5")));
    assert_eq!(adjusted[0].change, Some(d("0.5")));
}

#[test]
fn leaves_volume_amount_and_pct_change_alone() {
    let (bars, factors) = split_history();
    let adjusted = adjust_bars(&bars, &factors, Adjust::Backward);
    assert_eq!(adjusted[2].volume, d("1000"));
    assert_eq!(adjusted[2].amount, Some(d("9999")));
    assert_eq!(adjusted[2].pct_change, Some(d("12.5")));
    assert_eq!(adjusted[2].trade_date, day(8));
}

#[test]
fn a_bar_before_the_first_factor_uses_the_first_later_one() {
    let bars = [bar("AAPL", 1, "10")];
    let factors = [factor("AAPL", 3, "4"), factor("AAPL", 5, "8")];
    assert_eq!(
        closes(&adjust_bars(&bars, &factors, Adjust::Backward)),
        [d("40")]
    );
    assert_eq!(
        closes(&adjust_bars(&bars, &factors, Adjust::Forward)),
        [d("5")]
    );
}

#[test]
fn rounds_to_six_places_half_away_from_zero() {
    let bars = [bar("AAPL", 1, "10"), bar("AAPL", 2, "20")];
    let factors = [
        factor("AAPL", 1, "1"),
        factor("AAPL", 2, "1"),
        factor("AAPL", 3, "3"),
    ];
    // 10/3 = 3.3333333…, 20/3 = 6.6666666…
    assert_eq!(
        closes(&adjust_bars(&bars, &factors, Adjust::Forward)),
        [d("3.333333"), d("6.666667")]
    );

    let tiny = [bar("AAPL", 1, "0.5"), bar("AAPL", 2, "2.5")];
    let factors = [factor("AAPL", 1, "0.000001")];
    // 0.0000005 and 0.0000025 are exact midpoints; banker's rounding would give 0 and 0.000002
    assert_eq!(
        closes(&adjust_bars(&tiny, &factors, Adjust::Backward)),
        [d("0.000001"), d("0.000003")]
    );
}

#[test]
fn matches_factors_to_bars_by_symbol() {
    let bars = [
        bar("AAPL", 1, "10"),
        bar("MSFT", 1, "10"),
        bar("AAPL", 2, "10"),
    ];
    let factors = [
        factor("MSFT", 1, "3"),
        factor("AAPL", 1, "2"),
        factor("AAPL", 2, "4"),
        factor("ZM", 2, "100"),
    ];
    let adjusted = adjust_bars(&bars, &factors, Adjust::Forward);
    // AAPL latest is 4, MSFT latest is 3
    assert_eq!(closes(&adjusted), [d("5"), d("10"), d("10")]);
    assert_eq!(adjusted[1].symbol.as_str(), "MSFT");
}

#[test]
fn leaves_a_symbol_without_factors_unadjusted() {
    let bars = [bar("AAPL", 1, "10")];
    assert_eq!(adjust_bars(&bars, &[], Adjust::Forward), bars);
    let only_other = [factor("MSFT", 1, "3")];
    assert_eq!(adjust_bars(&bars, &only_other, Adjust::Backward), bars);
}

#[test]
fn ignores_non_positive_factors() {
    let bars = [bar("AAPL", 1, "10"), bar("AAPL", 2, "10")];
    let factors = [factor("AAPL", 1, "2"), factor("AAPL", 2, "0")];
    // The zero on the 2nd is skipped, so the 2nd uses 2 and the latest usable factor is 2.
    assert_eq!(
        closes(&adjust_bars(&bars, &factors, Adjust::Forward)),
        [d("10"), d("10")]
    );
}

#[test]
fn parses_adjust_modes_and_lists_them_on_error() {
    assert_eq!("forward".parse::<Adjust>(), Ok(Adjust::Forward));
    assert_eq!(Adjust::default(), Adjust::None);
    assert_eq!(Adjust::Backward.as_str(), "backward");
    let err = "qfq".parse::<Adjust>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown adjustment 'qfq'; allowed: none, forward, backward"
    );
}
