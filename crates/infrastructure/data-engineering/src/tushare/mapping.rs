//! Tushare rows to domain values, with the unit conversions the domain types require:
//! `vol` lots ×100 → shares, `amount` thousand CNY ×1000 → CNY, `daily_basic` share counts
//! and market values ×10,000, `fina_indicator` percentages ÷100 → fractions.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use stockpilot_domain::market::{
    AdjustmentFactor, DailyBar, DailyValuation, Exchange, FinancialIndicators, FinancialLineItems,
    FinancialStatement, Instrument, ListingStatus, Market, ReportPeriod, StatementKind, Symbol,
    TradingDay,
};

use super::protocol::Row;
use crate::num::{percent_to_fraction, scaled};

pub(crate) const STOCK_BASIC_FIELDS: &str =
    "ts_code,name,area,industry,market,exchange,curr_type,list_status,list_date,delist_date";
pub(crate) const TRADE_CAL_FIELDS: &str = "exchange,cal_date,is_open,pretrade_date";
pub(crate) const DAILY_FIELDS: &str =
    "ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount";
pub(crate) const ADJ_FACTOR_FIELDS: &str = "ts_code,trade_date,adj_factor";
pub(crate) const DAILY_BASIC_FIELDS: &str = "ts_code,trade_date,turnover_rate,pe,pe_ttm,pb,ps,\
     ps_ttm,dv_ratio,dv_ttm,total_share,float_share,total_mv,circ_mv";
pub(crate) const FINA_INDICATOR_FIELDS: &str = "ts_code,ann_date,end_date,eps,bps,roe,roa,roic,\
     grossprofit_margin,netprofit_margin,op_of_gr,debt_to_assets,current_ratio,quick_ratio,\
     fcff_ps,netprofit_yoy,tr_yoy,or_yoy,update_flag";

const LOT: i64 = 100;
const THOUSAND: i64 = 1_000;
const TEN_THOUSAND: i64 = 10_000;

/// `stock_basic` row; `None` (skipped with a warning by the caller) when `ts_code` is not an
/// A-share symbol stockpilot knows, e.g. a venue added after this code was written.
pub(crate) fn instrument(
    row: &Row<'_>,
    queried: ListingStatus,
) -> Result<Option<Instrument>, String> {
    let ts_code = row.required_text("ts_code")?;
    let Ok(symbol) = Symbol::parse_for(Market::Cn, &ts_code) else {
        tracing::warn!(ts_code, "stock_basic: skipping a symbol outside SH/SZ/BJ");
        return Ok(None);
    };
    let name = row.text("name")?.unwrap_or_else(|| ts_code.clone());
    let status = match row.text("list_status")?.as_deref() {
        Some("L") => ListingStatus::Listed,
        Some("D") => ListingStatus::Delisted,
        Some("P") => ListingStatus::Paused,
        _ => queried,
    };
    let mut instrument = Instrument::new(symbol, name);
    instrument.industry = row.text("industry")?;
    instrument.area = row.text("area")?;
    if let Some(currency) = row.text("curr_type")? {
        instrument.currency = currency;
    }
    instrument.list_date = row.date("list_date")?;
    instrument.delist_date = row.date("delist_date")?;
    instrument.status = status;
    Ok(Some(instrument))
}

/// `trade_cal` row; `is_open` arrives as 0/1, number or string.
pub(crate) fn trading_day(row: &Row<'_>, exchange: Exchange) -> Result<TradingDay, String> {
    let is_open = row.required_decimal("is_open")?;
    let is_open = if is_open == Decimal::ONE {
        true
    } else if is_open.is_zero() {
        false
    } else {
        return Err(row.invalid(format_args!("is_open {is_open} is neither 0 nor 1")));
    };
    Ok(TradingDay {
        exchange,
        date: row.required_date("cal_date")?,
        is_open,
        pretrade_date: row.date("pretrade_date")?,
    })
}

