//! The research backtest on a synthetic market in a real database: bars with a split,
//! valuations, statements announced after their period (some without an announcement date),
//! indicators and news. Proves that no decision at t reads anything dated after t, that a
//! price spike after t is not traded on at t, and that a signal on the last day places no
//! order.

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use stockpilot_application::backtest::{Backtest, BacktestRequest, BacktestService, LlmPlan};
use stockpilot_application::ports::{
    CircuitState, Completion, CompletionRequest, DataBatch, LlmError, LlmGateway, MarketDataStore,
    ProviderConfig, ProviderStatus, TokenUsage,
};
use stockpilot_db::SeaStore;
use stockpilot_db::testing::TestDatabase;
use stockpilot_domain::backtest::{Benchmark, Rebalance, Rules, Simulation};
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, FinancialIndicators, FinancialLineItems,
    FinancialStatement, Instrument, NewsArticle, ReportPeriod, StatementKind, Symbol, TradingDay,
    known_on,
};

const SYMBOLS: [&str; 3] = ["AAA", "BBB", "CCC"];
const ANALYSTS: [&str; 4] = ["technical", "fundamentals", "valuation", "risk"];
/// The deterministic analysts plus two that read through an LLM: the news and the numeric
/// digest (bars, valuation, indicators).
const WITH_LLM: [&str; 6] = [
    "technical",
    "fundamentals",
    "valuation",
    "news_sentiment",
    "value_investor",
    "risk",
];

/// An LLM whose view is a hash of everything it is shown: any difference in what an analyst
/// reads changes its signal or confidence.
struct Fingerprint;

#[async_trait::async_trait]
impl LlmGateway for Fingerprint {
    async fn complete(&self, request: CompletionRequest) -> Result<Completion, LlmError> {
        let mut hash = DefaultHasher::new();
        for m in &request.messages {
            m.content.hash(&mut hash);
        }
        let h = hash.finish();
        let signal = if h.is_multiple_of(2) {
            "bullish"
        } else {
            "bearish"
        };
        Ok(Completion {
            content: format!(
                r#"{{"signal": "{signal}", "confidence": {}, "reasoning": "fingerprint {h:x}"}}"#,
                h % 101
            ),
            provider: "fingerprint".into(),
            model: "m".into(),
            usage: TokenUsage {
                prompt_tokens: 10,
                completion_tokens: 5,
            },
            latency: std::time::Duration::ZERO,
            finish_reason: Some("stop".into()),
            cost_usd: 0.0,
            cached: false,
        })
    }
    fn status(&self) -> Vec<ProviderStatus> {
        vec![ProviderStatus {
            name: "fingerprint".into(),
            enabled: true,
            circuit: CircuitState::Closed,
            in_flight: 0,
        }]
    }
    fn reload(&self, _providers: Vec<ProviderConfig>) {}
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap().round_dp(4)
}

/// A small deterministic generator (no dependency on a crate's algorithm across versions).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Everything the synthetic market has.
#[derive(Clone)]
struct Market {
    bars: Vec<DailyBar>,
    factors: Vec<AdjustmentFactor>,
    valuations: Vec<DailyValuation>,
    statements: Vec<FinancialStatement>,
    indicators: Vec<FinancialIndicators>,
    news: Vec<NewsArticle>,
}

fn bar(symbol: &Symbol, date: NaiveDate, open: f64, close: f64) -> DailyBar {
    DailyBar {
        symbol: symbol.clone(),
        trade_date: date,
        open: dec(open),
        high: dec(open.max(close) * 1.01),
        low: dec(open.min(close) * 0.99),
        close: dec(close),
        pre_close: None,
        change: None,
        pct_change: None,
        volume: dec(1_000_000.0),
        amount: None,
    }
}

fn indicators(
    symbol: &Symbol,
    date: NaiveDate,
    period: ReportPeriod,
    r: &mut Lcg,
) -> FinancialIndicators {
    let mut x = |lo: f64, hi: f64| Some(dec(lo + (hi - lo) * r.next()));
    FinancialIndicators {
        symbol: symbol.clone(),
        report_date: date,
        period,
        roe: x(-0.05, 0.35),
        roa: x(0.0, 0.15),
        roic: x(0.0, 0.2),
        gross_margin: x(0.2, 0.6),
        net_margin: x(-0.05, 0.3),
        operating_margin: x(0.0, 0.35),
        revenue_growth: x(-0.2, 0.4),
        earnings_growth: x(-0.3, 0.5),
        debt_to_equity: x(0.1, 1.5),
        debt_to_assets: x(0.1, 0.6),
        current_ratio: x(0.8, 2.5),
        quick_ratio: x(0.5, 2.0),
        eps: x(1.0, 8.0),
        book_value_per_share: x(10.0, 40.0),
        free_cash_flow_per_share: x(0.5, 6.0),
    }
}

