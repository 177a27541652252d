//! Reading `simulate`'s files: the weights CSV and the `--bars` CSV. Every problem names the
//! file, the line and what is allowed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use stockpilot_application::backtest::{PanelRow, assemble};
use stockpilot_domain::backtest::{Panel, Targets};
use stockpilot_domain::market::Symbol;

/// One row of the weights file.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightRow {
    pub line: usize,
    pub date: NaiveDate,
    pub symbol: Symbol,
    pub weight: f64,
}

/// The file's text; a `.gz` file is decompressed.
fn read(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    let read = if path.extension().is_some_and(|e| e == "gz") {
        flate2::read::GzDecoder::new(file).read_to_string(&mut text)
    } else {
        std::io::BufReader::new(file).read_to_string(&mut text)
    };
    read.with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    Ok(text)
}

/// The column of each wanted name in a header line (case-insensitive, spaces as `_`).
fn columns<const N: usize>(
    path: &Path,
    header: &str,
    wanted: [&[&str]; N],
) -> anyhow::Result<[Option<usize>; N]> {
    let names: Vec<String> = header
        .split(',')
        .map(|c| c.trim().to_ascii_lowercase().replace(' ', "_"))
        .collect();
    let mut found = [None; N];
    for (slot, aliases) in found.iter_mut().zip(wanted) {
        *slot = names.iter().position(|n| aliases.contains(&n.as_str()));
    }
    if names.is_empty() {
        bail!("{}: the file is empty", path.display());
    }
    Ok(found)
}

/// The weights file: header `date,symbol,weight`, one row per symbol and signal date.
///
/// # Errors
/// An unreadable file, a missing column, or a row whose date, symbol or weight does not parse
/// (naming the line), or a symbol twice on one date.
pub fn weights(path: &Path) -> anyhow::Result<Vec<WeightRow>> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        bail!(
            "{}: the file is empty; expected the header date,symbol,weight",
            path.display()
        );
    };
    let [Some(date_col), Some(symbol_col), Some(weight_col)] = columns(
        path,
        header,
        [&["date"], &["symbol", "ticker"], &["weight"]],
    )?
    else {
        bail!(
            "{}: the header must name the columns date, symbol and weight; found '{}'",
            path.display(),
            header.trim()
        );
    };
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |c: usize| cells.get(c).copied().unwrap_or_default();
        let at = || format!("{} line {line_no}", path.display());
        let date = NaiveDate::parse_from_str(cell(date_col), "%Y-%m-%d").map_err(|_| {
            anyhow::anyhow!("{}: date '{}' is not YYYY-MM-DD", at(), cell(date_col))
        })?;
        let symbol =
            Symbol::parse(cell(symbol_col)).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
        let weight: f64 = cell(weight_col)
            .parse()
            .ok()
            .filter(|w: &f64| w.is_finite())
            .ok_or_else(|| {
                anyhow::anyhow!("{}: weight '{}' is not a number", at(), cell(weight_col))
            })?;
        if !seen.insert((date, symbol.as_str().to_owned())) {
            bail!("{}: {symbol} appears twice on {date}", at());
        }
        rows.push(WeightRow {
            line: line_no,
            date,
            symbol,
            weight,
        });
    }
    if rows.is_empty() {
        bail!("{}: no weights after the header", path.display());
    }
    Ok(rows)
}

