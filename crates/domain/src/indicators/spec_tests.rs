//! Specification of the `set=` query language: defaults, limits and error wording.

use super::super::test_support::{NAN, assert_series};
use super::super::{IndicatorSet, IndicatorSpecError};
use super::*;

fn parse_err(input: &str) -> String {
    IndicatorSet::parse(input).unwrap_err().to_string()
}

#[test]
fn parses_the_documented_example_with_defaults() {
    let set = IndicatorSet::parse("sma:20,ema:12,rsi:14,macd,bollinger:20").unwrap();
    assert_eq!(
        set.specs(),
        [
            IndicatorSpec::Sma { period: 20 },
            IndicatorSpec::Ema { period: 12 },
            IndicatorSpec::Rsi { period: 14 },
            IndicatorSpec::Macd {
                fast: 12,
                slow: 26,
                signal: 9
            },
            IndicatorSpec::Bollinger { period: 20, k: 2.0 },
        ]
    );
}

#[test]
fn fills_in_every_default() {
    let set = IndicatorSet::parse("sma,ema,rsi,macd,bollinger,atr").unwrap();
    assert_eq!(
        set.to_string(),
        "sma:20,ema:20,rsi:14,macd:12:26:9,bollinger:20:2,atr:14"
    );
}

#[test]
fn accepts_explicit_parameters_and_partial_ones() {
    assert_eq!(
        IndicatorSpec::parse("macd:5:35:5").unwrap(),
        IndicatorSpec::Macd {
            fast: 5,
            slow: 35,
            signal: 5
        }
    );
    assert_eq!(
        IndicatorSpec::parse("macd:6").unwrap(),
        IndicatorSpec::Macd {
            fast: 6,
            slow: 26,
            signal: 9
        }
    );
    assert_eq!(
        IndicatorSpec::parse("bollinger:10:2.5").unwrap(),
        IndicatorSpec::Bollinger { period: 10, k: 2.5 }
    );
    assert_eq!(
        IndicatorSpec::parse("atr:1").unwrap(),
        IndicatorSpec::Atr { period: 1 }
    );
    assert_eq!(
        "rsi:500".parse::<IndicatorSpec>().unwrap(),
        IndicatorSpec::Rsi { period: 500 }
    );
}

#[test]
fn ignores_spaces_around_items_and_keeps_order() {
    let set: IndicatorSet = " rsi:7 , sma:5".parse().unwrap();
    let names: Vec<&str> = set.iter().map(IndicatorSpec::name).collect();
    assert_eq!(names, ["rsi", "sma"]);
    assert_eq!((&set).into_iter().count(), 2);
}

#[test]
fn rejects_an_unknown_indicator_listing_the_allowed_ones() {
    assert_eq!(
        parse_err("sma,foo"),
        "unknown indicator 'foo'; allowed: sma, ema, rsi, macd, bollinger, atr"
    );
    assert!(parse_err("SMA").starts_with("unknown indicator 'SMA'"));
}

#[test]
fn rejects_periods_outside_one_to_five_hundred() {
    assert_eq!(
        parse_err("rsi:0"),
        "rsi period must be between 1 and 500, got 0"
    );
    assert_eq!(
        parse_err("sma:501"),
        "sma period must be between 1 and 500, got 501"
    );
    assert_eq!(
        parse_err("ema:99999999999999999999999"),
        "ema period must be between 1 and 500, got 99999999999999999999999"
    );
    assert_eq!(
        parse_err("macd:12:26:0"),
        "macd signal period must be between 1 and 500, got 0"
    );
}

#[test]
fn rejects_periods_that_are_not_plain_whole_numbers() {
    for bad in ["abc", "+5", "-1", "2.5", "", " 5"] {
        let message = parse_err(&format!("atr:{bad}"));
        assert_eq!(
            message,
            format!("atr period must be a whole number between 1 and 500, got '{bad}'")
        );
    }
}

#[test]
fn rejects_macd_with_fast_not_below_slow() {
    assert_eq!(
        parse_err("macd:26:12"),
        "macd fast period must be less than slow period, got fast 26 and slow 12"
    );
    assert!(IndicatorSpec::parse("macd:26").is_err());
    assert!(IndicatorSpec::parse("macd:12:12").is_err());
}

#[test]
fn rejects_bad_bollinger_multipliers() {
    for bad in [
        "0", "0.0", "10.5", "-2", "inf", "NaN", "1e1", "2.", ".5", "", "1.2.3", ".", "+2",
    ] {
        let err = IndicatorSpec::parse(&format!("bollinger:20:{bad}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "bollinger multiplier must be a number greater than 0 and at most 10, got '{bad}'"
            ),
        );
    }
    assert_eq!(
        IndicatorSpec::parse("bollinger:20:10").unwrap(),
        IndicatorSpec::Bollinger {
            period: 20,
            k: 10.0
        }
    );
    assert_eq!(
        IndicatorSpec::parse("bollinger:20:0.5").unwrap(),
        IndicatorSpec::Bollinger { period: 20, k: 0.5 }
    );
}

