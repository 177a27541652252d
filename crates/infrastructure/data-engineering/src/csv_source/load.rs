//! Reading a directory of CSV files into an index by symbol: header mapping, cell parsing,
//! bar validation, and "last row wins" for duplicate (symbol, date) pairs.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use csv::{ReaderBuilder, StringRecord, Trim};
use flate2::read::MultiGzDecoder;
use rust_decimal::Decimal;
use stockpilot_application::ports::SourceError;
use stockpilot_domain::market::{DailyBar, Symbol};

use super::PROVIDER;
use crate::num::{parse_date, parse_decimal, short};
use crate::settings::CsvOrigin;

/// What one load found; duplicates are (symbol, date) rows replaced by a later one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsvSummary {
    /// Files read.
    pub files: usize,
    /// Data rows read, duplicates included.
    pub rows: usize,
    /// Distinct symbols.
    pub symbols: usize,
    /// Rows that replaced an earlier row of the same symbol and date.
    pub duplicates: usize,
}

/// One validated row, prices in currency units and volume in shares as the file has them.
#[derive(Debug, Clone)]
pub(crate) struct CsvRow {
    pub(crate) date: NaiveDate,
    pub(crate) open: Decimal,
    pub(crate) high: Decimal,
    pub(crate) low: Decimal,
    pub(crate) close: Decimal,
    pub(crate) volume: Decimal,
    pub(crate) amount: Option<Decimal>,
    pub(crate) pre_close: Option<Decimal>,
    pub(crate) adj_close: Option<Decimal>,
}

/// All rows of one symbol, ascending by date without duplicates.
#[derive(Debug, Default)]
pub(crate) struct Series {
    pub(crate) name: Option<String>,
    pub(crate) rows: Vec<CsvRow>,
}

#[derive(Debug, Default)]
pub(crate) struct Index {
    pub(crate) series: BTreeMap<Symbol, Series>,
    pub(crate) summary: CsvSummary,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Role {
    Symbol,
    Date,
    Open,
    High,
    Low,
    Close,
    Volume,
    Amount,
    PreClose,
    AdjClose,
    Name,
}

/// Normalised header (lowercase, spaces and dashes as underscores) → role. Mirrored by the
/// table in the module docs.
const ALIASES: &[(&str, Role)] = &[
    ("ticker", Role::Symbol),
    ("symbol", Role::Symbol),
    ("ts_code", Role::Symbol),
    ("date", Role::Date),
    ("trade_date", Role::Date),
    ("open", Role::Open),
    ("high", Role::High),
    ("low", Role::Low),
    ("close", Role::Close),
    ("volume", Role::Volume),
    ("vol", Role::Volume),
    ("amount", Role::Amount),
    ("pre_close", Role::PreClose),
    ("adj_close", Role::AdjClose),
    ("name", Role::Name),
];

const REQUIRED: &[(Role, &str)] = &[
    (Role::Date, "date|trade_date"),
    (Role::Open, "open"),
    (Role::High, "high"),
    (Role::Low, "low"),
    (Role::Close, "close"),
    (Role::Volume, "volume|vol"),
];

struct Columns {
    by_role: Vec<(Role, usize)>,
    headers: Vec<String>,
}

impl Columns {
    fn from_headers(headers: &StringRecord) -> Result<Columns, String> {
        let mut by_role: Vec<(Role, usize)> = Vec::new();
        let names: Vec<String> = headers
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        for (i, header) in names.iter().enumerate() {
            let normalised = header.to_lowercase().replace([' ', '-'], "_");
            let Some((_, role)) = ALIASES.iter().find(|(alias, _)| *alias == normalised) else {
                continue;
            };
            if let Some((_, first)) = by_role.iter().find(|(r, _)| r == role) {
                let first = names.get(*first).map_or("", String::as_str);
                return Err(format!(
                    "columns '{first}' and '{header}' mean the same thing"
                ));
            }
            by_role.push((*role, i));
        }
        for (role, accepted) in REQUIRED {
            if !by_role.iter().any(|(r, _)| r == role) {
                return Err(format!("no column for {accepted}"));
            }
        }
        Ok(Columns {
            by_role,
            headers: names,
        })
    }

    fn index(&self, role: Role) -> Option<usize> {
        self.by_role
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, i)| *i)
    }
}

/// One record with the context needed to name a bad cell.
struct Record<'a> {
    file: &'a str,
    line: u64,
    columns: &'a Columns,
    record: &'a StringRecord,
}

