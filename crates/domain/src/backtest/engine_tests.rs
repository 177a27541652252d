//! Hand-computed cases, one per rule of the simulator.

use chrono::NaiveDate;

use super::*;

fn day(i: usize) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(i as i64)
}

/// One day's bars, one per symbol: `(open, close, factor)`, or `None` without a bar.
type Row = Vec<Option<(f64, f64, f64)>>;

/// A panel of `symbols` over `bars.len()` days.
fn panel(symbols: &[&str], bars: &[Row]) -> Panel {
    let mut p = Panel::new(
        (0..bars.len()).map(day).collect(),
        symbols.iter().map(|s| (*s).to_owned()).collect(),
    );
    for (d, row) in bars.iter().enumerate() {
        for (s, bar) in row.iter().enumerate() {
            if let Some((open, close, factor)) = bar {
                p.set(d, s, *open, *close, *factor);
            }
        }
    }
    p
}

/// US rules without any cost, so a case shows one rule at a time.
fn frictionless() -> Rules {
    let mut r = Rules::us();
    r.costs = Costs {
        commission_rate: 0.0,
        commission_min: 0.0,
        stamp_duty_rate: 0.0,
        transfer_fee_rate: 0.0,
        slippage: 0.0,
    };
    r
}

fn run(rules: Rules, cash: f64, p: &Panel, targets: &[(usize, Vec<(usize, f64)>)]) -> Outcome {
    let targets: Vec<Targets> = targets
        .iter()
        .map(|(d, w)| Targets {
            day: *d,
            weights: w.clone(),
        })
        .collect();
    Simulation {
        rules,
        cash,
        benchmark: Benchmark::EqualWeight,
    }
    .run(p, &targets)
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn fills_at_the_next_open_never_on_the_signal_bar() {
    let p = panel(
        &["A"],
        &[
            vec![Some((9.0, 10.0, 1.0))],
            vec![Some((11.0, 12.0, 1.0))],
            vec![Some((12.0, 13.0, 1.0))],
        ],
    );
    let out = run(frictionless(), 1000.0, &p, &[(0, vec![(0, 0.5)])]);
    // 0.5 × 1000 / 10 = 50 shares, bought at day 1's open of 11.
    assert_eq!(out.orders.len(), 1);
    let o = &out.orders[0];
    assert_eq!((o.signal_date, o.fill_date), (day(0), day(1)));
    assert_eq!(
        (o.quantity, o.price, o.status),
        (50.0, 11.0, OrderStatus::Filled)
    );
    assert!(
        close(out.days[0].nav, 1000.0),
        "nothing moves on the signal day"
    );
    assert!(close(out.days[1].cash, 450.0));
    assert!(close(out.days[1].nav, 450.0 + 50.0 * 12.0));
    assert!(close(out.days[2].nav, 450.0 + 50.0 * 13.0));
}

#[test]
fn next_close_fills_at_the_close_of_the_day_after() {
    let p = panel(
        &["A"],
        &[vec![Some((9.0, 10.0, 1.0))], vec![Some((11.0, 12.0, 1.0))]],
    );
    let mut rules = frictionless();
    rules.fill = FillAt::NextClose;
    let out = run(rules, 1000.0, &p, &[(0, vec![(0, 0.5)])]);
    assert_eq!((out.orders[0].quantity, out.orders[0].price), (50.0, 12.0));
    assert!(close(out.days[1].nav, 1000.0));
}

#[test]
fn a_signal_on_the_last_day_places_no_order() {
    let p = panel(
        &["A"],
        &[vec![Some((9.0, 10.0, 1.0))], vec![Some((11.0, 12.0, 1.0))]],
    );
    let out = run(frictionless(), 1000.0, &p, &[(1, vec![(0, 1.0)])]);
    assert!(out.orders.is_empty());
    assert!(out.days.iter().all(|d| close(d.nav, 1000.0)));
}

#[test]
fn buys_round_down_to_whole_lots() {
    let p = panel(
        &["600000.SH"],
        &[vec![Some((10.0, 10.3, 1.0))], vec![Some((10.3, 10.3, 1.0))]],
    );
    let mut rules = Rules::cn();
    rules.costs.slippage = 0.0;
    let out = run(rules, 100_000.0, &p, &[(0, vec![(0, 0.5)])]);
    // 0.5 × 100,000 / 10.3 = 4,854.4 → 48 lots of 100.
    assert_eq!(out.orders[0].quantity, 4_800.0);
}

#[test]
fn commission_has_a_minimum_per_order() {
    let p = panel(
        &["A"],
        &[vec![Some((10.0, 10.0, 1.0))], vec![Some((10.0, 10.0, 1.0))]],
    );
    let mut rules = Rules::us();
    rules.costs.slippage = 0.0;
    let out = run(rules, 1000.0, &p, &[(0, vec![(0, 0.1)])]);
    // 10 shares × 10 = 100; 0.05 % of it is 0.05, below the minimum of 1.
    let o = &out.orders[0];
    assert_eq!((o.quantity, o.commission), (10.0, 1.0));
    assert!(close(out.days[1].cash, 1000.0 - 100.0 - 1.0));
    assert!(close(out.days[1].gross_nav, out.days[1].nav + 1.0));
}

#[test]
fn sells_pay_stamp_duty_and_both_sides_the_transfer_fee() {
    let p = panel(
        &["600000.SH"],
        &[
            vec![Some((10.0, 10.0, 1.0))],
            vec![Some((10.0, 10.0, 1.0))],
            vec![Some((10.0, 10.0, 1.0))],
            vec![Some((10.0, 10.0, 1.0))],
        ],
    );
    let mut rules = Rules::cn();
    rules.costs.slippage = 0.0;
    let out = run(rules, 20_000.0, &p, &[(0, vec![(0, 0.5)]), (2, vec![])]);
    let (buy, sell) = (&out.orders[0], &out.orders[1]);
    // Buy 1,000 × 10: commission max(2.5, 5) = 5, transfer 0.1, no stamp duty.
    assert_eq!(
        (buy.side, buy.quantity, buy.commission),
        (Side::Buy, 1_000.0, 5.0)
    );
    assert!(close(buy.taxes, 0.1));
    // Sell 1,000 × 10: commission 5, stamp duty 5 + transfer 0.1.
    assert_eq!(
        (sell.side, sell.quantity, sell.commission),
        (Side::Sell, 1_000.0, 5.0)
    );
    assert!(close(sell.taxes, 5.1));
    assert!(close(
        out.days[3].cash,
        20_000.0 - 10_005.1 + 10_000.0 - 10.1
    ));
}

#[test]
fn a_buy_at_limit_up_and_a_sell_at_limit_down_do_not_fill() {
    let mut p = panel(
        &["600000.SH", "600001.SH"],
        &[
            vec![Some((10.0, 10.0, 1.0)), Some((10.0, 10.0, 1.0))],
            // A opens at its limit-up of 11.00; B opens a cent below it.
            vec![Some((11.0, 11.0, 1.0)), Some((10.99, 10.99, 1.0))],
            vec![Some((11.0, 11.0, 1.0)), Some((10.99, 10.99, 1.0))],
            // B opens at its limit-down: 10.99 × 0.9 = 9.891 → 9.89.
            vec![Some((11.0, 11.0, 1.0)), Some((9.89, 9.89, 1.0))],
        ],
    );
    p.set_board(0, Board::of_code("600000.SH", false));
    p.set_board(1, Board::of_code("600001.SH", false));
    let mut rules = Rules::cn();
    rules.costs.slippage = 0.0;
    let out = run(
        rules,
        100_000.0,
        &p,
        &[(0, vec![(0, 0.4), (1, 0.4)]), (2, vec![(0, 0.4)])],
    );
    let a = &out.orders[0];
    assert_eq!(
        (a.symbol, a.status, a.reason),
        (0, OrderStatus::NotFilled, Some(Reason::LimitUp))
    );
    let b = &out.orders[1];
    assert_eq!((b.symbol, b.status), (1, OrderStatus::Filled));
    // Day 2 asks to sell all of B on day 3, when it opens at limit-down; A is bought then.
    let sell = out.orders.iter().find(|o| o.side == Side::Sell).unwrap();
    assert_eq!(
        (sell.status, sell.reason),
        (OrderStatus::NotFilled, Some(Reason::LimitDown))
    );
    assert_eq!(sell.fill_date, day(3));
}

#[test]
fn no_bar_on_the_fill_day_is_a_suspension() {
    let p = panel(
        &["A"],
        &[
            vec![Some((10.0, 10.0, 1.0))],
            vec![None],
            vec![Some((10.0, 10.0, 1.0))],
        ],
    );
    let out = run(frictionless(), 1000.0, &p, &[(0, vec![(0, 0.5)])]);
    let o = &out.orders[0];
    assert_eq!(
        (o.status, o.reason, o.fill_date),
        (OrderStatus::NotFilled, Some(Reason::Suspended), day(1))
    );
    assert!(close(out.days[2].nav, 1000.0));
}

#[test]
fn a_buy_beyond_the_cash_is_cut_to_the_lots_it_affords() {
    let p = panel(
        &["600000.SH"],
        &[vec![Some((10.0, 10.0, 1.0))], vec![Some((10.5, 10.5, 1.0))]],
    );
    let rules = Rules::cn();
    // 100 % at a close of 10 is 1,000 shares, but the open is 10.5 (plus 5 bp slippage).
    let out = run(rules, 10_000.0, &p, &[(0, vec![(0, 1.0)])]);
    let o = &out.orders[0];
    assert_eq!(
        (o.status, o.reason),
        (OrderStatus::Partial, Some(Reason::InsufficientCash))
    );
    // 900 × 10.50525 = 9,454.73 + commission 5 + transfer 0.09 ≤ 10,000; 1,000 would not fit.
    assert_eq!(o.quantity, 900.0);
    assert!(out.days[1].cash >= 0.0);
    assert!(close(
        out.days[1].cash,
        10_000.0 - 900.0 * 10.5 * 1.0005 - 5.0 - 900.0 * 10.5 * 1.0005 * 0.000_01
    ));
}

#[test]
fn a_short_credits_its_proceeds_holds_margin_and_covering_settles_the_gain() {
    let p = panel(
        &["A"],
        &[
            vec![Some((30.0, 30.0, 1.0))],
            vec![Some((30.0, 30.0, 1.0))],
            vec![Some((28.0, 28.0, 1.0))],
            vec![Some((25.0, 25.0, 1.0))],
        ],
    );
    let mut rules = frictionless();
    rules.shorts = Some(ShortRules {
        margin_rate: 0.5,
        borrow_fee_rate: 0.0,
    });
    // −30 % of 10,000 at 30 = −100 shares.
    let out = run(rules, 10_000.0, &p, &[(0, vec![(0, -0.3)]), (2, vec![])]);
    let short = &out.orders[0];
    assert_eq!(
        (short.side, short.quantity, short.price),
        (Side::Sell, 100.0, 30.0)
    );
    assert!(close(out.days[1].cash, 13_000.0));
    assert!(close(out.days[1].nav, 10_000.0), "the margin is not a loss");
    assert!(close(out.days[2].nav, 10_200.0));
    let cover = &out.orders[1];
    assert_eq!(
        (cover.side, cover.quantity, cover.price),
        (Side::Buy, 100.0, 25.0)
    );
    assert!(
        close(out.days[3].nav, 10_500.0),
        "short 100 @ 30, cover @ 25: +500"
    );
    assert!(close(out.days[3].cash, 10_500.0));
}

#[test]
fn shorts_are_refused_without_the_margin() {
    let p = panel(
        &["A"],
        &[vec![Some((10.0, 10.0, 1.0))], vec![Some((10.0, 10.0, 1.0))]],
    );
    let mut rules = frictionless();
    rules.shorts = Some(ShortRules::default());
    // −300 % needs 1.5 × its value in cash: only a third of it fits.
    let out = run(rules, 1_000.0, &p, &[(0, vec![(0, -3.0)])]);
    let o = &out.orders[0];
    assert_eq!(
        (o.status, o.reason),
        (OrderStatus::Partial, Some(Reason::InsufficientCash))
    );
    assert_eq!(o.quantity, 200.0);
}

#[test]
fn long_only_refuses_negative_weights_and_weights_above_one() {
    let p = panel(
        &["A", "B"],
        &[vec![Some((10.0, 10.0, 1.0)), Some((10.0, 10.0, 1.0))]],
    );
    let sim = Simulation {
        rules: Rules::us(),
        cash: 1_000.0,
        benchmark: Benchmark::EqualWeight,
    };
    let negative = [Targets {
        day: 0,
        weights: vec![(1, -0.5)],
    }];
    let err = sim.run(&p, &negative).unwrap_err().0;
    assert!(
        err.contains("2024-01-01: the weight -0.5 of B is negative"),
        "{err}"
    );
    let above = [Targets {
        day: 0,
        weights: vec![(0, 0.6), (1, 0.5)],
    }];
    let err = sim.run(&p, &above).unwrap_err().0;
    assert!(err.contains("the weights sum to 1.1"), "{err}");
}

#[test]
fn a_split_is_not_a_loss() {
    // AAPL around its 2:1 split of 2005-02-28: 88.99 then 44.86, factor doubling.
    let p = panel(
        &["AAPL"],
        &[
            vec![Some((89.62, 88.99, 1.0))],
            vec![Some((89.0, 88.99, 1.0))],
            vec![Some((44.68, 44.86, 2.0))],
            vec![Some((44.99, 44.50, 2.0))],
        ],
    );
    let out = run(frictionless(), 100_000.0, &p, &[(0, vec![(0, 0.5)])]);
    // 0.5 × 100,000 / 88.99 = 561.86 → 561 shares at 89.00.
    assert_eq!(out.orders[0].quantity, 561.0);
    let cash = 100_000.0 - 561.0 * 89.0;
    assert!(close(out.days[1].nav, cash + 561.0 * 88.99));
    // After the split: 1,122 shares at 44.86, no loss beyond the price move.
    assert!(close(out.days[2].nav, cash + 1_122.0 * 44.86));
    let held: Vec<f64> = out
        .holdings
        .iter()
        .filter(|h| h.day == 2)
        .map(|h| h.quantity)
        .collect();
    assert_eq!(held, [1_122.0]);
}

#[test]
fn the_benchmark_buys_and_holds_equal_weights_from_the_first_close() {
    let p = panel(
        &["A", "B"],
        &[
            vec![Some((10.0, 10.0, 1.0)), Some((20.0, 20.0, 1.0))],
            vec![Some((11.0, 11.0, 1.0)), Some((18.0, 18.0, 1.0))],
        ],
    );
    let out = run(frictionless(), 1_000.0, &p, &[]);
    assert!(close(out.days[0].benchmark_nav, 1_000.0));
    // 50 A × 11 + 25 B × 18.
    assert!(close(out.days[1].benchmark_nav, 550.0 + 450.0));
}

#[test]
fn bad_inputs_are_refused_with_a_reason() {
    let p = panel(&["A"], &[vec![Some((10.0, 10.0, 1.0))]]);
    let sim = |cash: f64, benchmark| Simulation {
        rules: Rules::us(),
        cash,
        benchmark,
    };
    assert!(
        sim(0.0, Benchmark::EqualWeight)
            .run(&p, &[])
            .unwrap_err()
            .0
            .contains("cash")
    );
    let late = panel(&["A"], &[vec![None], vec![Some((1.0, 1.0, 1.0))]]);
    assert!(
        sim(1.0, Benchmark::Symbol(0))
            .run(&late, &[])
            .unwrap_err()
            .0
            .contains("benchmark: A has no bar on the first day")
    );
    let unsorted = [
        Targets {
            day: 0,
            weights: vec![],
        },
        Targets {
            day: 0,
            weights: vec![],
        },
    ];
    assert!(sim(1.0, Benchmark::EqualWeight).run(&p, &unsorted).is_err());
}
