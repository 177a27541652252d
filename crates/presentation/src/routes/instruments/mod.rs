//! `/api/v1/instruments…`: instruments and their bars, valuations, financials, indicators.

pub mod bars;
pub mod financials;
pub mod get;
pub mod indicators;
pub mod list;
pub mod valuations;

use serde::Serialize;
use stockpilot_application::ports::InstrumentRecord;
use stockpilot_domain::market::{Exchange, ListingStatus, Market};
use utoipa::ToSchema;

/// An instrument as the API shows it.
#[derive(Serialize, ToSchema)]
#[schema(as = Instrument)]
pub struct InstrumentDto {
    /// `600519.SH`, `AAPL`, `BRK.B`, …
    pub symbol: String,
    /// Short name as the exchange publishes it.
    pub name: String,
    pub market: Market,
    pub exchange: Exchange,
    /// Industry in the provider's own taxonomy.
    #[schema(required)]
    pub industry: Option<String>,
    /// Region of the issuer.
    #[schema(required)]
    pub area: Option<String>,
    /// ISO 4217 code of the trading currency.
    pub currency: String,
    /// First trading day.
    #[schema(required)]
    pub list_date: Option<chrono::NaiveDate>,
    /// Last trading day, for delisted securities.
    #[schema(required)]
    pub delist_date: Option<chrono::NaiveDate>,
    pub status: ListingStatus,
    /// The provider that wrote the record.
    pub provider: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<InstrumentRecord> for InstrumentDto {
    fn from(r: InstrumentRecord) -> Self {
        let i = r.instrument;
        Self {
            symbol: i.symbol.to_string(),
            name: i.name,
            market: i.market,
            exchange: i.exchange,
            industry: i.industry,
            area: i.area,
            currency: i.currency,
            list_date: i.list_date,
            delist_date: i.delist_date,
            status: i.status,
            provider: r.provider,
            updated_at: r.updated_at,
        }
    }
}
