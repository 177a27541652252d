//! One Redis connection behind a circuit breaker, shared by the cache, the rate limiter and
//! the readiness checks.
//!
//! Every command gets its own short timeout (`cache.command_timeout_ms`, 100 ms by default).
//! After [`OPEN_AFTER`] failures or timeouts in a row the breaker opens: commands are not sent
//! at all and callers use their in-memory fallback at once, so a hung Redis costs requests at
//! most a few timeouts instead of seconds each. A background probe pings Redis every
//! [`PROBE_EVERY`] whatever the traffic: it closes the breaker when Redis answers again, opens
//! it when Redis stops answering while idle, and keeps the `stockpilot_redis_circuit_open`
//! gauge current.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use stockpilot_application::ports::{CacheError, DependencyProbe, ProbeFailure};

/// Failures or timeouts in a row that open the breaker.
pub const OPEN_AFTER: u32 = 3;

/// How often the background probe pings Redis.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// Redis errors can echo the URL they failed on; keep only the kind so no password leaks.
pub(crate) fn describe(e: &redis::RedisError) -> String {
    format!("redis {:?} error", e.kind())
}

/// Told `true` when the breaker opens and `false` when it closes.
type Listener = Box<dyn Fn(bool) + Send + Sync>;

struct Shared {
    conn: ConnectionManager,
    timeout: Duration,
    open: AtomicBool,
    failures: AtomicU32,
    on_change: std::sync::Mutex<Vec<Listener>>,
}

stockpilot_application::settings! {
    /// `cache`: Redis, or this instance's memory.
    pub struct CacheConfig {
        /// `redis://`, `rediss://` or `unix://` (unset: an in-memory cache); when set, `/ready`
        /// checks it.
        redis_url: Option<stockpilot_application::settings::Secret> = None; secret = true, env = &["REDIS_URL"], default_shown = "unset (in-memory cache)", example = "redis://:secret@redis:6379/0",
        /// Redis connect timeout at start (seconds).
        connect_timeout_secs: u64 = 2; range = (1.0, 60.0),
        /// Each Redis command's own timeout (ms); after 3 failures or timeouts in a row the
        /// circuit breaker opens and the cache and rate limits use this instance's memory
        /// until a background ping (every second) gets an answer.
        command_timeout_ms: u64 = 100; range = (10.0, 10_000.0),
    }
}

/// A Redis connection with a per-command timeout and a circuit breaker; clones share both.
#[derive(Clone)]
pub struct RedisLink {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink")
            .field("open", &self.is_open())
            .finish()
    }
}

impl RedisLink {
    /// Connects to `url` with the timeouts `config` declares ([`Self::connect`]).
    ///
    /// # Errors
    /// As [`Self::connect`].
    pub async fn configured(url: &str, config: &CacheConfig) -> anyhow::Result<Self> {
        Self::connect(
            url,
            Duration::from_secs(config.connect_timeout_secs),
            Duration::from_millis(config.command_timeout_ms),
        )
        .await
    }

    /// Connects to `url`, waiting at most `connect_timeout` for the first connection; later
    /// drops are reconnected in the background by the connection manager. Starts the
    /// background probe, which ends when the last clone of the link is dropped.
    ///
    /// # Errors
    /// An invalid URL or a server that does not answer in time.
    pub async fn connect(
        url: &str,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!(describe(&e)))
            .context("invalid Redis URL (cache.redis_url)")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(connect_timeout))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            connect_timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} ms", connect_timeout.as_millis()))
        .and_then(|r| r.map_err(|e| anyhow::anyhow!(describe(&e))))
        .context("cannot connect to Redis (cache.redis_url)")?;
        let link = Self {
            shared: Arc::new(Shared {
                conn,
                timeout: command_timeout,
                open: AtomicBool::new(false),
                failures: AtomicU32::new(0),
                on_change: std::sync::Mutex::default(),
            }),
        };
        tokio::spawn(probe_loop(Arc::downgrade(&link.shared)));
        Ok(link)
    }

    /// Whether commands are skipped because Redis failed [`OPEN_AFTER`] times in a row.
    pub fn is_open(&self) -> bool {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Sets the breaker's gauges (`stockpilot_redis_circuit_open` and what the users of the
    /// link export) to its current state: for a metrics recorder installed after connecting.
    pub fn export_state(&self) {
        publish(&self.shared, self.is_open());
    }

    /// Registers `callback(open)` to be told about each change of the breaker.
    pub(crate) fn on_change(&self, callback: impl Fn(bool) + Send + Sync + 'static) {
        self.shared
            .on_change
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Box::new(callback));
    }

    /// Runs one command within the command timeout, unless the breaker is open.
    ///
    /// # Errors
    /// The breaker is open, Redis failed, or it did not answer in time.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if self.is_open() {
            return Err(CacheError("redis circuit open".into()));
        }
        call(&self.shared, f).await
    }
}