/// The bars of `symbols` between `from` and `to` from a CSV in the demo format; the factor is
/// `Adj Close ÷ Close` when that column exists (smoothed as stored factors are), else 1.
///
/// # Errors
/// An unreadable file, missing columns, unparsable numbers (naming the line), or a symbol
/// without any bar in the range.
pub fn bars(
    path: &Path,
    symbols: &[Symbol],
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Panel> {
    let text = read(path)?;
    let mut lines = text.lines().enumerate();
    let header = lines.next().map(|(_, h)| h).unwrap_or_default();
    let [ticker, date, open, close, adj] = columns(
        path,
        header,
        [
            &["ticker", "symbol"],
            &["date", "trade_date"],
            &["open"],
            &["close"],
            &["adj_close", "adjusted_close"],
        ],
    )?;
    let (Some(ticker), Some(date), Some(open), Some(close)) = (ticker, date, open, close) else {
        bail!(
            "{}: the header must name Ticker, Date, Open and Close (Adj Close optional); found '{}'",
            path.display(),
            header.trim()
        );
    };
    let mut rows: Vec<PanelRow> = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |c: usize| cells.get(c).copied().unwrap_or_default();
        let Some(s) = symbols.iter().position(|s| s.as_str() == cell(ticker)) else {
            continue;
        };
        let at = || format!("{} line {}", path.display(), i + 1);
        let day = NaiveDate::parse_from_str(cell(date), "%Y-%m-%d")
            .map_err(|_| anyhow::anyhow!("{}: date '{}' is not YYYY-MM-DD", at(), cell(date)))?;
        if day < from || day > to {
            continue;
        }
        let number = |c: usize, name: &str| -> anyhow::Result<f64> {
            cell(c)
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| anyhow::anyhow!("{}: {name} '{}' is not a price > 0", at(), cell(c)))
        };
        let (o, c) = (number(open, "open")?, number(close, "close")?);
        let factor = match adj {
            Some(a) => Some(number(a, "adj close")? / c),
            None => None,
        };
        rows.push(PanelRow {
            symbol: s,
            date: day,
            open: o,
            close: c,
            factor,
        });
    }
    if let Some(missing) = symbols
        .iter()
        .enumerate()
        .find(|(s, _)| !rows.iter().any(|r| r.symbol == *s))
    {
        bail!(
            "{}: {} has no bars between {from} and {to}",
            path.display(),
            missing.1
        );
    }
    Ok(assemble(symbols, &[], rows, &[]))
}

/// The weights as the simulator's targets, one entry per signal date. Rows dated outside
/// `from`–`to` are left out (their count is returned); a row inside it on a day without any
/// bar is an error.
///
/// # Errors
/// A row dated inside the range on a day that is not a trading day of the data.
pub fn targets(
    rows: &[WeightRow],
    panel: &Panel,
    symbols: &[Symbol],
    path: &Path,
    (from, to): (NaiveDate, NaiveDate),
) -> anyhow::Result<(Vec<Targets>, usize)> {
    let dates = panel.dates();
    let mut by_day: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    let mut outside = 0;
    for row in rows {
        if row.date < from || row.date > to {
            outside += 1;
            continue;
        }
        let day = dates.binary_search(&row.date).map_err(|_| {
            anyhow::anyhow!(
                "{} line {}: {} is not a trading day of the data (no symbol has a bar on it)",
                path.display(),
                row.line,
                row.date
            )
        })?;
        let symbol = symbols
            .iter()
            .position(|s| s == &row.symbol)
            .unwrap_or_default();
        by_day.entry(day).or_default().push((symbol, row.weight));
    }
    Ok((
        by_day
            .into_iter()
            .map(|(day, weights)| Targets { day, weights })
            .collect(),
        outside,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weights.csv");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn weights_parse_and_problems_name_the_line() {
        let (_d, path) = file("date,symbol,weight\n2005-01-03,AAPL,0.5\n\n2005-01-03,IBM,0.25\n");
        let rows = weights(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[1].line, rows[1].weight), (4, 0.25));

        let (_d, path) = file("date,symbol,weight\n2005-01-03,AAPL,half\n");
        let err = weights(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("weights.csv line 2: weight 'half' is not a number"),
            "{err}"
        );
        let (_d, path) = file("date,symbol,weight\n03/01/2005,AAPL,0.5\n");
        assert!(
            weights(&path)
                .unwrap_err()
                .to_string()
                .contains("line 2: date '03/01/2005' is not YYYY-MM-DD")
        );
        let (_d, path) = file("day,ticker,w\n");
        assert!(
            weights(&path)
                .unwrap_err()
                .to_string()
                .contains("must name the columns date, symbol and weight")
        );
        let (_d, path) = file("date,symbol,weight\n2005-01-03,AAPL,0.5\n2005-01-03,AAPL,0.1\n");
        assert!(
            weights(&path)
                .unwrap_err()
                .to_string()
                .contains("line 3: AAPL appears twice on 2005-01-03")
        );
    }
}
