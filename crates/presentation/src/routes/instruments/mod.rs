//! `/api/v1/instruments…`: instruments and their bars, valuations, financials, indicators.

pub mod bars;
pub mod financials;
pub mod get;
pub mod indicators;
pub mod list;
pub mod valuations;

use serde::Serialize;
use stockpilot_application::ports::InstrumentRecord;

/// An instrument as the API shows it.
#[derive(Serialize)]
pub struct InstrumentDto {
    pub symbol: String,
    pub name: String,
    pub market: &'static str,
    pub exchange: &'static str,
    pub industry: Option<String>,
    pub area: Option<String>,
    pub currency: String,
    pub list_date: Option<chrono::NaiveDate>,
    pub delist_date: Option<chrono::NaiveDate>,
    pub status: &'static str,
    pub provider: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<InstrumentRecord> for InstrumentDto {
    fn from(r: InstrumentRecord) -> Self {
        let i = r.instrument;
        Self {
            symbol: i.symbol.to_string(),
            name: i.name,
            market: i.market.as_str(),
            exchange: i.exchange.as_str(),
            industry: i.industry,
            area: i.area,
            currency: i.currency,
            list_date: i.list_date,
            delist_date: i.delist_date,
            status: i.status.as_str(),
            provider: r.provider,
            updated_at: r.updated_at,
        }
    }
}
