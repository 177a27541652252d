//! The simulation: target weights on signal days become orders, orders fill on the next
//! trading day under the market's rules, and the book is valued at every close.
//!
//! Prices and corporate actions: bars carry real (unadjusted) prices and the cumulative
//! adjustment factor `f` (growing at each ex-rights date; 1 when there is none). The book keeps
//! each position in *adjusted shares* `q / f`, so a split or a dividend changes the real share
//! count (`adjusted × f`) but not the position's value: an ex-date never looks like a loss.
//! Orders are sized, rounded to lots and checked against price limits in real shares and real
//! prices; cash moves by real quantity × real price.

use chrono::NaiveDate;

use super::rules::{Board, FillAt, Rules};

/// Prices of every symbol on every day of the calendar; `NaN` where a symbol has no bar
/// (not yet listed, suspended, delisted).
#[derive(Debug, Clone)]
pub struct Panel {
    dates: Vec<NaiveDate>,
    symbols: Vec<String>,
    boards: Vec<Option<Board>>,
    /// Day-major: `day * symbols + symbol`.
    open: Vec<f64>,
    close: Vec<f64>,
    factor: Vec<f64>,
}

impl Panel {
    /// A panel without bars: fill it with [`Panel::set`].
    pub fn new(dates: Vec<NaiveDate>, symbols: Vec<String>) -> Self {
        let cells = dates.len() * symbols.len();
        Self {
            boards: vec![None; symbols.len()],
            dates,
            symbols,
            open: vec![f64::NAN; cells],
            close: vec![f64::NAN; cells],
            factor: vec![f64::NAN; cells],
        }
    }

    /// The bar of `symbol` on `day`: real open and close, cumulative adjustment factor.
    pub fn set(&mut self, day: usize, symbol: usize, open: f64, close: f64, factor: f64) {
        let i = day * self.symbols.len() + symbol;
        self.open[i] = open;
        self.close[i] = close;
        self.factor[i] = factor;
    }

    /// The A-share board of `symbol`, for its daily price limits.
    pub fn set_board(&mut self, symbol: usize, board: Option<Board>) {
        self.boards[symbol] = board;
    }

    pub fn dates(&self) -> &[NaiveDate] {
        &self.dates
    }

    pub fn symbols(&self) -> &[String] {
        &self.symbols
    }

    /// The bar of `symbol` on `day` as `(open, close, factor)`, or `None` without one.
    pub fn bar(&self, day: usize, symbol: usize) -> Option<(f64, f64, f64)> {
        let i = day * self.symbols.len() + symbol;
        let close = self.close[i];
        (close.is_finite() && close > 0.0).then(|| (self.open[i], close, self.factor[i]))
    }
}

/// Target weights of one signal day: every symbol not listed has weight 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub day: usize,
    /// `(symbol index, weight)`.
    pub weights: Vec<(usize, f64)>,
}

/// What the benchmark NAV buys and holds from the first close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benchmark {
    /// Equal weights of the symbols that have a bar on the first day.
    EqualWeight,
    /// One symbol.
    Symbol(usize),
}

crate::code_enum! {
    /// Which way an order trades.
    pub enum Side as "order side" {
        /// Buys shares (or covers a short).
        Buy = "buy",
        /// Sells shares (or opens a short).
        Sell = "sell",
    }
}

crate::code_enum! {
    /// How much of an order filled.
    pub enum OrderStatus as "order status" {
        /// All of it.
        Filled = "filled",
        /// Part of it; `reason` says why.
        Partial = "partial",
        /// None of it; `reason` says why.
        NotFilled = "not_filled",
    }
}

crate::code_enum! {
    /// Why an order filled partly or not at all.
    pub enum Reason as "fill reason" {
        /// A buy with the price at the day's limit-up.
        LimitUp = "limit_up",
        /// A sell with the price at the day's limit-down.
        LimitDown = "limit_down",
        /// No bar on the fill day.
        Suspended = "suspended",
        /// The cash (after margin held for shorts) affords fewer lots than ordered.
        InsufficientCash = "insufficient_cash",
        /// Shares bought the same day cannot be sold yet.
        TPlusOne = "t_plus_one",
    }
}

