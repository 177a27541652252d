//! The CSV directory adapter on the bundled demo dataset and on hand-made files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::GzEncoder;
use rust_decimal::Decimal;
use stockpilot_application::ports::{MarketDataSource, SourceError};
use stockpilot_data_engineering::{CsvSettings, CsvSource, CsvSummary};
use stockpilot_domain::market::{DateRange, Exchange, Market, ReportPeriod, StatementKind, Symbol};

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../data/demo")
}

fn demo() -> CsvSource {
    CsvSource::new(CsvSettings::new(demo_dir()))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn range(from: (i32, u32, u32), to: (i32, u32, u32)) -> DateRange {
    DateRange::new(day(from.0, from.1, from.2), day(to.0, to.1, to.2), None).unwrap()
}

fn everything() -> DateRange {
    range((1990, 1, 1), (2030, 12, 31))
}

fn sym(s: &str) -> Symbol {
    Symbol::parse(s).unwrap()
}

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        if name.ends_with(".gz") {
            let mut encoder =
                GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
            encoder.write_all(content.as_bytes()).unwrap();
            encoder.finish().unwrap();
        } else {
            std::fs::write(path, content).unwrap();
        }
    }
    dir
}

fn source_over(dir: &tempfile::TempDir) -> CsvSource {
    CsvSource::new(CsvSettings::new(dir.path()))
}

#[tokio::test]
async fn reads_every_aapl_bar_of_the_demo_file() {
    let bars = demo().daily_bars(&sym("AAPL"), everything()).await.unwrap();

    assert_eq!(bars.len(), 3270);
    assert_eq!(bars.first().unwrap().trade_date, day(2000, 3, 1));
    assert_eq!(bars.last().unwrap().trade_date, day(2013, 3, 1));
    assert!(bars.windows(2).all(|w| w[0].trade_date < w[1].trade_date));
    let first = &bars[0];
    assert_eq!(first.open, dec("118.56"));
    assert_eq!(first.close, dec("130.31"));
    assert_eq!(first.volume, dec("9616100"));
    assert_eq!(
        (first.pre_close, first.change, first.pct_change),
        (None, None, None)
    );
}

#[tokio::test]
async fn a_known_demo_row_has_its_values_and_the_change_from_the_previous_session() {
    // AAPL,2008-09-26,124.91,129.8,123.0,128.24,40230400,16.480627364307
    // AAPL,2008-09-29,119.62,119.68,100.59,105.26,93644900,13.527377077097
    let bars = demo()
        .daily_bars(&sym("AAPL"), DateRange::single(day(2008, 9, 29)))
        .await
        .unwrap();

    assert_eq!(bars.len(), 1);
    let bar = &bars[0];
    assert_eq!(bar.open, dec("119.62"));
    assert_eq!(bar.high, dec("119.68"));
    assert_eq!(bar.low, dec("100.59"));
    assert_eq!(bar.close, dec("105.26"));
    assert_eq!(bar.volume, dec("93644900"));
    assert_eq!(bar.amount, None);
    assert_eq!(
        bar.pre_close,
        Some(dec("128.24")),
        "previous row, even outside the range"
    );
    assert_eq!(bar.change, Some(dec("-22.98")));
    assert_eq!(bar.pct_change, Some(dec("-17.9195")));
}

#[tokio::test]
async fn derives_the_adjustment_factor_from_the_adjusted_close() {
    let factors = demo()
        .adjustment_factors(&sym("AAPL"), range((2008, 9, 26), (2008, 9, 29)))
        .await
        .unwrap();

    let values: Vec<_> = factors.iter().map(|f| (f.trade_date, f.factor)).collect();
    assert_eq!(
        values,
        [
            // 16.480627364307 / 128.24 and 13.527377077097 / 105.26, 8 places
            (day(2008, 9, 26), dec("0.12851394")),
            (day(2008, 9, 29), dec("0.12851394")),
        ]
    );
}

#[tokio::test]
async fn filters_bars_by_range() {
    let csv = demo();

    let year_2005 = csv
        .daily_bars(&sym("AAPL"), range((2005, 1, 1), (2005, 12, 31)))
        .await
        .unwrap();
    let feb_mar_2005 = csv
        .daily_bars(&sym("AAPL"), range((2005, 2, 1), (2005, 3, 31)))
        .await
        .unwrap();
    let goog = csv.daily_bars(&sym("GOOG"), everything()).await.unwrap();
    let unknown = csv.daily_bars(&sym("ZZZZ"), everything()).await.unwrap();

    assert_eq!(year_2005.len(), 252);
    assert_eq!(feb_mar_2005.len(), 41);
    assert_eq!(goog.len(), 2148);
    assert_eq!(goog[0].trade_date, day(2004, 8, 19));
    assert!(unknown.is_empty());
}