#[test]
fn rejects_too_many_parameters_showing_the_usage() {
    assert_eq!(
        parse_err("sma:20:5"),
        "too many parameters in 'sma:20:5'; sma takes sma:PERIOD"
    );
    assert_eq!(
        parse_err("macd:1:2:3:4"),
        "too many parameters in 'macd:1:2:3:4'; macd takes macd:FAST:SLOW:SIGNAL"
    );
}

#[test]
fn rejects_empty_lists_and_items() {
    assert_eq!(IndicatorSet::parse(""), Err(IndicatorSpecError::Empty));
    assert_eq!(IndicatorSet::parse("  "), Err(IndicatorSpecError::Empty));
    assert_eq!(parse_err("sma,,rsi"), "indicator 2 of the list is empty");
    assert_eq!(parse_err("sma,"), "indicator 2 of the list is empty");
}

#[test]
fn accepts_sixteen_indicators_and_rejects_seventeen() {
    let sixteen: Vec<String> = (1..=16).map(|p| format!("sma:{p}")).collect();
    assert_eq!(
        IndicatorSet::parse(&sixteen.join(","))
            .unwrap()
            .specs()
            .len(),
        16
    );
    let seventeen = format!("{},ema", sixteen.join(","));
    assert_eq!(
        parse_err(&seventeen),
        "at most 16 indicators per set, got 17"
    );
}

#[test]
fn rejects_duplicates_after_filling_in_defaults() {
    assert_eq!(
        parse_err("sma,sma:20"),
        "indicator 'sma:20' is listed more than once"
    );
    assert_eq!(
        parse_err("bollinger:20:2,bollinger:20:2.0"),
        "indicator 'bollinger:20:2' is listed more than once"
    );
    assert!(IndicatorSet::parse("sma:20,ema:20,sma:21").is_ok());
}

#[test]
fn reports_the_warm_up_of_each_indicator() {
    let set = IndicatorSet::parse("sma:20,rsi:14,atr:30,bollinger:5").unwrap();
    let lookbacks: Vec<usize> = set.iter().map(IndicatorSpec::lookback).collect();
    assert_eq!(lookbacks, [19, 14, 30, 4]);
    assert_eq!(set.max_lookback(), 30);
    assert_eq!(IndicatorSpec::parse("macd").unwrap().lookback(), 33);
}

#[test]
fn lookback_matches_the_leading_nans_of_each_kernel() {
    let close: Vec<f64> = (0..40).map(|i| 10.0 + f64::from(i % 7)).collect();
    let high: Vec<f64> = close.iter().map(|c| c + 1.0).collect();
    let low: Vec<f64> = close.iter().map(|c| c - 1.0).collect();
    let set = IndicatorSet::parse("sma:5,ema:6,rsi:7,macd:3:8:4,bollinger:9:1.5,atr:4").unwrap();
    for spec in &set {
        let output = spec.compute(&high, &low, &close).unwrap();
        for (column, values) in output.columns() {
            let leading = values.iter().take_while(|v| v.is_nan()).count();
            let expected = if column == "macd" {
                spec.lookback() - 3
            } else {
                spec.lookback()
            };
            assert_eq!(leading, expected, "{spec} {column}");
            assert!(
                values[leading..].iter().all(|v| v.is_finite()),
                "{spec} {column}"
            );
        }
    }
}

#[test]
fn compute_dispatches_to_the_kernels() {
    let close = [2.0, 4.0, 6.0, 8.0];
    let output = IndicatorSpec::Sma { period: 2 }
        .compute(&[], &[], &close)
        .unwrap();
    assert_eq!(output.columns().len(), 1);
    assert_series(output.columns()[0].1, &[NAN, 3.0, 5.0, 7.0]);

    let bands = IndicatorSpec::Bollinger { period: 2, k: 1.0 }
        .compute(&[], &[], &close)
        .unwrap();
    let names: Vec<&str> = bands.columns().iter().map(|(name, _)| *name).collect();
    assert_eq!(names, ["middle", "upper", "lower"]);
    assert_series(bands.columns()[1].1, &[NAN, 4.0, 6.0, 8.0]);
}

#[test]
fn compute_reports_mismatched_series_for_atr() {
    let err = IndicatorSpec::Atr { period: 2 }
        .compute(&[1.0], &[1.0, 2.0], &[1.0, 2.0])
        .unwrap_err();
    assert!(matches!(
        err,
        IndicatorError::LengthMismatch {
            indicator: "atr",
            ..
        }
    ));
}

#[test]
fn echoes_at_most_forty_characters_of_an_unknown_name() {
    let message = parse_err(&"x".repeat(200));
    assert!(message.starts_with(&format!("unknown indicator '{}…'", "x".repeat(40))));
}
