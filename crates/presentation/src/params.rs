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

/// The `start` and `end` query parameters of a route over a date range, both optional: `end`
/// defaults to the newest stored bar of the symbol (today for a calendar), `start` to a year
/// before `end` (`MarketQueries`).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRangeQuery {
    /// First day (`YYYY-MM-DD`); by default a year before `end`.
    #[param(value_type = String, format = Date, required = false)]
    start: Option<String>,
    /// Last day (`YYYY-MM-DD`); by default the newest stored bar (today for a calendar).
    #[param(value_type = String, format = Date, required = false)]
    end: Option<String>,
}

impl DateRangeQuery {
    /// `(start, end)`, each checked.
    ///
    /// # Errors
    /// 422 naming `start` or `end` when it is not a `YYYY-MM-DD` date.
    pub fn dates(&self) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
        Ok((
            date("start", self.start.as_deref())?,
            date("end", self.end.as_deref())?,
        ))
    }
}

/// The `{symbol}` path parameter, parsed: a handler taking it gets a [`Symbol`], and a
/// malformed one is answered 422 naming its market's rule before the handler runs. It also
/// describes the parameter for the API document.
#[derive(Debug, Clone)]
pub struct SymbolPath(pub Symbol);

impl actix_web::FromRequest for SymbolPath {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        parsed_path(req, payload, |text| symbol(text).map(SymbolPath))
    }
}

/// The route's one path parameter, parsed with `parse` before the handler runs.
fn parsed_path<T: 'static>(
    req: &actix_web::HttpRequest,
    payload: &mut actix_web::dev::Payload,
    parse: fn(&str) -> Result<T, ApiError>,
) -> futures_util::future::LocalBoxFuture<'static, Result<T, actix_web::Error>> {
    use actix_web::FromRequest;
    let text = actix_web::web::Path::<String>::from_request(req, payload);
    Box::pin(async move { Ok(parse(&text.await?)?) })
}

impl utoipa::IntoParams for SymbolPath {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::Type;
        use utoipa::openapi::{ObjectBuilder, Required};
        vec![
            ParameterBuilder::new()
                .name("symbol")
                .parameter_in(ParameterIn::Path)
                .description(Some("`600519.SH`, `AAPL`, `BRK.B`, …"))
                .required(Required::True)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(stockpilot_domain::market::SYMBOL_PATTERN)),
                ))
                .build(),
        ]
    }
}

/// The `{id}` path parameter as a typed id (`JobId`, `RunId`, `KeyId`), parsed before the
/// handler runs: text that is no id is answered 404 naming it, as an id nobody has. (Each
/// route describes the parameter in its own words.)
#[derive(Debug, Clone, Copy)]
pub struct IdPath<T>(pub T);

impl<T> actix_web::FromRequest for IdPath<T>
where
    T: std::str::FromStr<Err = stockpilot_application::InvalidId> + 'static,
{
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        parsed_path(req, payload, |text| {
            text.parse::<T>()
                .map(IdPath)
                .map_err(|e| AppError::NotFound(e.to_string()).into())
        })
    }
}

/// The `page` and `page_size` query parameters of a list route whose pages hold at most `MAX`
/// items: one extractor (`web::Query<PageQuery<MAX>>`, next to the route's own query) and
/// one description of both parameters for the API document.
#[derive(Debug, serde::Deserialize)]
pub struct PageQuery<const MAX: u64> {
    page: Option<String>,
    page_size: Option<String>,
}

impl<const MAX: u64> PageQuery<MAX> {
    /// The page asked for, checked.
    ///
    /// # Errors
    /// 422 naming `page` or `page_size` and the allowed range.
    pub fn paging(&self) -> Result<Paging, ApiError> {
        Paging::parse(self.page.as_deref(), self.page_size.as_deref(), MAX)
    }
}

impl<const MAX: u64> utoipa::IntoParams for PageQuery<MAX> {
    fn into_params(
        parameter_in: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::ParameterBuilder;
        use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
        use utoipa::openapi::{ObjectBuilder, Required};
        let number = |name: &str, description: &str, default: u64, max: u64| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(parameter_in().unwrap_or_default())
                .description(Some(description))
                .required(Required::False)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                        .default(Some(serde_json::json!(default)))
                        .maximum(Some(max))
                        .minimum(Some(1u64)),
                ))
                .build()
        };
        vec![
            number("page", "Page number, from 1.", 1, MAX_PAGE),
            number("page_size", "Items per page.", DEFAULT_PAGE_SIZE, MAX),
        ]
    }
}

/// The highest page number a list route accepts.
pub const MAX_PAGE: u64 = 1_000_000;
/// Items per page when `page_size` is not given.
pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// Paging parameters shared by list routes.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Paging {
    pub page: u64,
    pub page_size: u64,
}

impl Paging {
    pub fn parse(page: Option<&str>, page_size: Option<&str>, max: u64) -> Result<Self, ApiError> {
        Ok(Self {
            page: number("page", page, 1, 1, MAX_PAGE)?,
            page_size: number("page_size", page_size, DEFAULT_PAGE_SIZE, 1, max)?,
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

/// The schema of `Paged<T>` for one `T`, under its own name: `page_schema!(Name of T, "…")`
/// declares the type `Name` to use as a response `body`.
macro_rules! page_schema {
    ($name:ident of $item:ty, $description:literal) => {
        #[doc = $description]
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::params::paged_schema(
                    $description,
                    <$item as utoipa::ToSchema>::name().as_ref(),
                )
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }

            fn schemas(
                schemas: &mut Vec<(
                    String,
                    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
                )>,
            ) {
                let name = <$item as utoipa::ToSchema>::name().into_owned();
                schemas.push((name, <$item as utoipa::PartialSchema>::schema()));
                <$item as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
pub(crate) use page_schema;

/// The object schema of a `Paged` body whose items are the schema `item`.
pub fn paged_schema(
    description: &str,
    item: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::Ref;
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};

    let count = |minimum: f64, description: Option<&str>| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(minimum))
            .description(description)
    };
    ObjectBuilder::new()
        .description(Some(description))
        .property(
            "items",
            ArrayBuilder::new().items(Ref::from_schema_name(item)),
        )
        .required("items")
        .property("page", count(1.0, None))
        .required("page")
        .property("page_size", count(1.0, None))
        .required("page_size")
        .property("total", count(0.0, Some("Matching items on all pages.")))
        .required("total")
        .into()
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

    #[test]
    fn a_page_query_checks_its_own_maximum() {
        let q = |page: &str, size: &str| PageQuery::<200> {
            page: Some(page.into()),
            page_size: Some(size.into()),
        };
        let p = q("2", "200").paging().unwrap();
        assert_eq!((p.page, p.page_size, p.offset()), (2, 200, 200));
        let err = q("1", "201").paging().unwrap_err();
        assert!(err.message.contains("between 1 and 200"), "{}", err.message);
        let err = q("0", "10").paging().unwrap_err();
        assert!(err.message.contains("page"), "{}", err.message);
        let none = PageQuery::<500> {
            page: None,
            page_size: None,
        };
        let p = none.paging().unwrap();
        assert_eq!((p.page, p.page_size), (1, DEFAULT_PAGE_SIZE));
    }
}
