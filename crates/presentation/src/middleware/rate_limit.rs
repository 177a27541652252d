//! Per-client rate limits by route group (per API key, or per address without one), counted in the `RateLimitStore` (Redis across
//! replicas). Over the limit: `429 rate_limited` with `Retry-After`; every limited response
//! carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`. A store that fails
//! never fails the request.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use stockpilot_application::auth::Principal;
use stockpilot_application::ports::{RateDecision, RateLimitStore};

use crate::error::{ApiError, ErrorCode};
use crate::routes::{self, Group};

/// Probes and metrics are never limited (orchestrators and Prometheus must always get in).
const EXEMPT: [&str; 3] = ["/health", "/ready", "/metrics"];

stockpilot_application::settings! {
    /// `rate_limit`: requests per client and route group.
    pub struct RateLimitConfig {
        /// Rate limits by route group, per API key (anonymous routes and `auth.enabled =
        /// false`: per client address, the peer's or the nearest untrusted `X-Forwarded-For`
        /// hop behind a trusted proxy); counted in Redis when `cache.redis_url` is set (shared
        /// by every replica; per instance while Redis is down, shown as the `rate_limiter`
        /// check of `/ready`), else in memory. Over the limit: `429 rate_limited` with
        /// `Retry-After`; responses carry `RateLimit-Limit`, `RateLimit-Remaining`,
        /// `RateLimit-Reset`. `/health`, `/ready` and `/metrics` are exempt.
        enabled: bool = true,
        /// `GET`/`HEAD` requests per key (or client) per minute (sliding window).
        reads_per_minute: u32 = 600; range = (1.0, 10_000_000.0),
        /// Other requests per client per minute, except the two groups below.
        writes_per_minute: u32 = 120; range = (1.0, 10_000_000.0),
        /// `POST /api/v1/llm/chat` and `/api/v1/llm/web-search` per client per minute.
        chat_per_minute: u32 = 30; range = (1.0, 10_000_000.0),
        /// `POST /api/v1/research/runs` per client per minute.
        research_per_minute: u32 = 10; range = (1.0, 10_000_000.0),
    }
}

/// Requests per minute of each route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `GET`/`HEAD` of anything.
    pub reads: u32,
    /// Other methods, except the groups below.
    pub writes: u32,
    /// `POST /api/v1/llm/chat` and `/api/v1/llm/web-search`: each costs LLM or search money.
    pub chat: u32,
    /// `POST /api/v1/research/runs`.
    pub research: u32,
}

impl RateLimits {
    /// The limits `config` declares.
    pub fn configured(config: &RateLimitConfig) -> Self {
        Self {
            reads: config.reads_per_minute,
            writes: config.writes_per_minute,
            chat: config.chat_per_minute,
            research: config.research_per_minute,
        }
    }
}

/// An address or a network (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`) of trusted proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyNet {
    addr: IpAddr,
    prefix: u8,
}

impl std::str::FromStr for ProxyNet {
    type Err = String;

    fn from_str(text: &str) -> Result<ProxyNet, String> {
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, bits)) => (ip, Some(bits)),
            None => (text, None),
        };
        let addr: IpAddr = ip.trim().parse().map_err(|_| {
            format!("'{text}' is not an IP address or network (a.b.c.d, a.b.c.d/n)")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(bits) => bits
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("'{text}': the prefix length must be 0 to {max}"))?,
        };
        Ok(ProxyNet { addr, prefix })
    }
}

impl ProxyNet {
    /// Whether `ip` is this address or inside this network (IPv4 never matches IPv6).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let (a, b, width) = match (ip, &self.addr) {
            (IpAddr::V4(x), IpAddr::V4(y)) => {
                (u128::from(u32::from(*x)), u128::from(u32::from(*y)), 32)
            }
            (IpAddr::V6(x), IpAddr::V6(y)) => (u128::from(*x), u128::from(*y), 128),
            _ => return false,
        };
        let host_bits = width - u32::from(self.prefix);
        if host_bits >= 128 {
            return true;
        }
        a >> host_bits == b >> host_bits
    }
}

/// The limiter as the middleware finds it in app data.
#[derive(Clone)]
pub struct RateLimiting {
    pub store: Arc<dyn RateLimitStore>,
    pub limits: RateLimits,
}

/// Peers whose `X-Forwarded-For` is believed; anyone else's is ignored. App data.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<ProxyNet>);

/// The client address of a request (see [`client_ip`]), with the app's trusted proxies.
pub fn request_client_ip(req: &ServiceRequest) -> Option<IpAddr> {
    let trusted = req
        .app_data::<web::Data<TrustedProxies>>()
        .map(|t| t.0.as_slice())
        .unwrap_or_default();
    let forwarded = req
        .headers()
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok());
    client_ip(req.peer_addr().map(|a| a.ip()), forwarded, trusted)
}