/// One order and what became of it. Quantities are real shares on the fill day.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRecord {
    pub signal_date: NaiveDate,
    /// The day it was executed (or refused) on.
    pub fill_date: NaiveDate,
    pub symbol: usize,
    pub side: Side,
    pub requested: f64,
    pub quantity: f64,
    /// Real price paid or received per share, slippage included; `NaN` when nothing filled.
    pub price: f64,
    /// The same quantity in adjusted shares at adjusted prices (for comparisons with tools
    /// that see only adjusted prices).
    pub adjusted_quantity: f64,
    pub commission: f64,
    /// Stamp duty plus transfer fee.
    pub taxes: f64,
    /// What slippage cost against the unslipped price.
    pub slippage: f64,
    pub status: OrderStatus,
    pub reason: Option<Reason>,
}

/// The book at one close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub cash: f64,
    pub positions_value: f64,
    pub nav: f64,
    /// NAV plus every cost paid so far (commission, taxes, borrow fees, slippage).
    pub gross_nav: f64,
    pub benchmark_nav: f64,
    /// Value traded that day (fills, both sides), for turnover.
    pub traded: f64,
    /// Long plus absolute short value, for exposure.
    pub gross_exposure: f64,
}

/// A position at one close: real shares and value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holding {
    pub day: usize,
    pub symbol: usize,
    pub quantity: f64,
    pub value: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub days: Vec<Day>,
    pub orders: Vec<OrderRecord>,
    pub holdings: Vec<Holding>,
}

/// Inputs the simulation cannot run with, in words naming the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SimulationError(pub String);

/// The simulation's inputs that are not prices.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub rules: Rules,
    pub cash: f64,
    pub benchmark: Benchmark,
}

/// An order waiting for its fill day.
#[derive(Debug, Clone, Copy)]
struct Pending {
    signal_day: usize,
    symbol: usize,
    /// Real shares at the signal day's factor, signed (+ buy, − sell).
    quantity: f64,
    factor: f64,
    /// The order takes the position to zero: on the fill day it sells (or covers) all of it.
    closes: bool,
}

struct Book<'a> {
    panel: &'a Panel,
    rules: &'a Rules,
    cash: f64,
    /// Adjusted shares per symbol, signed.
    shares: Vec<f64>,
    /// Adjusted shares bought today (T+1).
    bought_today: Vec<f64>,
    /// Last known adjusted close and factor per symbol.
    last_close: Vec<f64>,
    last_factor: Vec<f64>,
    costs: f64,
    traded: f64,
}

