//! Financial statements and derived financial indicators in one provider-neutral shape, so
//! that analysts read A-share (Tushare) and US (Financial Datasets) companies alike.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::symbol::Symbol;
use crate::code_enum;

code_enum! {
    /// Which of the three primary statements a record is.
    pub enum StatementKind as "statement kind" {
        /// Income statement (profit and loss).
        Income = "income",
        /// Balance sheet.
        Balance = "balance",
        /// Cash-flow statement.
        CashFlow = "cash_flow",
    }
}

code_enum! {
    /// The span a statement or indicator covers.
    pub enum ReportPeriod as "report period" {
        /// A fiscal year.
        Annual = "annual",
        /// A fiscal quarter (A-share providers report year-to-date; adapters say which).
        Quarterly = "quarterly",
        /// The trailing twelve months ending at the report date.
        Ttm = "ttm",
    }
}

/// Line items both providers report, in currency units except per-share figures (currency
/// per share). Flows (income, cash flow) cover the statement's period; stocks (balance sheet)
/// are as of its report date. Items a statement does not carry are `null`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinancialLineItems {
    /// Total revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub revenue: Option<Decimal>,
    /// Cost of goods and services sold.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub cost_of_revenue: Option<Decimal>,
    /// Operating profit.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub operating_income: Option<Decimal>,
    /// Net income attributable to shareholders of the parent.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub net_income: Option<Decimal>,
    /// Earnings before interest and tax.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub ebit: Option<Decimal>,
    /// Earnings before interest, tax, depreciation and amortisation.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub ebitda: Option<Decimal>,
    /// Basic earnings per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub eps_basic: Option<Decimal>,
    /// Diluted earnings per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub eps_diluted: Option<Decimal>,
    /// Total assets.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub total_assets: Option<Decimal>,
    /// Total liabilities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub total_liabilities: Option<Decimal>,
    /// Current assets.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_assets: Option<Decimal>,
    /// Current liabilities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_liabilities: Option<Decimal>,
    /// Cash and cash equivalents.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub cash_and_equivalents: Option<Decimal>,
    /// Inventory.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub inventory: Option<Decimal>,
    /// Short- plus long-term interest-bearing debt.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub total_debt: Option<Decimal>,
    /// Equity attributable to shareholders of the parent.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub shareholders_equity: Option<Decimal>,
    /// Net cash from operating activities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub operating_cash_flow: Option<Decimal>,
    /// Net cash from investing activities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub investing_cash_flow: Option<Decimal>,
    /// Net cash from financing activities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub financing_cash_flow: Option<Decimal>,
    /// Capital expenditure, as a positive outflow.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub capital_expenditure: Option<Decimal>,
    /// Operating cash flow minus capital expenditure.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub free_cash_flow: Option<Decimal>,
    /// Depreciation and amortisation.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub depreciation_and_amortization: Option<Decimal>,
    /// Research and development expense.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub research_and_development: Option<Decimal>,
}

/// One statement of one company for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinancialStatement {
    /// The company.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// Income, balance sheet or cash flow.
    pub kind: StatementKind,
    /// The span covered.
    pub period: ReportPeriod,
    /// Last day of the period covered (e.g. 2024-12-31), not the publication date.
    pub report_date: NaiveDate,
    /// When the statement was published; analyses as of a past date must ignore statements
    /// announced after it.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub announced_date: Option<NaiveDate>,
    /// ISO 4217 code of the reporting currency.
    pub currency: String,
    /// The normalised line items.
    pub items: FinancialLineItems,
    /// The provider's original record as JSON text, kept so that items not normalised yet
    /// can be recovered without refetching.
    pub raw: String,
}

/// Days after the end of an annual period by which its report is taken to be public when the
/// announcement date is unknown: A-share annual reports are due by 30 April (120 days), US
/// 10-K filings within 60–90 days.
pub const ANNUAL_PUBLICATION_LAG_DAYS: i64 = 120;
/// The same for quarterly and TTM figures: the A-share half-year deadline (two months);
/// US 10-Q filings are due within 40–45 days.
pub const INTERIM_PUBLICATION_LAG_DAYS: i64 = 62;