fn items(r: &mut Lcg, scale: f64) -> FinancialLineItems {
    let mut x = |lo: f64, hi: f64| Some(dec((lo + (hi - lo) * r.next()) * scale));
    FinancialLineItems {
        revenue: x(8e9, 12e9),
        operating_income: x(1e9, 3e9),
        net_income: x(0.5e9, 2.5e9),
        ebit: x(1e9, 3e9),
        ebitda: x(1.5e9, 3.5e9),
        total_assets: x(20e9, 30e9),
        total_liabilities: x(8e9, 15e9),
        current_assets: x(5e9, 8e9),
        current_liabilities: x(3e9, 5e9),
        cash_and_equivalents: x(1e9, 4e9),
        total_debt: x(2e9, 6e9),
        shareholders_equity: x(10e9, 15e9),
        operating_cash_flow: x(1e9, 3e9),
        capital_expenditure: x(0.3e9, 0.8e9),
        free_cash_flow: x(0.5e9, 2e9),
        depreciation_and_amortization: x(0.2e9, 0.6e9),
        ..FinancialLineItems::default()
    }
}

fn weekdays(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .collect()
}

/// Three symbols over 2008–2012: trending and mean-reverting phases, a 2:1 split of BBB in
/// June 2011, yearly statements (even years announced 50 days after the year end, odd years
/// without an announcement date), yearly and quarterly indicators, monthly news.
fn market() -> Market {
    let mut m = Market {
        bars: Vec::new(),
        factors: Vec::new(),
        valuations: Vec::new(),
        statements: Vec::new(),
        indicators: Vec::new(),
        news: Vec::new(),
    };
    let days = weekdays(day(2008, 1, 1), day(2012, 12, 31));
    for (i, code) in SYMBOLS.iter().enumerate() {
        let symbol = Symbol::parse(code).unwrap();
        let mut r = Lcg(7 + i as u64);
        let mut price = 50.0 + 20.0 * i as f64;
        for (n, d) in days.iter().enumerate() {
            let phase = (n as f64 / (60.0 + 25.0 * i as f64)).sin();
            let open = price * (1.0 + 0.004 * (r.next() - 0.5));
            price *= 1.0 + 0.0025 * phase + 0.03 * (r.next() - 0.5);
            let split = *code == "BBB" && *d >= day(2011, 6, 1);
            let (raw_open, raw_close, factor) = if split {
                (open / 2.0, price / 2.0, 2.0)
            } else {
                (open, price, 1.0)
            };
            m.bars.push(bar(&symbol, *d, raw_open, raw_close));
            m.factors.push(AdjustmentFactor {
                symbol: symbol.clone(),
                trade_date: *d,
                factor: dec(factor),
            });
            let mut v = DailyValuation::empty(symbol.clone(), *d);
            v.pe = Some(dec(8.0 + 20.0 * r.next()));
            v.pb = Some(dec(1.0 + 3.0 * r.next()));
            v.ps = Some(dec(1.0 + 4.0 * r.next()));
            // About 4–10 times earnings, rising with the price: cheap early, dearer later.
            v.total_shares = Some(dec(1e8));
            v.total_market_cap = Some(dec(price * 1e8));
            m.valuations.push(v);
        }
        for year in 2006..=2012 {
            let end = day(year, 12, 31);
            let announced = (year % 2 == 0).then(|| end + Duration::days(50));
            for kind in [
                StatementKind::Income,
                StatementKind::Balance,
                StatementKind::CashFlow,
            ] {
                m.statements.push(FinancialStatement {
                    symbol: symbol.clone(),
                    kind,
                    period: ReportPeriod::Annual,
                    report_date: end,
                    announced_date: announced,
                    currency: "USD".into(),
                    items: items(&mut r, 1.0 + 0.1 * (year - 2006) as f64),
                    raw: "{}".into(),
                });
            }
            m.indicators
                .push(indicators(&symbol, end, ReportPeriod::Annual, &mut r));
            for month in [3, 6, 9, 12] {
                let q_end =
                    NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap_or(day(year + 1, 1, 1))
                        - Duration::days(1);
                m.indicators
                    .push(indicators(&symbol, q_end, ReportPeriod::Quarterly, &mut r));
            }
        }
        // One article a month: on the first trading day from the 15th.
        let mut months = std::collections::BTreeSet::new();
        for d in days
            .iter()
            .filter(|d| d.day() >= 15 && months.insert((d.year(), d.month())))
        {
            m.news.push(NewsArticle {
                symbol: symbol.clone(),
                title: format!("{code} results on {d}"),
                source: Some("wire".into()),
                author: None,
                published_on: *d,
                url: format!("https://news.example/{code}/{d}"),
                sentiment: None,
            });
        }
    }
    m
}