/// `daily` row; volume and amount converted to shares and CNY, then checked by
/// [`DailyBar::validate`].
pub(crate) fn daily_bar(row: &Row<'_>, symbol: &Symbol) -> Result<DailyBar, String> {
    let amount = row.decimal("amount")?.map(|a| scaled(a, THOUSAND));
    let bar = DailyBar {
        symbol: symbol.clone(),
        trade_date: row.required_date("trade_date")?,
        open: row.required_decimal("open")?,
        high: row.required_decimal("high")?,
        low: row.required_decimal("low")?,
        close: row.required_decimal("close")?,
        pre_close: row.decimal("pre_close")?,
        change: row.decimal("change")?,
        pct_change: row.decimal("pct_chg")?,
        volume: scaled(row.required_decimal("vol")?, LOT)?,
        amount: amount.transpose()?,
    };
    bar.validate().map_err(|e| row.invalid(e))?;
    Ok(bar)
}

/// `adj_factor` row.
pub(crate) fn adjustment_factor(
    row: &Row<'_>,
    symbol: &Symbol,
) -> Result<AdjustmentFactor, String> {
    Ok(AdjustmentFactor {
        symbol: symbol.clone(),
        trade_date: row.required_date("trade_date")?,
        factor: row.required_decimal("adj_factor")?,
    })
}

/// `daily_basic` row. `dividend_yield` is `dv_ttm` (trailing twelve months, as the domain
/// defines it), not `dv_ratio` (last fiscal year); both stay percentages.
pub(crate) fn valuation(row: &Row<'_>, symbol: &Symbol) -> Result<DailyValuation, String> {
    let times = |name: &str, factor: i64| -> Result<Option<Decimal>, String> {
        row.decimal(name)?.map(|v| scaled(v, factor)).transpose()
    };
    let mut valuation = DailyValuation::empty(symbol.clone(), row.required_date("trade_date")?);
    valuation.turnover_rate = row.decimal("turnover_rate")?;
    valuation.pe = row.decimal("pe")?;
    valuation.pe_ttm = row.decimal("pe_ttm")?;
    valuation.pb = row.decimal("pb")?;
    valuation.ps = row.decimal("ps")?;
    valuation.ps_ttm = row.decimal("ps_ttm")?;
    valuation.dividend_yield = row.decimal("dv_ttm")?;
    valuation.total_shares = times("total_share", TEN_THOUSAND)?;
    valuation.float_shares = times("float_share", TEN_THOUSAND)?;
    valuation.total_market_cap = times("total_mv", TEN_THOUSAND)?;
    valuation.float_market_cap = times("circ_mv", TEN_THOUSAND)?;
    Ok(valuation)
}

/// Annual reports end on 12-31; every other period end is a (year-to-date) quarterly report.
pub(crate) fn period_of(end_date: NaiveDate) -> ReportPeriod {
    if end_date.month() == 12 && end_date.day() == 31 {
        ReportPeriod::Annual
    } else {
        ReportPeriod::Quarterly
    }
}

/// Which version of a restated report wins: a corrected row (`update_flag` 1) over the
/// original, then the later actual announcement.
pub(crate) type Version = (bool, Option<NaiveDate>, Option<NaiveDate>);

pub(crate) fn version(row: &Row<'_>) -> Result<Version, String> {
    let updated = row.text("update_flag")?.as_deref() == Some("1");
    Ok((updated, row.date("f_ann_date")?, row.date("ann_date")?))
}