impl Simulation {
    /// Runs `targets` (sorted by day, one entry per signal day) over `panel`.
    ///
    /// # Errors
    /// Rules out of range, a benchmark without a first bar, targets out of order or naming a
    /// symbol or day outside the panel.
    pub fn run(&self, panel: &Panel, targets: &[Targets]) -> Result<Outcome, SimulationError> {
        self.rules
            .check()
            .map_err(|e| SimulationError(e.to_string()))?;
        let n = panel.symbols.len();
        let days = panel.dates.len();
        if days == 0 || n == 0 {
            return Err(SimulationError("no days or no symbols to simulate".into()));
        }
        if !(self.cash.is_finite() && self.cash > 0.0) {
            return Err(SimulationError(format!(
                "cash: {} is not an amount > 0",
                self.cash
            )));
        }
        for pair in targets.windows(2) {
            if pair[0].day >= pair[1].day {
                return Err(SimulationError(
                    "targets must be sorted by day, one entry per day".into(),
                ));
            }
        }
        if let Some(t) = targets
            .iter()
            .find(|t| t.day >= days || t.weights.iter().any(|(s, w)| *s >= n || !w.is_finite()))
        {
            return Err(SimulationError(format!(
                "targets of day {} name a day or symbol outside the data, or a weight that is not a number",
                t.day
            )));
        }
        if self.rules.shorts.is_none() {
            for t in targets {
                let date = panel.dates[t.day];
                if let Some((s, w)) = t.weights.iter().find(|(_, w)| *w < 0.0) {
                    return Err(SimulationError(format!(
                        "{date}: the weight {w} of {} is negative; negative weights need shorts enabled",
                        panel.symbols[*s]
                    )));
                }
                let sum: f64 = t.weights.iter().map(|(_, w)| w).sum();
                if sum > 1.0 + 1e-9 {
                    return Err(SimulationError(format!(
                        "{date}: the weights sum to {sum}, above 1 (long-only: what is not invested is cash)"
                    )));
                }
            }
        }
        let benchmark = self.benchmark_shares(panel)?;

        let mut book = Book {
            panel,
            rules: &self.rules,
            cash: self.cash,
            shares: vec![0.0; n],
            bought_today: vec![0.0; n],
            last_close: vec![f64::NAN; n],
            last_factor: vec![1.0; n],
            costs: 0.0,
            traded: 0.0,
        };
        let mut out = Outcome {
            days: Vec::with_capacity(days),
            ..Outcome::default()
        };
        let mut pending: Vec<Pending> = Vec::new();
        let mut next_target = targets.iter().peekable();
        for day in 0..days {
            book.bought_today.iter_mut().for_each(|b| *b = 0.0);
            book.traded = 0.0;
            if self.rules.fill == FillAt::NextOpen {
                book.fill(day, &mut pending, &mut out.orders);
            }
            book.mark(day);
            if self.rules.fill == FillAt::NextClose {
                book.fill(day, &mut pending, &mut out.orders);
            }
            book.charge_borrow_fees();
            let (nav, positions_value, gross_exposure) = book.value();
            let benchmark_nav = benchmark
                .iter()
                .enumerate()
                .map(|(s, q)| q * book.last_close[s])
                .filter(|v| v.is_finite())
                .sum();
            out.days.push(Day {
                date: panel.dates[day],
                cash: book.cash,
                positions_value,
                nav,
                gross_nav: nav + book.costs,
                benchmark_nav,
                traded: book.traded,
                gross_exposure,
            });
            for (s, q) in book.shares.iter().enumerate() {
                if *q != 0.0 {
                    out.holdings.push(Holding {
                        day,
                        symbol: s,
                        quantity: q * book.last_factor[s],
                        value: q * book.last_close[s],
                    });
                }
            }
            if let Some(t) = next_target.next_if(|t| t.day == day)
                && day + 1 < days
            {
                pending = book.orders_for(t, nav);
            }
        }
        Ok(out)
    }

    /// Adjusted shares of the benchmark, bought at the first close.
    fn benchmark_shares(&self, panel: &Panel) -> Result<Vec<f64>, SimulationError> {
        let n = panel.symbols.len();
        let first = |s: usize| panel.bar(0, s).map(|(_, close, f)| close * f);
        let mut shares = vec![0.0; n];
        match self.benchmark {
            Benchmark::Symbol(s) => {
                let price = first(s).ok_or_else(|| {
                    SimulationError(format!(
                        "benchmark: {} has no bar on the first day, {}",
                        panel.symbols.get(s).map_or("?", String::as_str),
                        panel.dates[0]
                    ))
                })?;
                shares[s] = self.cash / price;
            }
            Benchmark::EqualWeight => {
                let present: Vec<(usize, f64)> =
                    (0..n).filter_map(|s| first(s).map(|p| (s, p))).collect();
                if present.is_empty() {
                    return Err(SimulationError(format!(
                        "no symbol has a bar on the first day, {}",
                        panel.dates[0]
                    )));
                }
                #[allow(clippy::cast_precision_loss)]
                let each = self.cash / present.len() as f64;
                for (s, price) in present {
                    shares[s] = each / price;
                }
            }
        }
        Ok(shares)
    }
}

