//! Which provider serves which market.

use std::collections::BTreeMap;
use std::sync::Arc;

use stockpilot_domain::market::Market;

use crate::AppError;
use crate::ports::MarketDataSource;

/// The configured providers, and per market the one used when a request names none.
#[derive(Clone, Default)]
pub struct Sources {
    by_name: BTreeMap<&'static str, Arc<dyn MarketDataSource>>,
    default_for: BTreeMap<&'static str, &'static str>,
    /// What to configure to get a provider for a market, for the 409 message.
    hints: BTreeMap<&'static str, String>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a provider; the first one added for a market becomes that market's default.
    pub fn with(self, source: Arc<dyn MarketDataSource>) -> Self {
        let markets = source.markets();
        self.with_markets(source, markets)
    }

    /// Adds a provider as the default only for `markets` (e.g. a CSV directory for the
    /// markets its files cover); it stays usable by name for the others it supports.
    pub fn with_markets(mut self, source: Arc<dyn MarketDataSource>, markets: &[Market]) -> Self {
        for market in markets.iter().filter(|m| source.markets().contains(m)) {
            self.default_for
                .entry(market.as_str())
                .or_insert(source.provider());
        }
        self.by_name.insert(source.provider(), source);
        self
    }

    /// The message given when no provider serves `market`.
    pub fn with_hint(mut self, market: Market, hint: impl Into<String>) -> Self {
        self.hints.insert(market.as_str(), hint.into());
        self
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.by_name.keys().copied().collect()
    }

    pub fn by_name(&self, name: &str) -> Option<Arc<dyn MarketDataSource>> {
        self.by_name.get(name).cloned()
    }

    /// The provider for `market`, or the one named.
    ///
    /// # Errors
    /// `Conflict` naming the setting to configure; `Validation` for an unknown name or a
    /// provider that does not cover the market.
    pub fn resolve(
        &self,
        market: Market,
        requested: Option<&str>,
    ) -> Result<Arc<dyn MarketDataSource>, AppError> {
        if let Some(name) = requested {
            let source = self.by_name(name).ok_or_else(|| {
                AppError::invalid(
                    "provider",
                    format!(
                        "provider '{name}' is not configured; configured: {}",
                        self.names().join(", ")
                    ),
                )
            })?;
            if !source.markets().contains(&market) {
                return Err(AppError::invalid(
                    "provider",
                    format!("provider '{name}' does not cover market {market}"),
                ));
            }
            return Ok(source);
        }
        self.default_for
            .get(market.as_str())
            .and_then(|n| self.by_name(n))
            .ok_or_else(|| {
                let hint = self.hints.get(market.as_str()).cloned().unwrap_or_default();
                AppError::Conflict(format!(
                    "no data provider is configured for market {market}; {hint}"
                ))
            })
    }
}
