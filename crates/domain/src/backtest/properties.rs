//! Properties of the accounting on random markets: NAV is cash plus positions every day, cash
//! never goes negative long-only, costs are never negative, and fills add up to the positions.

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;

/// A random market: per symbol a random walk of closes, opens near the previous close, some
/// days without a bar, an occasional ex-rights date (factor × 1.5 or × 2, price ÷ the same).
fn market() -> impl Strategy<Value = Panel> {
    (1usize..4, 5usize..40).prop_flat_map(|(symbols, days)| {
        proptest::collection::vec(
            (
                -0.08f64..0.08, // daily move
                -0.02f64..0.02, // open vs previous close
                0u8..20,        // 0: no bar that day
                0u8..60,        // 0: an ex-rights date
            ),
            symbols * days,
        )
        .prop_map(move |cells| {
            let start = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
            let mut panel = Panel::new(
                (0..days)
                    .map(|d| start + chrono::Duration::days(d as i64))
                    .collect(),
                (0..symbols).map(|s| format!("60000{s}.SH")).collect(),
            );
            for s in 0..symbols {
                panel.set_board(s, Board::of_code(&format!("60000{s}"), false));
                let (mut close, mut factor) = (10.0 + s as f64, 1.0);
                for d in 0..days {
                    let (mv, gap, bar, split) = cells[d * symbols + s];
                    if split == 0 {
                        let ratio = if mv > 0.0 { 2.0 } else { 1.5 };
                        factor *= ratio;
                        close /= ratio;
                    }
                    let open = close * (1.0 + gap);
                    close *= 1.0 + mv;
                    if bar != 0 || d == 0 {
                        panel.set(d, s, open, close, factor);
                    }
                }
            }
            panel
        })
    })
}

fn targets(symbols: usize, days: usize) -> impl Strategy<Value = Vec<Targets>> {
    proptest::collection::vec(proptest::collection::vec(0.0f64..1.0, symbols), days).prop_map(
        move |rows| {
            rows.into_iter()
                .enumerate()
                .filter(|(d, _)| d % 3 == 0)
                .map(|(day, raw)| {
                    let sum: f64 = raw.iter().sum::<f64>().max(1.0);
                    Targets {
                        day,
                        weights: raw.iter().enumerate().map(|(s, w)| (s, w / sum)).collect(),
                    }
                })
                .collect()
        },
    )
}

fn case() -> impl Strategy<Value = (Panel, Vec<Targets>, bool)> {
    market().prop_flat_map(|panel| {
        let (n, d) = (panel.symbols().len(), panel.dates().len());
        (Just(panel), targets(n, d), any::<bool>())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_books_balance((panel, targets, cn) in case()) {
        let rules = if cn { Rules::cn() } else { Rules::us() };
        let out = Simulation { rules, cash: 100_000.0, benchmark: Benchmark::EqualWeight }
            .run(&panel, &targets)
            .unwrap();
        prop_assert_eq!(out.days.len(), panel.dates().len());
        for day in &out.days {
            let scale = day.nav.abs().max(1.0);
            prop_assert!((day.nav - day.cash - day.positions_value).abs() <= 1e-9 * scale);
            prop_assert!(day.cash >= -1e-9 * scale, "negative cash {}", day.cash);
            prop_assert!(day.gross_nav >= day.nav - 1e-9 * scale);
        }
        for o in &out.orders {
            prop_assert!(o.commission >= 0.0 && o.taxes >= 0.0 && o.slippage >= 0.0);
            prop_assert!(o.quantity >= 0.0);
            if o.status == OrderStatus::NotFilled {
                prop_assert_eq!(o.quantity, 0.0);
                prop_assert!(o.reason.is_some());
            }
        }
        // Long-only: nothing is ever held short.
        prop_assert!(out.holdings.iter().all(|h| h.quantity > 0.0));
        // Fills add up to the positions: Σ signed adjusted quantities = adjusted shares held.
        let n = panel.symbols().len();
        let mut held = vec![0.0f64; n];
        let mut fills = out.orders.iter().peekable();
        for (d, date) in panel.dates().iter().enumerate() {
            while let Some(o) = fills.next_if(|o| o.fill_date == *date) {
                let sign = if o.side == Side::Buy { 1.0 } else { -1.0 };
                held[o.symbol] += sign * o.adjusted_quantity;
            }
            for (s, adjusted) in held.iter().enumerate() {
                let real = out
                    .holdings
                    .iter()
                    .find(|h| h.day == d && h.symbol == s)
                    .map_or(0.0, |h| h.quantity);
                let factor = (0..=d)
                    .rev()
                    .find_map(|dd| panel.bar(dd, s).map(|(_, _, f)| f))
                    .unwrap_or(1.0);
                prop_assert!(
                    (adjusted * factor - real).abs() <= 1e-6 * real.abs().max(1.0),
                    "day {} symbol {}: fills add to {} real shares, the book holds {}",
                    d, s, adjusted * factor, real
                );
            }
        }
    }
}
