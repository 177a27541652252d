//! What a section's declared types and ranges cannot say: one function per section (named
//! as its field of `Config`), run after its ranges are checked, in section order.

use secrecy::ExposeSecret;

use super::loader::Loader;
use super::sections::Config;

pub fn data(c: &Config, l: &mut Loader) {
    if let Some(dir) = &c.data.demo_dir {
        l.check("data.demo_dir", dir.is_dir(), || {
            format!("{} is not a directory", dir.display())
        });
    }
}

pub fn server(c: &Config, l: &mut Loader) {
    for origin in c.server.cors_allowed_origins.iter() {
        l.check("server.cors_allowed_origins", valid_origin(origin), || {
            format!(
                "'{origin}' is not an origin; expected scheme://host[:port] \
                 (https://app.example.com) or *"
            )
        });
    }
    for host in c.server.allowed_hosts.iter() {
        l.check(
            "server.allowed_hosts",
            !host.is_empty() && !host.contains(['/', ' ', '*']),
            || format!("'{host}' is not a host name; expected api.example.com or .example.com"),
        );
    }
    for proxy in c.server.trusted_proxies.iter() {
        if let Err(e) = proxy.parse::<stockpilot_presentation::middleware::ProxyNet>() {
            l.check("server.trusted_proxies", false, || e);
        }
    }
}

pub fn auth(_: &Config, _: &mut Loader) {}

pub fn rate_limit(_: &Config, _: &mut Loader) {}

pub fn database(c: &Config, l: &mut Loader) {
    let db = &c.database;
    if let Some(url) = &db.url {
        let url = url.expose_secret();
        let scheme_ok = stockpilot_db::Backend::of_url(url).is_some();
        l.check("database.url", scheme_ok, || {
            "must start with postgres://, postgresql:// or sqlite: (value not shown: it may hold a password)".into()
        });
        if scheme_ok && !url.starts_with("sqlite") {
            let parsed = url::Url::parse(url);
            l.check("database.url", matches!(&parsed, Ok(u) if u.host_str().is_some_and(|h| !h.is_empty())), || {
                match &parsed {
                    Err(e) => format!("is not a valid URL ({e}); expected postgres://user:password@host:5432/database"),
                    Ok(_) => "has no host; expected postgres://user:password@host:5432/database".into(),
                }
            });
        }
    }
    l.check("database.pool_min", db.pool_min <= db.pool_max, || {
        format!(
            "must not exceed database.pool_max ({}), got {}",
            db.pool_max, db.pool_min
        )
    });
    let secs = db.statement_timeout_secs;
    l.check(
        "database.statement_timeout_secs",
        secs == 0.0 || secs >= 0.05,
        || format!("{secs} is out of range 0.05–3600 seconds (0 turns it off)"),
    );
}

pub fn cache(c: &Config, l: &mut Loader) {
    if let Some(redis) = &c.cache.redis_url {
        let scheme = redis
            .expose_secret()
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        l.check("cache.redis_url", ["redis", "rediss", "unix", "redis+unix"].contains(&scheme.as_str()), || {
            "must start with redis://, rediss:// or unix:// (value not shown: it may hold a password)".into()
        });
    }
}

pub fn logging(c: &Config, l: &mut Loader) {
    let level = &c.logging.level;
    l.check("logging.level", tracing_subscriber::EnvFilter::try_new(level).is_ok(), || {
        format!("'{level}' is not a level or filter; use trace, debug, info, warn, error or a directive like 'info,stockpilot=debug'")
    });
}

pub fn telemetry(c: &Config, l: &mut Loader) {
    let t = &c.telemetry;
    if let Some(endpoint) = &t.otlp_endpoint {
        let ok = url::Url::parse(endpoint).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        l.check("telemetry.otlp_endpoint", ok, || {
            format!("'{endpoint}' is not an http(s) URL such as http://otel-collector:4318")
        });
    }
    l.check(
        "telemetry.service_name",
        !t.service_name.trim().is_empty(),
        || "must not be empty".into(),
    );
}