impl Record<'_> {
    fn problem(&self, column: usize, what: &str) -> SourceError {
        let header = self.columns.headers.get(column).map_or("?", String::as_str);
        malformed(format!(
            "{} line {}, column '{header}': {what}",
            self.file, self.line
        ))
    }

    fn cell(&self, role: Role) -> Option<(usize, &str)> {
        let column = self.columns.index(role)?;
        let value = self.record.get(column)?.trim();
        (!value.is_empty()).then_some((column, value))
    }

    fn required_cell(&self, role: Role) -> Result<(usize, &str), SourceError> {
        let column = self.columns.index(role).unwrap_or_default();
        self.cell(role)
            .ok_or_else(|| self.problem(column, "value is empty"))
    }

    fn decimal(&self, role: Role) -> Result<Option<Decimal>, SourceError> {
        self.cell(role)
            .map(|(column, text)| parse_decimal(text).map_err(|e| self.problem(column, &e)))
            .transpose()
    }

    fn required_decimal(&self, role: Role) -> Result<Decimal, SourceError> {
        let (column, text) = self.required_cell(role)?;
        parse_decimal(text).map_err(|e| self.problem(column, &e))
    }

    fn date(&self) -> Result<NaiveDate, SourceError> {
        let (column, text) = self.required_cell(Role::Date)?;
        parse_date(text).map_err(|e| self.problem(column, &e))
    }

    fn symbol(&self) -> Result<Option<Symbol>, SourceError> {
        self.cell(Role::Symbol)
            .map(|(column, text)| {
                Symbol::parse(text).map_err(|e| self.problem(column, &e.to_string()))
            })
            .transpose()
    }
}

fn malformed(message: String) -> SourceError {
    SourceError::Malformed {
        provider: PROVIDER,
        message,
    }
}

fn io_failure(path: &Path, error: &std::io::Error) -> SourceError {
    SourceError::Transient {
        provider: PROVIDER,
        message: format!("cannot read {}: {error}", path.display()),
    }
}

/// `*.csv` and `*.csv.gz` files directly in `dir`, by name.
fn data_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_failure(dir, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_failure(dir, &e))?.path();
        if path.is_file() && is_data_file(&file_name(&path)) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The symbol a file without a symbol column is about: its name without `.csv` / `.csv.gz`.
fn symbol_from_file_name(name: &str) -> Result<Symbol, SourceError> {
    let lower = name.to_lowercase();
    let stem_len = if lower.ends_with(".csv.gz") {
        name.len() - ".csv.gz".len()
    } else {
        name.len() - ".csv".len()
    };
    let stem = name.get(..stem_len).unwrap_or(name);
    Symbol::parse(stem).map_err(|e| {
        malformed(format!(
            "{name}: no symbol column and the file name is not a symbol ({e})"
        ))
    })
}

/// Loads every data file of `origin`. Blocking: run it on a blocking thread.
///
/// # Errors
/// `Transient` when the directory or a file cannot be read; `Malformed` naming file, line and
/// column for the first bad header, cell or bar.
pub(crate) fn load(origin: &CsvOrigin) -> Result<Index, SourceError> {
    let mut builder = Builder::new();
    let mut summary = CsvSummary::default();
    match origin {
        CsvOrigin::Dir(dir) => {
            for path in data_files(dir)? {
                let file = File::open(&path).map_err(|e| io_failure(&path, &e))?;
                load_file(&file_name(&path), file, &mut builder, &mut summary)?;
            }
        }
        CsvOrigin::Embedded { files, .. } => {
            let mut files = files.to_vec();
            files.sort_by_key(|(name, _)| *name);
            for (name, bytes) in files {
                if is_data_file(name) {
                    load_file(name, bytes, &mut builder, &mut summary)?;
                }
            }
        }
    }
    let series: BTreeMap<Symbol, Series> = builder
        .into_iter()
        .map(|(symbol, (name, rows))| {
            let rows = rows.into_values().collect();
            (symbol, Series { name, rows })
        })
        .collect();
    summary.symbols = series.len();
    if summary.duplicates > 0 {
        tracing::warn!(
            origin = %origin,
            duplicates = summary.duplicates,
            "CSV rows repeated a (symbol, date); the last one read was kept"
        );
    }
    Ok(Index { series, summary })
}

