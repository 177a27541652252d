//! `GET /api/v1/llm/usage?from=&to=&group_by=provider|model|day|purpose` — tokens and cost.

use actix_web::{HttpResponse, web};
use chrono::Duration;
use serde::Deserialize;
use stockpilot_application::ports::UsageGroup;

use crate::AppState;
use crate::error::ApiError;
use crate::params;

#[derive(Deserialize)]
pub struct Query {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
}

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
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "from": from, "to": to, "group_by": group,
        "total": {"calls": totals.0, "prompt_tokens": totals.1, "completion_tokens": totals.2, "cost_usd": totals.3},
        "groups": rows,
    })))
}
