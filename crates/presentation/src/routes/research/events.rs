//! `GET /api/v1/research/runs/{id}/events`: the run's events as server-sent events. Stored
//! events are replayed first (after `Last-Event-ID`, or `?last_event_id=`), then new ones
//! follow as they happen; the stream ends after the run's final event.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use stockpilot_application::research::ResearchService;
use stockpilot_application::research::model::RunEvent;
use utoipa::IntoParams;

use crate::AppState;
use crate::error::ApiError;
use crate::openapi::{ErrorBody, InvalidParams, ProtectedErrors};
use crate::params;
use crate::params::IdPath;
use stockpilot_application::RunId;

/// How long the stream waits for new events before looking at the store again (events of
/// other replicas are seen this late at most).
const POLL: Duration = Duration::from_millis(500);
/// A comment line keeps proxies from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(15);
const BATCH: u64 = 200;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Query {
    /// Replay only events after this one (as `Last-Event-ID`, which takes precedence).
    #[param(value_type = u64, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    last_event_id: Option<String>,
}

/// The `Last-Event-ID` request header, for the document (the handler reads the header itself).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventIdHeader {
    /// Replay only events after this one (a whole number of 0 or more); takes precedence over
    /// `last_event_id`. Browsers' `EventSource` sends it when reconnecting.
    #[param(rename = "Last-Event-ID", value_type = u64, required = false, minimum = 0, maximum = 9223372036854775807_i64)]
    pub last_event_id: Option<String>,
}

struct Cursor {
    service: Arc<ResearchService>,
    id: RunId,
    after: i64,
    buffer: VecDeque<RunEvent>,
    done: bool,
    quiet_since: Instant,
}

fn frame(event: &RunEvent) -> Bytes {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".to_owned());
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.seq, event.kind
    ))
}

async fn next(mut c: Cursor) -> Option<(Result<Bytes, actix_web::Error>, Cursor)> {
    loop {
        if let Some(event) = c.buffer.pop_front() {
            c.after = event.seq;
            c.quiet_since = Instant::now();
            return Some((Ok(frame(&event)), c));
        }
        if c.done {
            return None;
        }
        let fetched = match c.service.events(c.id, c.after, BATCH).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(run_id = %c.id, error = %e, "event stream ended by a storage error");
                c.done = true;
                return Some((
                    Ok(Bytes::from(
                        "event: error\ndata: {\"message\":\"the event store is unavailable; reconnect with Last-Event-ID\"}\n\n",
                    )),
                    c,
                ));
            }
        };
        if !fetched.is_empty() {
            c.buffer.extend(fetched);
            continue;
        }
        // Nothing new: if the run has ended, everything has been sent (its final event is
        // stored in the same transaction as its final status).
        match c.service.run(c.id).await {
            Ok(run) if run.status.is_final() => {
                let rest = c
                    .service
                    .events(c.id, c.after, BATCH)
                    .await
                    .unwrap_or_default();
                if rest.is_empty() {
                    return None;
                }
                c.buffer.extend(rest);
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(run_id = %c.id, error = %e, "event stream ended");
                return None;
            }
        }
        if c.quiet_since.elapsed() >= KEEPALIVE {
            c.quiet_since = Instant::now();
            return Some((Ok(Bytes::from_static(b": keepalive\n\n")), c));
        }
        c.service.wait_for_events(POLL).await;
    }
}

/// Stream a research run's events.
///
/// Server-sent events: stored events are replayed first (after `Last-Event-ID`, or
/// `?last_event_id=`), then new ones follow as they happen; the stream ends after the run's
/// final event. Each event has `id:` (its sequence number), `event:` (its kind:
/// `run_started`, `analyst_started`, `analyst_finished`, `analyst_failed`, `decision`,
/// `run_finished`, `run_failed`, `run_cancelled`) and `data:` (the event as JSON:
/// `{"seq","kind","data","at"}`); `event: error` reports a storage failure before the stream
/// ends (reconnect with `Last-Event-ID`), and `: keepalive` comments keep idle streams open.
#[utoipa::path(
    get,
    path = "/api/v1/research/runs/{id}/events",
    tag = "research",
    operation_id = "stream_research_run_events",
    params(
        ("id" = String, Path, description = "The run's id"),
        LastEventIdHeader,
        Query,
    ),
    responses(
        (status = 200, description = "The event stream.", body = String,
            content_type = "text/event-stream"),
        (status = 404, description = "`not_found`: no such run.", body = ErrorBody),
        InvalidParams,
        ProtectedErrors,
    ),
)]
pub async fn handle(
    state: web::Data<AppState>,
    IdPath(id): IdPath<RunId>,
    query: web::Query<Query>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    state.research.run(id).await?;
    let header_value = req
        .headers()
        .get("Last-Event-ID")
        .map(|v| v.to_str().unwrap_or("\u{fffd}").to_owned());
    let (field, text) = match (header_value, query.into_inner().last_event_id) {
        (Some(v), _) => ("Last-Event-ID", Some(v)),
        (None, q) => ("last_event_id", q),
    };
    let after = match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            params::invalid(
                field,
                format!("'{t}' is not an event id; expected a whole number of 0 or more"),
            )
        })?,
    };
    let cursor = Cursor {
        service: state.research.clone(),
        id,
        after,
        buffer: VecDeque::new(),
        done: false,
        quiet_since: Instant::now(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::stream::unfold(cursor, next)))
}