#[tokio::test]
async fn lists_one_instrument_per_symbol_of_the_market() {
    let csv = demo();

    let us = csv.instruments(Market::Us).await.unwrap();
    let cn = csv.instruments(Market::Cn).await.unwrap();

    let symbols: Vec<_> = us.iter().map(|i| i.symbol.as_str()).collect();
    assert_eq!(symbols, ["AAPL", "FB", "GOOG", "IBM", "MSFT"]);
    assert_eq!(us[0].name, "AAPL");
    assert_eq!(us[0].exchange, Exchange::Us);
    assert_eq!(us[0].currency, "USD");
    assert!(cn.is_empty());
    assert_eq!(
        csv.summary().await.unwrap(),
        CsvSummary {
            files: 1,
            rows: 12_154,
            symbols: 5,
            duplicates: 0
        }
    );
}

#[tokio::test]
async fn the_calendar_is_the_union_of_dates_of_the_exchange() {
    let csv = demo();

    let days = csv
        .trading_calendar(Exchange::Us, range((2005, 1, 1), (2005, 12, 31)))
        .await
        .unwrap();
    let sse = csv
        .trading_calendar(Exchange::Sse, range((2005, 1, 1), (2005, 12, 31)))
        .await
        .unwrap();

    assert_eq!(days.len(), 252);
    assert!(days.iter().all(|d| d.is_open && d.exchange == Exchange::Us));
    assert_eq!(days[0].date, day(2005, 1, 3));
    assert_eq!(days[0].pretrade_date, Some(day(2004, 12, 31)));
    assert_eq!(days[1].pretrade_date, Some(day(2005, 1, 3)));
    assert!(sse.is_empty());
}

#[tokio::test]
async fn a_row_with_high_below_low_fails_the_load_naming_file_and_line() {
    let dir = dir_with(&[(
        "bad.csv",
        "Ticker,Date,Open,High,Low,Close,Volume\n\
         AAPL,2020-01-02,10,11,9,10.5,100\n\
         AAPL,2020-01-03,10,9,11,10,100\n",
    )]);

    let error = source_over(&dir)
        .daily_bars(&sym("AAPL"), everything())
        .await
        .unwrap_err();

    assert_eq!(error.kind(), "malformed");
    assert_eq!(
        error.to_string(),
        "csv: malformed response: bad.csv line 3: invalid daily bar AAPL 2020-01-03: high 9 is below low 11"
    );
}

#[tokio::test]
async fn an_unparsable_cell_names_file_line_and_column() {
    let dir = dir_with(&[(
        "prices.csv.gz",
        "Ticker,Date,Open,High,Low,Close,Volume\nMSFT,2020-01-02,10,11,9,ten,100\n",
    )]);

    let error = source_over(&dir).instruments(Market::Us).await.unwrap_err();

    assert_eq!(
        error.to_string(),
        "csv: malformed response: prices.csv.gz line 2, column 'Close': 'ten' is not a number"
    );
}

#[tokio::test]
async fn bad_headers_dates_and_symbols_are_malformed() {
    let cases = [
        (
            "Ticker,Date,Open,High,Low,Close\nAAPL,2020-01-02,1,1,1,1\n",
            "x.csv: no column for volume|vol",
        ),
        (
            "Ticker,Date,Open,High,Low,Close,Volume\nAAPL,02/01/2020,1,1,1,1,1\n",
            "x.csv line 2, column 'Date': '02/01/2020' is not a date",
        ),
        (
            "Ticker,Date,Open,High,Low,Close,Volume\naapl,2020-01-02,1,1,1,1,1\n",
            "x.csv line 2, column 'Ticker': 'aapl' is not a valid US symbol",
        ),
        (
            "Ticker,Date,Open,High,Low,Close,Volume\nAAPL,2020-01-02,1,1\n",
            "x.csv: CSV error: record 1 (line: 2, byte: 39): found record with 4 fields",
        ),
    ];
    for (content, expected) in cases {
        let dir = dir_with(&[("x.csv", content)]);

        let error = source_over(&dir).summary().await.unwrap_err();

        assert_eq!(error.kind(), "malformed");
        assert!(
            error.to_string().contains(expected),
            "{error} lacks {expected}"
        );
    }
}