async fn call<T, F, Fut>(shared: &Shared, f: F) -> Result<T, CacheError>
where
    F: FnOnce(ConnectionManager) -> Fut,
    Fut: Future<Output = redis::RedisResult<T>>,
{
    let outcome = match tokio::time::timeout(shared.timeout, f(shared.conn.clone())).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) => Err(format!(
            "redis: no answer within {} ms",
            shared.timeout.as_millis()
        )),
    };
    match outcome {
        Ok(value) => {
            shared.failures.store(0, Ordering::SeqCst);
            Ok(value)
        }
        Err(reason) => {
            if shared.failures.fetch_add(1, Ordering::SeqCst) + 1 >= OPEN_AFTER {
                set_open(shared, true, &reason);
            }
            Err(CacheError(reason))
        }
    }
}

fn set_open(shared: &Shared, open: bool, reason: &str) {
    if shared.open.swap(open, Ordering::SeqCst) == open {
        return;
    }
    if open {
        tracing::warn!(
            reason,
            "Redis unavailable: circuit open; the cache and rate limits use this instance's memory until it answers again"
        );
    } else {
        shared.failures.store(0, Ordering::SeqCst);
        tracing::info!(
            "Redis answers again: circuit closed; cache and rate limits are shared again"
        );
    }
    publish(shared, open);
}

/// Sets the breaker's gauge and tells the link's users its state.
fn publish(shared: &Shared, open: bool) {
    metrics::gauge!("stockpilot_redis_circuit_open").set(if open { 1.0 } else { 0.0 });
    for callback in shared
        .on_change
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
    {
        callback(open);
    }
}

/// Pings every [`PROBE_EVERY`] until the link is gone: an answer closes the breaker, a failure
/// counts towards opening it.
async fn probe_loop(shared: Weak<Shared>) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let pinged = call(&shared, |mut conn| async move {
            redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await;
        if pinged.is_ok() {
            set_open(&shared, false, "");
        }
    }
}

/// A `/ready` check that reports the breaker, without a round trip of its own (the background
/// probe makes those). It does not make the instance unready: while Redis is away requests are
/// served from memory (see docs/operations.md, "Failure modes"). Two are shown: `redis` (the
/// cache) and `rate_limiter` (whether limits are shared).
#[derive(Clone)]
pub struct CircuitProbe {
    link: RedisLink,
    name: &'static str,
    while_open: &'static str,
}

impl RedisLink {
    /// The `redis` check.
    pub fn probe(&self) -> CircuitProbe {
        self.probe_named(
            "redis",
            "Redis unavailable (circuit open): cache and rate limits are per instance",
        )
    }

    /// A check named `name` that fails with `while_open` while the breaker is open.
    pub(crate) fn probe_named(&self, name: &'static str, while_open: &'static str) -> CircuitProbe {
        CircuitProbe {
            link: self.clone(),
            name,
            while_open,
        }
    }
}

#[async_trait::async_trait]
impl DependencyProbe for CircuitProbe {
    fn name(&self) -> &'static str {
        self.name
    }

    fn required(&self) -> bool {
        false
    }

    async fn probe(&self) -> Result<(), ProbeFailure> {
        if self.link.is_open() {
            Err(ProbeFailure(self.while_open.into()))
        } else {
            Ok(())
        }
    }
}