impl Market {
    /// The first day each row may be read; indicators become known with a statement of the
    /// same period end, else after the publication lag (the annual one at a year end).
    fn indicator_known_on(&self, i: &FinancialIndicators) -> NaiveDate {
        let announced = self
            .statements
            .iter()
            .filter(|s| s.symbol == i.symbol && s.report_date == i.report_date)
            .filter_map(|s| s.announced_date)
            .min();
        // A quarter ending where the fiscal year ends waits for the annual report.
        let year_end = self
            .statements
            .iter()
            .any(|s| s.symbol == i.symbol && s.report_date == i.report_date);
        let period = if year_end {
            ReportPeriod::Annual
        } else {
            i.period
        };
        known_on(period, i.report_date, announced)
    }

    /// This market with every row dated (or known) after `t` replaced by garbage.
    fn poisoned_after(&self, t: NaiveDate, seed: u64) -> Market {
        let mut r = Lcg(seed);
        let mut m = self.clone();
        for b in m.bars.iter_mut().filter(|b| b.trade_date > t) {
            let (o, c) = (1.0 + 999.0 * r.next(), 1.0 + 999.0 * r.next());
            *b = bar(&b.symbol, b.trade_date, o, c);
        }
        for f in m.factors.iter_mut().filter(|f| f.trade_date > t) {
            f.factor = dec(0.1 + 9.0 * r.next());
        }
        for v in m.valuations.iter_mut().filter(|v| v.trade_date > t) {
            v.pe = Some(dec(-50.0 + 500.0 * r.next()));
            v.pb = Some(dec(50.0 * r.next()));
            v.total_market_cap = Some(dec(1e6 + 1e13 * r.next()));
        }
        for s in m.statements.iter_mut().filter(|s| s.known_on() > t) {
            s.items = items(&mut r, -20.0);
        }
        let late: Vec<bool> = m
            .indicators
            .iter()
            .map(|i| self.indicator_known_on(i) > t)
            .collect();
        for (i, late) in m.indicators.iter_mut().zip(late) {
            if late {
                *i = FinancialIndicators {
                    roe: Some(dec(-5.0)),
                    net_margin: Some(dec(-3.0)),
                    revenue_growth: Some(dec(-0.9)),
                    earnings_growth: Some(dec(9.0)),
                    current_ratio: Some(dec(0.01)),
                    debt_to_equity: Some(dec(40.0)),
                    ..indicators(&i.symbol, i.report_date, i.period, &mut r)
                };
            }
        }
        for n in m.news.iter_mut().filter(|n| n.published_on > t) {
            n.title = "garbage headline".into();
        }
        m
    }

    async fn store_into(&self, store: &SeaStore) {
        for batch in [
            DataBatch::DailyBars(self.bars.clone()),
            DataBatch::AdjustmentFactors(self.factors.clone()),
            DataBatch::Valuations(self.valuations.clone()),
            DataBatch::Statements(self.statements.clone()),
            DataBatch::Indicators(self.indicators.clone()),
            DataBatch::News(self.news.clone()),
        ] {
            store.upsert("test", &batch).await.unwrap();
        }
    }
}

async fn store_with(market: &Market) -> (TestDatabase, Arc<SeaStore>) {
    let db = TestDatabase::sqlite().unwrap();
    let conn = db.connect().await.unwrap();
    stockpilot_server::run_migrate_on(
        &conn,
        &stockpilot_server::cli::MigrateAction::Upgrade {
            target: "head".into(),
        },
    )
    .await
    .unwrap();
    let store = Arc::new(SeaStore::new(conn));
    let instruments = SYMBOLS
        .iter()
        .map(|c| Instrument::new(Symbol::parse(c).unwrap(), format!("{c} Corp")))
        .collect();
    store
        .upsert("test", &DataBatch::Instruments(instruments))
        .await
        .unwrap();
    market.store_into(&store).await;
    (db, store)
}

