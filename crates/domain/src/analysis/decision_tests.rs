//! Decision rules checked on hand-made analyst signals.

use rust_decimal::Decimal;

use super::*;

fn aapl() -> Symbol {
    Symbol::parse("AAPL").unwrap()
}

fn view(analyst: &str, signal: Signal, confidence: u8) -> AnalystSignal {
    AnalystSignal {
        analyst: analyst.to_owned(),
        symbol: aapl(),
        signal,
        confidence: Confidence::new(confidence).unwrap(),
        reasoning: format!("{analyst} says {signal}"),
        inputs: Vec::new(),
    }
}

fn limit(pct: f64) -> PositionLimit {
    PositionLimit {
        symbol: aapl(),
        max_position_pct: pct,
        max_position_value: Decimal::ZERO,
        daily_vol: Some(0.02),
        avg_correlation: None,
        reasoning: "history too short".to_owned(),
    }
}

#[test]
fn buys_on_a_bullish_majority_sized_by_limit_times_confidence() {
    let signals = [
        view("technical", Signal::Bullish, 80),
        view("fundamentals", Signal::Bullish, 60),
        view("valuation", Signal::Bearish, 40),
    ];
    // (0.8 + 0.6 − 0.4) / 3 = 0.333…
    let decision = decide(
        &aapl(),
        &signals,
        Some(&limit(0.15)),
        &DecisionWeights::default(),
    );
    assert_eq!(decision.action, Action::Buy);
    assert_eq!(decision.confidence.value(), 33);
    assert!((decision.position_pct - 0.15 * 0.33).abs() < 1e-12);
    assert_eq!(decision.contributing.len(), 3);
    assert_eq!(
        decision.contributing[0],
        "technical: bullish (80, weight 1)"
    );
    assert!(decision.risk_warnings.is_empty());
}

#[test]
fn weights_can_turn_the_vote_into_a_sell() {
    let weights = DecisionWeights::default()
        .with_weight("technical", 2.0)
        .unwrap();
    let signals = [
        view("technical", Signal::Bearish, 90),
        view("fundamentals", Signal::Bullish, 30),
    ];
    // (2 × −0.9 + 0.3) / 3 = −0.5
    let decision = decide(&aapl(), &signals, Some(&limit(0.10)), &weights);
    assert_eq!(decision.action, Action::Sell);
    assert_eq!(decision.confidence.value(), 50);
    assert!((decision.position_pct - 0.05).abs() < 1e-12);
}

#[test]
fn a_vote_within_the_threshold_holds_with_no_position() {
    let signals = [
        view("technical", Signal::Bullish, 30),
        view("fundamentals", Signal::Neutral, 70),
    ];
    let decision = decide(
        &aapl(),
        &signals,
        Some(&limit(0.2)),
        &DecisionWeights::default(),
    );
    assert_eq!(decision.action, Action::Hold);
    assert_eq!(decision.confidence.value(), 15);
    assert_eq!(decision.position_pct, 0.0);
}

#[test]
fn insufficient_data_does_not_vote_and_is_reported() {
    let signals = [
        view("technical", Signal::Bullish, 50),
        AnalystSignal::insufficient("fundamentals", aapl(), "no indicators", Vec::new()),
    ];
    let decision = decide(
        &aapl(),
        &signals,
        Some(&limit(0.2)),
        &DecisionWeights::default(),
    );
    assert_eq!(decision.action, Action::Buy);
    assert_eq!(decision.confidence.value(), 50);
    assert_eq!(
        decision.risk_warnings,
        ["fundamentals: insufficient data (no indicators)"]
    );
}

#[test]
fn holds_without_a_view_when_every_signal_is_insufficient() {
    let signals = [AnalystSignal::insufficient(
        "technical",
        aapl(),
        "has 12 bars",
        Vec::new(),
    )];
    let decision = decide(
        &aapl(),
        &signals,
        Some(&limit(0.2)),
        &DecisionWeights::default(),
    );
    assert_eq!(decision.action, Action::Hold);
    assert_eq!(decision.confidence, Confidence::ZERO);
    assert_eq!(decision.position_pct, 0.0);
    assert!(decision.contributing.is_empty());
    assert_eq!(decision.risk_warnings.len(), 2);
    assert!(decision.risk_warnings[1].contains("no analyst has a usable view of AAPL"));
    let nothing = decide(&aapl(), &[], None, &DecisionWeights::default());
    assert_eq!(nothing.action, Action::Hold);
}

#[test]
fn without_a_usable_limit_a_trade_is_not_sized() {
    let signals = [view("technical", Signal::Bullish, 90)];
    let decision = decide(&aapl(), &signals, None, &DecisionWeights::default());
    assert_eq!((decision.action, decision.position_pct), (Action::Buy, 0.0));
    assert_eq!(
        decision.risk_warnings,
        ["no risk limit for AAPL; position not sized"]
    );
    let zero = decide(
        &aapl(),
        &signals,
        Some(&limit(0.0)),
        &DecisionWeights::default(),
    );
    assert_eq!(zero.risk_warnings, ["risk limit is 0: history too short"]);
}

#[test]
fn signals_about_other_symbols_and_zero_weights_are_left_out() {
    let mut other = view("technical", Signal::Bearish, 100);
    other.symbol = Symbol::parse("MSFT").unwrap();
    let weights = DecisionWeights::default()
        .with_weight("sentiment", 0.0)
        .unwrap();
    let signals = [
        other,
        view("sentiment", Signal::Bearish, 100),
        view("fundamentals", Signal::Bullish, 40),
    ];
    let decision = decide(&aapl(), &signals, Some(&limit(0.2)), &weights);
    assert_eq!(
        (decision.action, decision.confidence.value()),
        (Action::Buy, 40)
    );
    assert_eq!(decision.risk_warnings.len(), 2);
}

#[test]
fn rejects_bad_thresholds_and_weights_by_name() {
    assert_eq!(
        DecisionWeights::new(1.0).unwrap_err().to_string(),
        "threshold 1 must be in [0, 1)"
    );
    let err = DecisionWeights::default()
        .with_weight("technical", -1.0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "weight -1 of analyst 'technical' must be finite and not negative"
    );
}