fn is_data_file(name: &str) -> bool {
    let name = name.to_lowercase();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

type Builder = BTreeMap<Symbol, (Option<String>, BTreeMap<NaiveDate, CsvRow>)>;

/// Reads one file (gzip-compressed when its name ends in `.gz`) into `builder`.
fn load_file(
    name: &str,
    raw: impl Read,
    builder: &mut Builder,
    summary: &mut CsvSummary,
) -> Result<(), SourceError> {
    let reader: Box<dyn Read + '_> = if name.to_lowercase().ends_with(".gz") {
        Box::new(MultiGzDecoder::new(BufReader::new(raw)))
    } else {
        Box::new(BufReader::new(raw))
    };
    summary.files += 1;
    let mut csv = ReaderBuilder::new().trim(Trim::All).from_reader(reader);
    let csv_error = |e: csv::Error| match e.kind() {
        csv::ErrorKind::Io(io) => SourceError::Transient {
            provider: PROVIDER,
            message: format!("cannot read {name}: {io}"),
        },
        _ => malformed(format!("{name}: {e}")),
    };
    let headers = csv.headers().map_err(csv_error)?.clone();
    let columns = Columns::from_headers(&headers).map_err(|e| malformed(format!("{name}: {e}")))?;
    let file_symbol = match columns.index(Role::Symbol) {
        Some(_) => None,
        None => Some(symbol_from_file_name(name)?),
    };
    let mut record = StringRecord::new();
    while csv.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        let row = Record {
            file: name,
            line,
            columns: &columns,
            record: &record,
        };
        let symbol = match (&file_symbol, row.symbol()?) {
            (_, Some(symbol)) => symbol,
            (Some(symbol), None) => symbol.clone(),
            (None, None) => {
                let column = columns.index(Role::Symbol).unwrap_or_default();
                return Err(row.problem(column, "value is empty"));
            }
        };
        let parsed = CsvRow {
            date: row.date()?,
            open: row.required_decimal(Role::Open)?,
            high: row.required_decimal(Role::High)?,
            low: row.required_decimal(Role::Low)?,
            close: row.required_decimal(Role::Close)?,
            volume: row.required_decimal(Role::Volume)?,
            amount: row.decimal(Role::Amount)?,
            pre_close: row.decimal(Role::PreClose)?,
            adj_close: row.decimal(Role::AdjClose)?,
        };
        validate(&symbol, &parsed).map_err(|e| malformed(format!("{name} line {line}: {e}")))?;
        let name_cell = row.cell(Role::Name).map(|(_, n)| short(n));
        let entry = builder.entry(symbol).or_default();
        if name_cell.is_some() {
            entry.0 = name_cell;
        }
        if entry.1.insert(parsed.date, parsed).is_some() {
            summary.duplicates += 1;
        }
        summary.rows += 1;
    }
    Ok(())
}

fn validate(symbol: &Symbol, row: &CsvRow) -> Result<(), String> {
    if let Some(adj_close) = row.adj_close.filter(|a| *a < Decimal::ZERO) {
        return Err(format!("adj_close {adj_close} is negative"));
    }
    let bar = DailyBar {
        symbol: symbol.clone(),
        trade_date: row.date,
        open: row.open,
        high: row.high,
        low: row.low,
        close: row.close,
        pre_close: row.pre_close,
        change: None,
        pct_change: None,
        volume: row.volume,
        amount: row.amount,
    };
    bar.validate().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> StringRecord {
        StringRecord::from(names.to_vec())
    }

    #[test]
    fn maps_headers_case_insensitively_with_aliases() {
        let columns = Columns::from_headers(&headers(&[
            "Ticker",
            "Date",
            "Open",
            "High",
            "Low",
            "Close",
            "Volume",
            "Adj Close",
        ]))
        .unwrap();
        assert_eq!(columns.index(Role::Symbol), Some(0));
        assert_eq!(columns.index(Role::AdjClose), Some(7));
        assert_eq!(columns.index(Role::Amount), None);
        let tushare = Columns::from_headers(&headers(&[
            "ts_code",
            "trade_date",
            "open",
            "high",
            "low",
            "close",
            "vol",
            "amount",
        ]))
        .unwrap();
        assert_eq!(tushare.index(Role::Volume), Some(6));
        assert_eq!(tushare.index(Role::Amount), Some(7));
    }

    #[test]
    fn names_missing_and_ambiguous_columns() {
        let missing = Columns::from_headers(&headers(&["date", "open", "high", "low", "close"]));
        assert_eq!(missing.err(), Some("no column for volume|vol".to_owned()));
        let twice = Columns::from_headers(&headers(&[
            "ticker", "symbol", "date", "open", "high", "low", "close", "volume",
        ]));
        assert_eq!(
            twice.err(),
            Some("columns 'ticker' and 'symbol' mean the same thing".to_owned())
        );
    }

    #[test]
    fn takes_the_symbol_from_the_file_name() {
        assert_eq!(symbol_from_file_name("AAPL.csv").unwrap().as_str(), "AAPL");
        assert_eq!(
            symbol_from_file_name("600519.SH.csv.gz").unwrap().as_str(),
            "600519.SH"
        );
        assert!(symbol_from_file_name("prices.csv").is_err());
    }
}