fn request(from: NaiveDate, to: NaiveDate, rebalance: Rebalance) -> BacktestRequest {
    BacktestRequest {
        symbols: SYMBOLS.iter().map(|c| Symbol::parse(c).unwrap()).collect(),
        from,
        to,
        analysts: ANALYSTS.iter().map(|a| (*a).to_owned()).collect(),
        rebalance,
        simulation: Simulation {
            rules: Rules::preset("US").unwrap(),
            cash: 1_000_000.0,
            benchmark: Benchmark::EqualWeight,
        },
        llm: LlmPlan::default(),
    }
}

async fn run(store: &Arc<SeaStore>, req: &BacktestRequest) -> Backtest {
    let llm: Option<Arc<dyn LlmGateway>> = req
        .analysts
        .iter()
        .any(|a| a == "news_sentiment")
        .then(|| Arc::new(Fingerprint) as Arc<dyn LlmGateway>);
    BacktestService::new(store.clone(), store.clone(), llm)
        .run(req, &|_, _| {})
        .await
        .unwrap()
}

/// `(date, symbol, analyst)` → `(signal, score, confidence, weight)` of the rows up to `t`.
type Views = BTreeMap<(NaiveDate, usize, String), (String, Option<f64>, u8, Option<f64>)>;

fn views_until(b: &Backtest, t: NaiveDate) -> Views {
    b.rows
        .iter()
        .filter(|r| r.date <= t)
        .map(|r| {
            (
                (r.date, r.symbol, r.analyst.clone()),
                (r.signal.clone(), r.score, r.confidence, r.weight),
            )
        })
        .collect()
}

#[tokio::test]
async fn garbage_after_any_rebalance_date_changes_no_decision_taken_on_or_before_it() {
    let clean = market();
    let (_db, store) = store_with(&clean).await;
    let mut req = request(day(2011, 1, 1), day(2012, 6, 30), Rebalance::Monthly);
    req.analysts = WITH_LLM.iter().map(|a| (*a).to_owned()).collect();
    req.llm = LlmPlan {
        max_calls: 2 * 3 * 18,
        max_tokens: 1_000_000,
        max_tokens_per_call: 500,
        ..LlmPlan::default()
    };
    let reference = run(&store, &req).await;
    assert_eq!(reference.usage.llm_calls, 2 * 3 * 18);
    let dates: Vec<NaiveDate> = reference
        .rebalance_days
        .iter()
        .map(|&d| reference.panel.dates()[d])
        .collect();
    assert_eq!(dates.len(), 18, "{dates:?}");

    // The run is not trivially constant: every analyst forms views, and the book trades.
    let signals = |analyst: &str| -> Vec<&str> {
        reference
            .rows
            .iter()
            .filter(|r| r.analyst == analyst)
            .map(|r| r.signal.as_str())
            .collect()
    };
    for analyst in [
        "technical",
        "fundamentals",
        "valuation",
        "news_sentiment",
        "value_investor",
    ] {
        let s = signals(analyst);
        assert!(
            s.contains(&"bullish") && s.contains(&"bearish"),
            "{analyst}: {s:?}"
        );
    }
    let decisions = signals("decision");
    assert!(decisions.contains(&"buy") && decisions.contains(&"sell"));
    assert!(
        reference.outcome.orders.len() > 10,
        "{} orders; decisions {decisions:?}; weights {:?}",
        reference.outcome.orders.len(),
        reference
            .rows
            .iter()
            .filter(|r| r.analyst == "decision")
            .map(|r| r.weight)
            .collect::<Vec<_>>()
    );

    for (k, t) in dates.iter().enumerate() {
        clean
            .poisoned_after(*t, 1000 + k as u64)
            .store_into(&store)
            .await;
        let poisoned = run(&store, &req).await;
        clean.store_into(&store).await;
        let (before, after) = (views_until(&reference, *t), views_until(&poisoned, *t));
        assert_eq!(before.len(), (k + 1) * SYMBOLS.len() * (WITH_LLM.len() + 1));
        for (key, view) in &before {
            assert_eq!(Some(view), after.get(key), "data after {t} changed {key:?}");
        }
        // The garbage is read once its date has come: the next date's views change.
        if let Some(next) = dates.get(k + 1) {
            assert_ne!(
                views_until(&reference, *next),
                views_until(&poisoned, *next),
                "garbage after {t} changed nothing at {next}: the test would prove nothing"
            );
        }
    }
}