impl Book<'_> {
    /// Records the day's closes (and factors) of the symbols that have a bar.
    fn mark(&mut self, day: usize) {
        for s in 0..self.shares.len() {
            if let Some((_, close, factor)) = self.panel.bar(day, s) {
                self.last_close[s] = close * factor;
                self.last_factor[s] = factor;
            }
        }
    }

    /// `(NAV, positions value, gross exposure)` at the last known closes.
    fn value(&self) -> (f64, f64, f64) {
        let mut value = 0.0;
        let mut gross = 0.0;
        for (s, q) in self.shares.iter().enumerate() {
            if *q != 0.0 {
                let v = q * self.last_close[s];
                value += v;
                gross += v.abs();
            }
        }
        (self.cash + value, value, gross)
    }

    /// The value of the open short positions, as a positive amount.
    fn short_value(&self) -> f64 {
        self.shares
            .iter()
            .enumerate()
            .filter(|(_, q)| **q < 0.0)
            .map(|(s, q)| -q * self.last_close[s])
            .sum()
    }

    /// Cash that buys and new shorts may use: cash less the proceeds and margin of open shorts.
    fn usable_cash(&self) -> f64 {
        match self.rules.shorts {
            Some(shorts) => self.cash - self.short_value() * (1.0 + shorts.margin_rate),
            None => self.cash,
        }
    }

    fn charge_borrow_fees(&mut self) {
        let Some(shorts) = self.rules.shorts else {
            return;
        };
        if shorts.borrow_fee_rate == 0.0 {
            return;
        }
        let fee = self.short_value() * shorts.borrow_fee_rate / 252.0;
        self.cash -= fee;
        self.costs += fee;
    }

    /// Orders that move the book to `targets` at the signal day's closes: sells first.
    fn orders_for(&self, targets: &Targets, nav: f64) -> Vec<Pending> {
        let n = self.shares.len();
        let mut weight = vec![0.0; n];
        for (s, w) in &targets.weights {
            weight[*s] = *w;
        }
        let lot = f64::from(self.rules.lot);
        let mut orders = Vec::new();
        for (s, weight) in weight.iter().enumerate() {
            let factor = self.last_factor[s];
            let adjusted_close = self.last_close[s];
            let held = self.shares[s] * factor;
            if !adjusted_close.is_finite() {
                // Never traded yet: nothing held, and no price to size with.
                continue;
            }
            let close = adjusted_close / factor;
            let raw = weight * nav / close;
            // Whole lots, towards zero.
            let target = (raw / lot + if raw >= 0.0 { 1e-9 } else { -1e-9 }).trunc() * lot;
            let mut quantity = target - held;
            if quantity > 0.0 && target > 0.0 {
                // Buys in whole lots; an odd-lot holding is topped up to the lots below.
                quantity = (quantity / lot + 1e-9).floor() * lot;
            }
            if quantity.abs() < 1e-9 {
                continue;
            }
            orders.push(Pending {
                signal_day: targets.day,
                symbol: s,
                quantity,
                factor,
                closes: target == 0.0,
            });
        }
        // Sells (negative) first, then buys; within each side by symbol (already in order).
        let (mut sells, buys): (Vec<Pending>, Vec<Pending>) =
            orders.into_iter().partition(|o| o.quantity < 0.0);
        sells.extend(buys);
        sells
    }

    /// Executes the orders waiting for `day`.
    fn fill(&mut self, day: usize, pending: &mut Vec<Pending>, records: &mut Vec<OrderRecord>) {
        for order in pending.drain(..) {
            records.push(self.execute(day, order));
        }
    }

    fn execute(&mut self, day: usize, order: Pending) -> OrderRecord {
        let panel = self.panel;
        let side = if order.quantity > 0.0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let mut record = OrderRecord {
            signal_date: panel.dates[order.signal_day],
            fill_date: panel.dates[day],
            symbol: order.symbol,
            side,
            requested: order.quantity.abs(),
            quantity: 0.0,
            price: f64::NAN,
            adjusted_quantity: 0.0,
            commission: 0.0,
            taxes: 0.0,
            slippage: 0.0,
            status: OrderStatus::NotFilled,
            reason: None,
        };
        let s = order.symbol;
        let Some((open, close, factor)) = panel.bar(day, s) else {
            record.reason = Some(Reason::Suspended);
            return record;
        };
        let price = match self.rules.fill {
            FillAt::NextOpen => open,
            FillAt::NextClose => close,
        };
        if !(price.is_finite() && price > 0.0) {
            record.reason = Some(Reason::Suspended);
            return record;
        }
        if self.rules.price_limits
            && let Some(board) = panel.boards[s]
            && let Some(previous) = self.previous_close(day, s, factor)
        {
            let (up, down) = board.limits(previous);
            if side == Side::Buy && price >= up {
                record.reason = Some(Reason::LimitUp);
                return record;
            }
            if side == Side::Sell && price <= down {
                record.reason = Some(Reason::LimitDown);
                return record;
            }
        }
        let lot = f64::from(self.rules.lot);
        let held = self.shares[s] * factor;
        // The order's real quantity on the fill day: an ex-date in between scales it.
        let mut quantity = order.quantity.abs() * factor / order.factor;
        if (factor / order.factor - 1.0).abs() > 1e-12 && side == Side::Buy {
            quantity = (quantity / lot + 1e-9).floor() * lot;
        }
        let costs = self.rules.costs;
        let fill_price = match side {
            Side::Buy => price * (1.0 + costs.slippage),
            Side::Sell => price * (1.0 - costs.slippage),
        };
        let wanted = match side {
            Side::Sell => {
                if order.closes && held > 0.0 {
                    quantity = held;
                }
                let locked = self.bought_today[s] * factor;
                let long = held.max(0.0);
                let sellable_long = (long - locked).max(0.0);
                let may_short = self.rules.shorts.is_some();
                let wanted = quantity;
                if !may_short {
                    quantity = quantity.min(long);
                }
                if self.rules.t_plus_one && quantity > sellable_long && locked > 0.0 {
                    quantity = sellable_long
                        + if may_short {
                            (quantity - long).max(0.0)
                        } else {
                            0.0
                        };
                    record.reason = Some(Reason::TPlusOne);
                }
                // Opening or adding to a short: the margin must be there.
                let short_part = (quantity - long).max(0.0);
                if let Some(shorts) = self.rules.shorts
                    && short_part > 0.0
                {
                    // The long part sells first and its proceeds are usable at once.
                    let usable = self.usable_cash() + (quantity - short_part) * fill_price;
                    let per_share = fill_price * shorts.margin_rate;
                    if per_share > 0.0 && short_part * per_share > usable {
                        let affordable = ((usable / per_share) / lot + 1e-9).floor().max(0.0) * lot;
                        quantity = quantity - short_part + affordable;
                        record.reason = Some(Reason::InsufficientCash);
                    }
                }
                if quantity <= 0.0 {
                    record.reason = record.reason.or(Some(Reason::InsufficientCash));
                    return record;
                }
                wanted
            }
            Side::Buy => {
                let wanted = quantity;
                let covering = (-held).max(0.0).min(quantity);
                let release = self
                    .rules
                    .shorts
                    .map_or(0.0, |sh| covering * price * (1.0 + sh.margin_rate));
                let budget = self.usable_cash() + release;
                let rate = 1.0 + costs.commission_rate + costs.transfer_fee_rate;
                let cost = |q: f64| {
                    let value = q * fill_price;
                    value + costs.commission(value) + value * costs.transfer_fee_rate
                };
                if cost(quantity) > budget {
                    let mut lots = (budget / (fill_price * lot * rate)).floor().max(0.0);
                    while lots > 0.0 && cost(lots * lot) > budget {
                        lots -= 1.0;
                    }
                    quantity = (lots * lot).min(quantity);
                    record.reason = Some(Reason::InsufficientCash);
                }
                if quantity <= 0.0 {
                    return record;
                }
                wanted
            }
        };
        // The fill: cash, position (adjusted shares), costs and the record.
        let value = quantity * fill_price;
        let commission = costs.commission(value);
        let (signed, taxes) = match side {
            Side::Buy => (quantity, value * costs.transfer_fee_rate),
            Side::Sell => (
                -quantity,
                value * (costs.stamp_duty_rate + costs.transfer_fee_rate),
            ),
        };
        self.cash -= signed * fill_price + commission + taxes;
        self.shares[s] += signed / factor;
        if self.shares[s].abs() * factor < 1e-9 {
            self.shares[s] = 0.0;
        }
        if side == Side::Buy {
            self.bought_today[s] += quantity / factor;
        }
        self.book_fill(
            &mut record,
            quantity,
            fill_price,
            price,
            commission,
            taxes,
            factor,
        );
        record.status = if (quantity - wanted).abs() < 1e-9 {
            OrderStatus::Filled
        } else {
            OrderStatus::Partial
        };
        record
    }

    #[allow(clippy::too_many_arguments)]
    fn book_fill(
        &mut self,
        record: &mut OrderRecord,
        quantity: f64,
        fill_price: f64,
        price: f64,
        commission: f64,
        taxes: f64,
        factor: f64,
    ) {
        let slippage = quantity * (fill_price - price).abs();
        self.costs += commission + taxes + slippage;
        self.traded += quantity * fill_price;
        record.quantity = quantity;
        record.price = fill_price;
        record.adjusted_quantity = quantity / factor;
        record.commission = commission;
        record.taxes = taxes;
        record.slippage = slippage;
    }

    /// The previous close of `symbol` in real prices of `day` (an ex-date in between scales
    /// it by the factors), for the daily price limits.
    fn previous_close(&self, day: usize, symbol: usize, factor: f64) -> Option<f64> {
        (0..day)
            .rev()
            .find_map(|d| self.panel.bar(d, symbol))
            .map(|(_, close, f)| close * f / factor)
    }
}

