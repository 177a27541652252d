//! Turning query and path text into domain values, with errors that name the field and say
//! what is allowed.

use chrono::NaiveDate;
use stockpilot_application::AppError;
use stockpilot_domain::market::Symbol;

use crate::error::ApiError;

pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    AppError::invalid(field, message).into()
}

/// A `YYYY-MM-DD` date, if given.
pub fn date(field: &str, value: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| invalid(field, format!("'{v}' is not a date; expected YYYY-MM-DD")))
        })
        .transpose()
}

/// A symbol from the path; malformed symbols get 422 naming their market's rule.
pub fn symbol(value: &str) -> Result<Symbol, ApiError> {
    Symbol::parse(value).map_err(|e| invalid("symbol", e.to_string()))
}

/// A value of a code enum (`FromStr` whose error lists the allowed values).
pub fn code<T: std::str::FromStr>(field: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T::Err: std::fmt::Display,
{
    value
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<T>().map_err(|e| invalid(field, e.to_string())))
        .transpose()
}

/// A whole number within bounds.
pub fn number(
    field: &str,
    value: Option<&str>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ApiError> {
    let Some(text) = value.filter(|v| !v.is_empty()) else {
        return Ok(default);
    };
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            field,
            format!("must be a whole number between {min} and {max}, got '{text}'"),
        )),
    }
}

/// Paging parameters shared by list routes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Paging {
    pub page: u64,
    pub page_size: u64,
}

impl Paging {
    pub fn parse(page: Option<&str>, page_size: Option<&str>, max: u64) -> Result<Self, ApiError> {
        Ok(Self {
            page: number("page", page, 1, 1, 1_000_000)?,
            page_size: number("page_size", page_size, 50, 1, max)?,
        })
    }

    pub fn offset(self) -> u64 {
        (self.page - 1) * self.page_size
    }
}

/// The body of every list response.
#[derive(Debug, serde::Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub page_size: u64,
    pub total: u64,
}

impl<T> Paged<T> {
    pub fn new(items: Vec<T>, paging: Paging, total: u64) -> Self {
        Self {
            items,
            page: paging.page,
            page_size: paging.page_size,
            total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_and_the_allowed_form() {
        let e = date("start", Some("2012-13-01")).unwrap_err();
        assert_eq!(e.details[0].field, "start");
        assert_eq!(
            e.details[0].message,
            "'2012-13-01' is not a date; expected YYYY-MM-DD"
        );
        let e = number("page_size", Some("501"), 50, 1, 500).unwrap_err();
        assert_eq!(
            e.details[0].message,
            "must be a whole number between 1 and 500, got '501'"
        );
        assert_eq!(
            Paging::parse(Some("3"), Some("20"), 500).unwrap().offset(),
            40
        );
        assert!(symbol("aapl").unwrap_err().message.contains("US symbol"));
    }
}
