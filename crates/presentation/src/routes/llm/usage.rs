//! `GET /api/v1/llm/usage?from=&to=&group_by=provider|model|day|purpose` — tokens and cost.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use stockpilot_application::ports::{UsageGroup, UsageSummary};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{InvalidParams, ProtectedErrors};
use crate::params;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// First day (`YYYY-MM-DD`); by default 30 days before `to`.
    #[param(value_type = String, format = Date, required = false)]
    from: Option<String>,
    /// Last day (`YYYY-MM-DD`); by default today (UTC). At most 3660 days after `from`.
    #[param(value_type = String, format = Date, required = false)]
    to: Option<String>,
    /// `provider` (the default), `model`, `day` or `purpose`.
    #[param(value_type = UsageGroup, required = false)]
    group_by: Option<String>,
}

/// Tokens and cost of LLM calls between two days, in groups.
#[derive(Serialize, ToSchema)]
#[schema(as = LlmUsage)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: UsageGroup,
    pub total: Totals,
    /// One row per provider, model, day or purpose.
    pub groups: Vec<UsageSummary>,
}

/// The sums over every group.
#[derive(Serialize, ToSchema)]
#[schema(as = LlmUsageTotal)]
pub struct Totals {
    #[schema(minimum = 0)]
    pub calls: u64,
    #[schema(minimum = 0)]
    pub prompt_tokens: u64,
    #[schema(minimum = 0)]
    pub completion_tokens: u64,
    pub cost_usd: f64,
}

/// Get LLM usage.
///
/// Calls, tokens and estimated cost of LLM calls between two days, grouped by provider, model,
/// day or purpose.
#[utoipa::path(
    get,
    path = "/api/v1/llm/usage",
    tag = "llm",
    operation_id = "get_llm_usage",
    params(Query),
    responses(
        (status = 200, description = "The usage report.", body = Report),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    query: web::Query<Query>,
) -> Result<HttpResponse, ApiError> {
    let to =
        params::date("to", query.to.as_deref())?.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let from = params::date("from", query.from.as_deref())?.unwrap_or(to - Duration::days(30));
    if from > to {
        return Err(params::invalid(
            "from",
            format!("{from} is after to ({to})"),
        ));
    }
    if (to - from).num_days() > 3660 {
        return Err(params::invalid(
            "from",
            "the range may span at most 3660 days",
        ));
    }
    let group = match query.group_by.as_deref().unwrap_or("provider") {
        "provider" => UsageGroup::Provider,
        "model" => UsageGroup::Model,
        "day" => UsageGroup::Day,
        "purpose" => UsageGroup::Purpose,
        other => {
            return Err(params::invalid(
                "group_by",
                format!("unknown grouping '{other}'; allowed: provider, model, day, purpose"),
            ));
        }
    };
    let rows = state.llm.usage(from, to, group).await?;
    let totals = rows.iter().fold((0u64, 0u64, 0u64, 0.0f64), |acc, r| {
        (
            acc.0 + r.calls,
            acc.1 + r.prompt_tokens,
            acc.2 + r.completion_tokens,
            acc.3 + r.cost_usd,
        )
    });
    Ok(HttpResponse::Ok().json(Report {
        from,
        to,
        group_by: group,
        total: Totals {
            calls: totals.0,
            prompt_tokens: totals.1,
            completion_tokens: totals.2,
            cost_usd: totals.3,
        },
        groups: rows,
    }))
}