#[tokio::test]
async fn a_spike_the_day_after_a_signal_is_not_traded_on_and_the_last_day_places_no_order() {
    let clean = market();
    let (_db, store) = store_with(&clean).await;
    let req = request(day(2012, 3, 1), day(2012, 4, 30), Rebalance::Daily);
    let reference = run(&store, &req).await;
    let dates = reference.panel.dates().to_vec();
    let t = dates[10];
    let next = dates[11];

    // Triple every price of every symbol on t + 1 only.
    let mut spiked = clean.clone();
    for b in spiked.bars.iter_mut().filter(|b| b.trade_date == next) {
        let three = Decimal::from(3);
        b.open *= three;
        b.high *= three;
        b.low *= three;
        b.close *= three;
    }
    spiked.store_into(&store).await;
    let with_spike = run(&store, &req).await;
    clean.store_into(&store).await;

    assert_eq!(views_until(&reference, t), views_until(&with_spike, t));
    assert_ne!(
        views_until(&reference, next),
        views_until(&with_spike, next),
        "the spike is seen once it has happened"
    );
    // What was decided at t fills at t + 1, at the spiked price: the spike is paid, not
    // captured.
    let at_t: Vec<_> = with_spike
        .outcome
        .orders
        .iter()
        .filter(|o| reference.panel.dates()[0] <= o.signal_date && o.signal_date == t)
        .collect();
    let before: Vec<_> = reference
        .outcome
        .orders
        .iter()
        .filter(|o| o.signal_date == t)
        .collect();
    assert_eq!(at_t.len(), before.len());
    for (o, b) in at_t.iter().zip(&before) {
        assert_eq!((o.symbol, o.side, o.fill_date), (b.symbol, b.side, next));
        let ratio = o.price / b.price;
        assert!(
            (ratio - 3.0).abs() < 1e-9,
            "filled at {} vs {}",
            o.price,
            b.price
        );
    }
    for o in &with_spike.outcome.orders {
        assert!(o.fill_date > o.signal_date, "{o:?}");
    }

    // The last day: decided (every symbol, every analyst), nothing ordered, no return.
    let last = *dates.last().unwrap();
    assert_eq!(
        reference.rows.iter().filter(|r| r.date == last).count(),
        SYMBOLS.len() * (ANALYSTS.len() + 1)
    );
    assert!(
        reference
            .rows
            .iter()
            .filter(|r| r.date == last)
            .all(|r| r.forward_return.is_none())
    );
    assert!(
        reference
            .outcome
            .orders
            .iter()
            .all(|o| o.signal_date < last)
    );
    // A rebalance whose weights moved did place orders on the day before the last.
    assert!(
        reference
            .outcome
            .orders
            .iter()
            .any(|o| o.signal_date >= dates[dates.len() - 5])
    );
}

#[tokio::test]
async fn the_exchange_calendar_sets_the_rebalance_dates_even_on_a_day_no_symbol_traded() {
    // Friday 2012-03-16 is an open day of the exchange, but none of the symbols traded.
    let gap = day(2012, 3, 16);
    let mut m = market();
    m.bars.retain(|b| b.trade_date != gap);
    let (_db, store) = store_with(&m).await;
    let req = request(day(2012, 3, 1), day(2012, 3, 31), Rebalance::Weekly);
    let on_bars = run(&store, &req).await;
    assert_eq!(on_bars.calendar, None);
    let dates = |b: &Backtest| -> Vec<NaiveDate> {
        b.rebalance_days
            .iter()
            .map(|&d| b.panel.dates()[d])
            .collect()
    };
    assert!(dates(&on_bars).contains(&day(2012, 3, 15)));

    let exchange = Symbol::parse(SYMBOLS[0]).unwrap().exchange();
    let calendar = weekdays(day(2012, 1, 1), day(2012, 12, 31))
        .into_iter()
        .map(|d| TradingDay {
            exchange,
            date: d,
            is_open: true,
            pretrade_date: None,
        })
        .collect();
    store
        .upsert("test", &DataBatch::Calendar(calendar))
        .await
        .unwrap();
    let on_calendar = run(&store, &req).await;
    assert_eq!(on_calendar.calendar, Some(exchange));
    assert_eq!(
        dates(&on_calendar),
        vec![
            day(2012, 3, 2),
            day(2012, 3, 9),
            gap,
            day(2012, 3, 23),
            day(2012, 3, 30)
        ]
    );
    // Decided on the gap day from what was known then; filled on the next trading day.
    assert_eq!(
        on_calendar.rows.iter().filter(|r| r.date == gap).count(),
        SYMBOLS.len() * (ANALYSTS.len() + 1)
    );
    assert!(
        on_calendar
            .outcome
            .orders
            .iter()
            .filter(|o| o.signal_date == gap)
            .all(|o| o.fill_date == day(2012, 3, 19))
    );
}