/// `income`, `balancesheet` or `cashflow` row. `announced_date` is `f_ann_date` (when this
/// version was published) falling back to `ann_date`; the whole row is kept in `raw`.
pub(crate) fn statement(
    row: &Row<'_>,
    symbol: &Symbol,
    kind: StatementKind,
) -> Result<FinancialStatement, String> {
    let report_date = row.required_date("end_date")?;
    let d = |name: &str| row.decimal(name);
    let mut items = FinancialLineItems::default();
    match kind {
        StatementKind::Income => {
            items.revenue = d("total_revenue")?;
            items.cost_of_revenue = d("oper_cost")?;
            items.operating_income = d("operate_profit")?;
            items.net_income = d("n_income_attr_p")?;
            items.ebit = d("ebit")?;
            items.ebitda = d("ebitda")?;
            items.eps_basic = d("basic_eps")?;
            items.eps_diluted = d("diluted_eps")?;
            items.research_and_development = d("rd_exp")?;
        }
        StatementKind::Balance => {
            items.total_assets = d("total_assets")?;
            items.total_liabilities = d("total_liab")?;
            items.current_assets = d("total_cur_assets")?;
            items.current_liabilities = d("total_cur_liab")?;
            items.cash_and_equivalents = d("money_cap")?;
            items.inventory = d("inventories")?;
            items.total_debt = sum_present(&[d("st_borr")?, d("lt_borr")?, d("bond_payable")?]);
            items.shareholders_equity = d("total_hldr_eqy_exc_min_int")?;
        }
        StatementKind::CashFlow => {
            let operating = d("n_cashflow_act")?;
            // Tushare reports the capex payment as a positive amount already.
            let capex = d("c_pay_acq_const_fiolta")?.map(|c| c.abs());
            items.operating_cash_flow = operating;
            items.investing_cash_flow = d("n_cashflow_inv_act")?;
            items.financing_cash_flow = d("n_cash_flows_fnc_act")?;
            items.capital_expenditure = capex;
            // The domain defines FCF as OCF − capex; Tushare's `free_cashflow` is FCFF and
            // stays in `raw`.
            items.free_cash_flow = operating.zip(capex).map(|(o, c)| o - c);
            items.depreciation_and_amortization =
                sum_present(&[d("depr_fa_coga_dpba")?, d("amort_intang_assets")?]);
        }
    }
    Ok(FinancialStatement {
        symbol: symbol.clone(),
        kind,
        period: period_of(report_date),
        report_date,
        announced_date: row.date("f_ann_date")?.or(row.date("ann_date")?),
        currency: Market::Cn.currency().to_owned(),
        items,
        raw: row.to_json(),
    })
}

fn sum_present(values: &[Option<Decimal>]) -> Option<Decimal> {
    values
        .iter()
        .flatten()
        .copied()
        .reduce(Decimal::saturating_add)
}

/// `fina_indicator` row: percentages become fractions; `current_ratio` and `quick_ratio`
/// are plain ratios already, `eps`/`bps`/`fcff_ps` CNY per share. `debt_to_equity` stays
/// `None`: Tushare's `debt_to_eqt` is liabilities over equity, not debt over equity.
pub(crate) fn indicators(row: &Row<'_>, symbol: &Symbol) -> Result<FinancialIndicators, String> {
    let report_date = row.required_date("end_date")?;
    let pct = |name: &str| -> Result<Option<Decimal>, String> {
        Ok(row.decimal(name)?.map(percent_to_fraction))
    };
    Ok(FinancialIndicators {
        symbol: symbol.clone(),
        report_date,
        period: period_of(report_date),
        roe: pct("roe")?,
        roa: pct("roa")?,
        roic: pct("roic")?,
        gross_margin: pct("grossprofit_margin")?,
        net_margin: pct("netprofit_margin")?,
        operating_margin: pct("op_of_gr")?,
        revenue_growth: pct("tr_yoy")?.or(pct("or_yoy")?),
        earnings_growth: pct("netprofit_yoy")?,
        debt_to_equity: None,
        debt_to_assets: pct("debt_to_assets")?,
        current_ratio: row.decimal("current_ratio")?,
        quick_ratio: row.decimal("quick_ratio")?,
        eps: row.decimal("eps")?,
        book_value_per_share: row.decimal("bps")?,
        free_cash_flow_per_share: row.decimal("fcff_ps")?,
    })
}