#[tokio::test]
async fn maps_aliases_takes_the_symbol_from_the_file_name_and_ignores_other_files() {
    let dir = dir_with(&[
        (
            "600519.SH.csv",
            "trade_date,open,high,low,close,pre_close,vol,amount,name\n\
             20240103,1700,1725,1698.8,1722,1701,2034567,3456789123,贵州茅台\n\
             20240102,1709,1712,1690.01,1701,1709.55,1800000,2000000500,贵州茅台\n",
        ),
        ("notes.txt", "not data"),
        ("README.md", "# readme"),
    ]);
    let csv = source_over(&dir);
    let moutai = sym("600519.SH");

    let bars = csv.daily_bars(&moutai, everything()).await.unwrap();
    let instruments = csv.instruments(Market::Cn).await.unwrap();
    let calendar = csv
        .trading_calendar(Exchange::Sse, everything())
        .await
        .unwrap();

    assert_eq!(bars.len(), 2);
    assert_eq!(bars[0].trade_date, day(2024, 1, 2));
    assert_eq!(
        bars[0].pre_close,
        Some(dec("1709.55")),
        "the file's pre_close wins"
    );
    assert_eq!(bars[0].change, Some(dec("-8.55")));
    assert_eq!(bars[0].pct_change, Some(dec("-0.5001")));
    assert_eq!(bars[1].volume, dec("2034567"));
    assert_eq!(bars[1].amount, Some(dec("3456789123")));
    assert_eq!(instruments.len(), 1);
    assert_eq!(instruments[0].name, "贵州茅台");
    assert_eq!(instruments[0].exchange, Exchange::Sse);
    assert_eq!(instruments[0].currency, "CNY");
    assert_eq!(calendar.len(), 2);
    assert!(
        csv.adjustment_factors(&moutai, everything())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_repeated_symbol_and_date_keeps_the_last_row_and_is_counted() {
    let dir = dir_with(&[
        (
            "a.csv",
            "symbol,date,open,high,low,close,volume\n\
             IBM,2020-01-02,10,11,9,10,100\n\
             IBM,2020-01-03,10,11,9,10.5,100\n\
             IBM,2020-01-02,10,12,9,11,200\n",
        ),
        (
            "b.csv",
            "symbol,date,open,high,low,close,volume\nIBM,2020-01-03,10,11,9,10.25,300\n",
        ),
    ]);
    let csv = source_over(&dir);

    let bars = csv.daily_bars(&sym("IBM"), everything()).await.unwrap();

    let values: Vec<_> = bars
        .iter()
        .map(|b| (b.trade_date, b.close, b.volume))
        .collect();
    assert_eq!(
        values,
        [
            (day(2020, 1, 2), dec("11"), dec("200")),
            (day(2020, 1, 3), dec("10.25"), dec("300")),
        ]
    );
    assert_eq!(
        csv.summary().await.unwrap(),
        CsvSummary {
            files: 2,
            rows: 4,
            symbols: 1,
            duplicates: 2
        }
    );
}

#[tokio::test]
async fn other_datasets_are_unsupported_and_a_missing_directory_is_transient() {
    let csv = demo();
    let year = range((2005, 1, 1), (2005, 12, 31));

    let valuations = csv.daily_valuations(&sym("AAPL"), year).await.unwrap_err();
    let statements = csv
        .financial_statements(
            &sym("AAPL"),
            StatementKind::Income,
            ReportPeriod::Annual,
            year,
        )
        .await
        .unwrap_err();
    let news = csv.news(&sym("AAPL"), year).await.unwrap_err();
    let missing = CsvSource::new(CsvSettings::new("/nonexistent/stockpilot-csv"))
        .instruments(Market::Us)
        .await
        .unwrap_err();

    assert_eq!(
        valuations,
        SourceError::Unsupported {
            provider: "csv",
            dataset: "valuations"
        }
    );
    assert_eq!(statements.kind(), "unsupported");
    assert_eq!(news.kind(), "unsupported");
    assert_eq!(missing.kind(), "transient");
    assert!(missing.to_string().contains("/nonexistent/stockpilot-csv"));
    assert_eq!(csv.markets(), [Market::Cn, Market::Us]);
    let us_only = CsvSource::new(CsvSettings::new(demo_dir()).serving(Market::Us));
    assert_eq!(us_only.markets(), [Market::Us]);
}

static EMBEDDED_DEMO: &[(&str, &[u8])] = &[
    (
        "us-equities-daily-2000-2013.csv.gz",
        include_bytes!("../../../../data/demo/us-equities-daily-2000-2013.csv.gz"),
    ),
    // Not a data file: ignored, as in a directory.
    ("README.md", b"# not read"),
];

#[tokio::test]
async fn files_held_in_memory_read_exactly_as_the_same_directory() {
    let embedded = CsvSource::new(CsvSettings::embedded("test dataset", EMBEDDED_DEMO));
    let from_dir = demo();
    assert_eq!(
        embedded.summary().await.unwrap(),
        from_dir.summary().await.unwrap()
    );
    assert_eq!(embedded.summary().await.unwrap().files, 1);
    let aapl = sym("AAPL");
    let bars = embedded.daily_bars(&aapl, everything()).await.unwrap();
    assert_eq!(
        bars,
        from_dir.daily_bars(&aapl, everything()).await.unwrap()
    );
    let in_2012 = embedded
        .daily_bars(&aapl, range((2012, 1, 1), (2012, 12, 31)))
        .await
        .unwrap();
    assert_eq!(in_2012.len(), 250);
    assert_eq!(
        embedded.instruments(Market::Us).await.unwrap().len(),
        from_dir.instruments(Market::Us).await.unwrap().len()
    );
}

#[tokio::test]
async fn a_bad_file_held_in_memory_is_named() {
    static BAD: &[(&str, &[u8])] = &[(
        "bad.csv",
        b"symbol,date,open,high,low,close,volume\nAAPL,2020-01-02,1,2,0.5,1.5,x\n",
    )];
    let err = CsvSource::new(CsvSettings::embedded("test dataset", BAD))
        .summary()
        .await
        .unwrap_err();
    let SourceError::Malformed { message, .. } = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("bad.csv"), "{message}");
    assert!(message.contains("volume"), "{message}");
}