pub fn metrics(c: &Config, l: &mut Loader) {
    let m = &c.metrics;
    let reserved = ["/health", "/ready", "/api/v1/health"];
    l.check("metrics.path", m.path.starts_with('/') && m.path.len() > 1 && !reserved.contains(&m.path.as_str()) && !m.path.starts_with("/api/"), || {
        format!("must be a path such as /metrics, not under /api/ and not /health or /ready; got '{}'", m.path)
    });
    if let Some(port) = m.port {
        l.check("metrics.port", port != c.server.port || port == 0, || {
            format!("must differ from server.port ({port}); leave it unset to serve metrics on the main port")
        });
    }
}

/// An http(s) URL.
fn http_url(l: &mut Loader, key: &str, url: &str) {
    let ok = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    l.check(key, ok, || format!("'{url}' is not an http(s) URL"));
}

pub fn tushare(c: &Config, l: &mut Loader) {
    http_url(l, "providers.tushare.base_url", &c.tushare.base_url);
}

pub fn financial_datasets(c: &Config, l: &mut Loader) {
    let url = &c.financial_datasets.base_url;
    http_url(l, "providers.financial_datasets.base_url", url);
}

pub fn csv(c: &Config, l: &mut Loader) {
    if let Some(dir) = &c.csv.dir {
        l.check("providers.csv.dir", dir.is_dir(), || {
            format!("{} is not a directory", dir.display())
        });
    }
}

pub fn sync(_: &Config, _: &mut Loader) {}

pub fn research(c: &Config, l: &mut Loader) {
    let on = &c.research.on_interrupted;
    l.check(
        "research.on_interrupted",
        ["resume", "mark"].contains(&on.as_str()),
        || format!("must be \"resume\" or \"mark\", got \"{on}\""),
    );
}

pub fn scheduler(c: &Config, l: &mut Loader) {
    let mut names = std::collections::HashSet::new();
    for (i, job) in c.scheduler.jobs.iter().enumerate() {
        let problem = crate::schedules::check(job).err().or_else(|| {
            (!names.insert(job.name.clone()))
                .then(|| format!("duplicate schedule name '{}'", job.name))
        });
        l.check("scheduler.jobs", problem.is_none(), || {
            format!("job {i} ({}): {}", job.name, problem.unwrap_or_default())
        });
    }
}

pub fn api(_: &Config, _: &mut Loader) {}

/// The default provider as the LLM platform validates any provider.
pub fn llm(c: &Config, l: &mut Loader) {
    let Some(provider) = crate::wiring::configured_llm(c) else {
        return;
    };
    for problem in stockpilot_application::llm::validate(&provider) {
        let field = match problem.field.as_str() {
            "name"
            | "preset"
            | "base_url"
            | "model"
            | "api_key"
            | "price_input_per_1k"
            | "price_output_per_1k"
            | "timeout_secs"
            | "max_concurrent" => problem.field.as_str(),
            _ => "base_url",
        };
        l.check(&format!("llm.{field}"), false, || problem.message.clone());
    }
}

pub fn search(c: &Config, l: &mut Loader) {
    http_url(l, "search.base_url", &c.search.base_url);
}

pub fn security(c: &Config, l: &mut Loader) {
    if let Some(key) = &c.security.encryption_key {
        let problem = stockpilot_llm::AesGcmBox::from_key_text(key.expose_secret()).err();
        l.check("security.encryption_key", problem.is_none(), || {
            format!("{} (value not shown)", problem.unwrap_or_default())
        });
    }
}

/// `*`, or `scheme://host[:port]` with nothing after it.
fn valid_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    match url::Url::parse(origin) {
        Ok(u) => {
            matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some()
                && origin.trim_end_matches('/') == u.origin().ascii_serialization()
        }
        Err(_) => false,
    }
}