/// The first day a report of `period` ending on `report_date` may be read by an analysis as of
/// a past date: its announcement date when known, else the period end plus the publication
/// lag above.
pub fn known_on(
    period: ReportPeriod,
    report_date: NaiveDate,
    announced: Option<NaiveDate>,
) -> NaiveDate {
    announced.unwrap_or_else(|| {
        let lag = match period {
            ReportPeriod::Annual => ANNUAL_PUBLICATION_LAG_DAYS,
            ReportPeriod::Quarterly | ReportPeriod::Ttm => INTERIM_PUBLICATION_LAG_DAYS,
        };
        report_date + chrono::Duration::days(lag)
    })
}

impl FinancialStatement {
    /// The first day this statement may be read (see [`known_on`]).
    pub fn known_on(&self) -> NaiveDate {
        known_on(self.period, self.report_date, self.announced_date)
    }
}

/// Ratios derived from statements, as the provider computes them. Ratios, margins and growth
/// rates are fractions (0.15 means 15 %); per-share figures are currency per share.
// Tushare reports percentages, so adapters divide by 100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinancialIndicators {
    /// The company.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub symbol: Symbol,
    /// Last day of the period covered.
    pub report_date: NaiveDate,
    /// The span covered.
    pub period: ReportPeriod,
    /// Return on equity.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub roe: Option<Decimal>,
    /// Return on assets.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub roa: Option<Decimal>,
    /// Return on invested capital.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub roic: Option<Decimal>,
    /// Gross profit over revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub gross_margin: Option<Decimal>,
    /// Net income over revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub net_margin: Option<Decimal>,
    /// Operating income over revenue.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub operating_margin: Option<Decimal>,
    /// Revenue change against the same period a year earlier.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub revenue_growth: Option<Decimal>,
    /// Net income change against the same period a year earlier.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub earnings_growth: Option<Decimal>,
    /// Total debt over shareholders' equity.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub debt_to_equity: Option<Decimal>,
    /// Total liabilities over total assets.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub debt_to_assets: Option<Decimal>,
    /// Current assets over current liabilities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub current_ratio: Option<Decimal>,
    /// Current assets less inventory, over current liabilities.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub quick_ratio: Option<Decimal>,
    /// Earnings per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub eps: Option<Decimal>,
    /// Book value per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub book_value_per_share: Option<Decimal>,
    /// Free cash flow per share.
    #[cfg_attr(feature = "openapi", schema(required))]
    pub free_cash_flow_per_share: Option<Decimal>,
}

impl FinancialIndicators {
    /// A set with only its keys; adapters and tests fill in what they have.
    pub fn empty(symbol: Symbol, report_date: NaiveDate, period: ReportPeriod) -> Self {
        FinancialIndicators {
            symbol,
            report_date,
            period,
            roe: None,
            roa: None,
            roic: None,
            gross_margin: None,
            net_margin: None,
            operating_margin: None,
            revenue_growth: None,
            earnings_growth: None,
            debt_to_equity: None,
            debt_to_assets: None,
            current_ratio: None,
            quick_ratio: None,
            eps: None,
            book_value_per_share: None,
            free_cash_flow_per_share: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_codes_are_snake_case() {
        assert_eq!(StatementKind::CashFlow.as_str(), "cash_flow");
        assert_eq!(
            "balance".parse::<StatementKind>(),
            Ok(StatementKind::Balance)
        );
        assert_eq!("ttm".parse::<ReportPeriod>(), Ok(ReportPeriod::Ttm));
        let err = "Q".parse::<ReportPeriod>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown report period 'Q'; allowed: annual, quarterly, ttm"
        );
    }

    #[test]
    fn line_items_default_to_unknown() {
        let items = FinancialLineItems::default();
        assert_eq!(items.revenue, None);
        assert_eq!(items.research_and_development, None);
    }
}
