//! The indicator sets API callers request (`set=sma:20,rsi:14,macd`): a bounded list of
//! distinct specs, parsed in one place so that handlers never split query strings themselves.

use std::fmt;
use std::str::FromStr;

use super::spec::{IndicatorSpec, MAX_INDICATORS};
use super::spec_error::IndicatorSpecError;

/// A validated, ordered list of 1 to [`MAX_INDICATORS`] distinct indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSet(Vec<IndicatorSpec>);

impl IndicatorSet {
    /// Parses a comma-separated list, e.g. `sma:20,ema:12,rsi:14,macd,bollinger:20`. Spaces
    /// around items are ignored; names are lowercase; order is kept.
    ///
    /// # Errors
    /// [`IndicatorSpecError`] for an empty list or item, more than [`MAX_INDICATORS`] items,
    /// an invalid item (see [`IndicatorSpec::parse`]) or the same spec twice.
    pub fn parse(input: &str) -> Result<IndicatorSet, IndicatorSpecError> {
        if input.trim().is_empty() {
            return Err(IndicatorSpecError::Empty);
        }
        let count = input.split(',').count();
        if count > MAX_INDICATORS {
            return Err(IndicatorSpecError::TooMany { count });
        }
        let mut specs: Vec<IndicatorSpec> = Vec::with_capacity(count);
        for (index, item) in input.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                return Err(IndicatorSpecError::EmptyItem {
                    position: index + 1,
                });
            }
            let spec = IndicatorSpec::parse(item)?;
            if specs.contains(&spec) {
                return Err(IndicatorSpecError::Duplicate {
                    spec: spec.to_string(),
                });
            }
            specs.push(spec);
        }
        Ok(IndicatorSet(specs))
    }

    /// The specs in request order.
    pub fn specs(&self) -> &[IndicatorSpec] {
        &self.0
    }

    /// Iterates over the specs in request order.
    pub fn iter(&self) -> std::slice::Iter<'_, IndicatorSpec> {
        self.0.iter()
    }

    /// How many bars before the first requested one are needed for every indicator to have
    /// a value there.
    pub fn max_lookback(&self) -> usize {
        self.0
            .iter()
            .map(IndicatorSpec::lookback)
            .max()
            .unwrap_or(0)
    }
}

impl<'a> IntoIterator for &'a IndicatorSet {
    type Item = &'a IndicatorSpec;
    type IntoIter = std::slice::Iter<'a, IndicatorSpec>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for IndicatorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, spec) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{spec}")?;
        }
        Ok(())
    }
}

impl FromStr for IndicatorSet {
    type Err = IndicatorSpecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndicatorSet::parse(s)
    }
}