#[cfg(test)]
mod t_plus_one {
    use super::*;

    #[test]
    fn shares_bought_today_cannot_be_sold_until_tomorrow() {
        let d0 = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        let mut panel = Panel::new(vec![d0, d0.succ_opt().unwrap()], vec!["600000.SH".into()]);
        panel.set(0, 0, 10.0, 10.0, 1.0);
        panel.set(1, 0, 10.0, 10.0, 1.0);
        let mut rules = Rules::cn();
        rules.costs.slippage = 0.0;
        let mut book = Book {
            panel: &panel,
            rules: &rules,
            cash: 100_000.0,
            shares: vec![0.0],
            bought_today: vec![0.0],
            last_close: vec![10.0],
            last_factor: vec![1.0],
            costs: 0.0,
            traded: 0.0,
        };
        let order = |quantity: f64| Pending {
            signal_day: 0,
            symbol: 0,
            quantity,
            factor: 1.0,
            closes: false,
        };
        let buy = book.execute(1, order(1_000.0));
        assert_eq!((buy.status, buy.quantity), (OrderStatus::Filled, 1_000.0));
        // The same day: the shares are there but locked.
        let sell = book.execute(1, order(-500.0));
        assert_eq!(
            (sell.status, sell.reason),
            (OrderStatus::NotFilled, Some(Reason::TPlusOne))
        );
        // The next day they are free.
        book.bought_today[0] = 0.0;
        let sell = book.execute(1, order(-500.0));
        assert_eq!((sell.status, sell.quantity), (OrderStatus::Filled, 500.0));
    }
}