/// The group of a request: its route's (from the route table), else its method's.
fn group_of(req: &ServiceRequest) -> Group {
    routes::matched(req).map_or_else(|| Group::of_method(req.method()), |s| s.group)
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    trusted: &[ProxyNet],
) -> Option<IpAddr> {
    let peer = peer?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    Some(
        hops.iter()
            .rev()
            .find(|ip| !is_trusted(ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer),
    )
}

fn headers(res: &mut actix_web::HttpResponse, d: &RateDecision) {
    let reset = d.reset_after.as_secs_f64().ceil().max(1.0);
    for (name, value) in [
        ("ratelimit-limit", d.limit.to_string()),
        ("ratelimit-remaining", d.remaining.to_string()),
        ("ratelimit-reset", format!("{reset}")),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            res.headers_mut().insert(HeaderName::from_static(name), v);
        }
    }
}

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let limiter = req.app_data::<web::Data<RateLimiting>>().cloned();
    let Some(limiter) = limiter.filter(|_| !EXEMPT.contains(&req.path())) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let group = group_of(&req);
    let limit = match group {
        Group::Reads => limiter.limits.reads,
        Group::Research => limiter.limits.research,
        Group::Chat => limiter.limits.chat,
        Group::Writes => limiter.limits.writes,
    };
    let group = group.as_str();
    // Per key when the caller presented one, else per client address.
    let key_id = req.extensions().get::<Principal>().and_then(|p| p.key_id);
    let client = match key_id {
        Some(id) => format!("key:{id}"),
        None => {
            request_client_ip(&req).map_or_else(|| "ip:unknown".to_owned(), |ip| format!("ip:{ip}"))
        }
    };
    let decision = match limiter
        .store
        .hit(&format!("{group}:{client}"), limit, Duration::from_secs(60))
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "rate limiter unavailable; request not limited");
            return next
                .call(req)
                .await
                .map(ServiceResponse::map_into_boxed_body);
        }
    };
    if !decision.allowed {
        metrics::counter!("stockpilot_rate_limited_total", "group" => group).increment(1);
        let retry = decision.reset_after.as_secs_f64().ceil().max(1.0) as u64;
        let err = ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "rate limit of {limit} {group} requests per minute reached; retry after {retry} s"
            ),
        )
        .with_retry_after(retry);
        let mut res = req.error_response(err);
        headers(res.response_mut(), &decision);
        return Ok(res);
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    headers(res.response_mut(), &decision);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use actix_web::http::Method;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let trusted: Vec<ProxyNet> = ["10.0.0.1", "10.0.0.2"]
            .iter()
            .map(|t| t.parse().unwrap())
            .collect();
        // An untrusted peer's header is ignored: spoofing gets it nowhere.
        assert_eq!(
            client_ip(Some(ip("203.0.113.9")), Some("1.1.1.1"), &trusted),
            Some(ip("203.0.113.9"))
        );
        // Through two trusted proxies: the nearest untrusted hop is the client, whatever the
        // client wrote further left.
        assert_eq!(
            client_ip(
                Some(ip("10.0.0.1")),
                Some("6.6.6.6, 198.51.100.7, 10.0.0.2"),
                &trusted
            ),
            Some(ip("198.51.100.7"))
        );
        // A trusted peer without the header is the client itself.
        assert_eq!(
            client_ip(Some(ip("10.0.0.1")), None, &trusted),
            Some(ip("10.0.0.1"))
        );
    }

    #[test]
    fn proxy_networks_match_by_prefix() {
        let net: ProxyNet = "172.18.0.0/16".parse().unwrap();
        assert!(net.contains(&ip("172.18.3.4")));
        assert!(!net.contains(&ip("172.19.0.1")));
        assert!(!net.contains(&ip("::1")));
        let v6: ProxyNet = "fd00::/8".parse().unwrap();
        assert!(v6.contains(&ip("fd12::1")));
        assert!(!v6.contains(&ip("fe80::1")));
        let all: ProxyNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(&ip("8.8.8.8")));
        let one: ProxyNet = "10.0.0.7".parse().unwrap();
        assert!(one.contains(&ip("10.0.0.7")) && !one.contains(&ip("10.0.0.8")));
        assert!(
            "10.0.0.0/33"
                .parse::<ProxyNet>()
                .unwrap_err()
                .contains("0 to 32")
        );
        assert!("proxy".parse::<ProxyNet>().is_err());
    }

    #[test]
    fn routes_fall_into_their_groups() {
        let group = |method: Method, path: &str| {
            crate::routes::table()
                .find(&method, path)
                .map(|s| s.group)
                .unwrap()
        };
        let reached: std::collections::HashSet<Group> = crate::routes::table()
            .specs()
            .iter()
            .map(|spec| spec.group)
            .collect();
        assert_eq!(reached.len(), Group::ALL.len(), "every group has routes");
        assert_eq!(group(Method::GET, "/api/v1/research/runs"), Group::Reads);
        assert_eq!(
            group(Method::POST, "/api/v1/research/runs"),
            Group::Research
        );
        assert_eq!(group(Method::POST, "/api/v1/llm/chat"), Group::Chat);
        assert_eq!(group(Method::POST, "/api/v1/llm/web-search"), Group::Chat);
        assert_eq!(group(Method::POST, "/api/v1/sync/jobs"), Group::Writes);
        assert_eq!(Group::of_method(&Method::DELETE), Group::Writes);
    }
}
