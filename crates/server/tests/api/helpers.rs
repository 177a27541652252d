//! `TestApp`: the real server on an ephemeral port, plus a TCP proxy that can cut the
//! server off from its database.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use stockpilot_db::testing::TestDatabase;
use stockpilot_server::Application;
use stockpilot_server::config::{Config, SourceOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

pub struct TestApp {
    pub address: String,
    /// Sends the admin key of `token` on every request.
    pub client: reqwest::Client,
    /// An admin API key created for the test.
    pub token: String,
    /// API keys and the audit log, for setting up other keys.
    pub auth: std::sync::Arc<stockpilot_application::auth::AuthService>,
    /// The data directory (`data.dir`).
    pub data_dir: tempfile::TempDir,
    /// Kept so the database outlives the server (dropped, and for PostgreSQL deleted, last).
    pub _db: TestDatabase,
    handle: ServerHandle,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Settings that load the demo dataset on start and let a sync worker poll quickly.
pub const WITH_DEMO: &[(&str, &str)] = &[
    ("STOCKPILOT_DATA__IMPORT_DEMO", "true"),
    ("STOCKPILOT_SYNC__POLL_INTERVAL_MS", "20"),
];

/// Configuration as a deployment would give it, through environment variables.
pub fn config_for(database_url: &str, extra: &[(&str, &str)]) -> (Config, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("STOCKPILOT_SERVER__HOST".to_owned(), "127.0.0.1".to_owned()),
        ("STOCKPILOT_SERVER__PORT".to_owned(), "0".to_owned()),
        ("STOCKPILOT_SERVER__WORKERS".to_owned(), "1".to_owned()),
        (
            "STOCKPILOT_DATA__DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        // The built-in demo files serve as the `csv` provider; loading them on start is
        // opt-in.
        (
            "STOCKPILOT_DATA__IMPORT_DEMO".to_owned(),
            "false".to_owned(),
        ),
        // Test servers run side by side from one address (and share one Redis under
        // `make test-all`): limits are switched on only by the tests about them.
        (
            "STOCKPILOT_RATE_LIMIT__ENABLED".to_owned(),
            "false".to_owned(),
        ),
    ];
    if let Ok(redis) = std::env::var("TEST_REDIS_URL") {
        env.push(("REDIS_URL".to_owned(), redis));
    }
    for (k, v) in extra {
        env.retain(|(name, _)| name != k);
        env.push(((*k).to_owned(), (*v).to_owned()));
    }
    let opts = SourceOptions {
        config_file: None,
        dotenv: Some(dir.path().join("none.env")),
    };
    let config = Config::load_from(&opts, &env).unwrap_or_else(|e| panic!("{e}"));
    (config, dir)
}

/// Runs the `stockpilot` binary with `args` as a user would from another directory: nothing
/// configured but `DATABASE_URL`. On a blocking thread, so a server sharing the test's
/// runtime keeps serving meanwhile.
pub async fn cli(database_url: &str, args: &[&str]) -> std::process::Output {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_stockpilot"));
    command
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .args(args);
    let out = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "stockpilot {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A client that sends `token` as `Authorization: Bearer`.
pub fn client_with_key(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

impl TestApp {
    /// The server on the default test database (PostgreSQL when configured, else SQLite).
    pub async fn spawn() -> Self {
        let db = match TestDatabase::postgres().await.unwrap() {
            Some(pg) => pg,
            None => TestDatabase::sqlite().unwrap(),
        };
        Self::spawn_on(db, &[]).await
    }

    pub async fn spawn_on(db: TestDatabase, extra: &[(&str, &str)]) -> Self {
        let url = db.url.clone();
        Self::spawn_with_url(db, &url, extra).await
    }

    /// The server connecting through `url` (e.g. a proxy in front of `db`).
    pub async fn spawn_with_url(db: TestDatabase, url: &str, extra: &[(&str, &str)]) -> Self {
        stockpilot_server::install_crypto_provider();
        let (config, data_dir) = config_for(url, extra);
        let app = Application::build(&config).await.unwrap();
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        let auth = app.auth.clone();
        let token = auth
            .create("tests", stockpilot_application::auth::Role::Admin, "tests")
            .await
            .unwrap()
            .token;
        let task = tokio::spawn(app.run_until_stopped());
        Self {
            address,
            client: client_with_key(&token),
            token,
            auth,
            data_dir,
            _db: db,
            handle,
            task: Some(task),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let res = self.get(path).await;
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
        let res = self
            .client
            .post(format!("{}{path}", self.address))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        (status, headers, res.json().await.unwrap())
    }

    /// Polls a sync job until it ends (bounded; each poll is one request).
    pub async fn wait_for_job(&self, id: &str) -> serde_json::Value {
        for _ in 0..500 {
            let (_, job) = self.get_json(&format!("/api/v1/sync/jobs/{id}")).await;
            if ["succeeded", "failed", "cancelled", "paused"]
                .contains(&job["status"].as_str().unwrap_or_default())
            {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("sync job {id} did not end");
    }

    /// Stops gracefully and returns what the server returned.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.task.take().unwrap().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// What a [`FaultProxy`] does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwards both ways.
    None,
    /// Nothing listens: new connections are refused and open ones are reset.
    Refuse,
    /// Accepts connections and keeps every connection open, but forwards no byte either way
    /// until the fault is lifted (then what was held is delivered): a hung server.
    Stall,
}

/// A TCP forwarder in front of a real server (PostgreSQL, Redis) that can refuse, drop or
/// stall connections, to test how the server under test behaves without touching the real one.
pub struct FaultProxy {
    pub addr: SocketAddr,
    fault: tokio::sync::watch::Sender<Fault>,
    live: Arc<Mutex<Vec<AbortHandle>>>,
    accept: Mutex<Option<JoinHandle<()>>>,
    target: SocketAddr,
}

impl FaultProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (fault, _) = tokio::sync::watch::channel(Fault::None);
        let proxy = Self {
            addr,
            fault,
            live: Arc::default(),
            accept: Mutex::new(None),
            target,
        };
        proxy.listen(listener);
        proxy
    }

    fn listen(&self, listener: TcpListener) {
        let (target, live, fault) = (self.target, self.live.clone(), self.fault.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let fault = fault.subscribe();
                let task = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (from_client, to_client) = inbound.into_split();
                    let (from_server, to_server) = outbound.into_split();
                    tokio::join!(
                        pump(from_client, to_server, fault.clone()),
                        pump(from_server, to_client, fault),
                    );
                });
                live.lock().unwrap().push(task.abort_handle());
            }
        });
        *self.accept.lock().unwrap() = Some(accept);
    }

    pub fn set(&self, fault: Fault) {
        let before = self.fault.send_replace(fault);
        if fault == Fault::Refuse {
            if let Some(accept) = self.accept.lock().unwrap().take() {
                accept.abort();
            }
            for task in self.live.lock().unwrap().drain(..) {
                task.abort();
            }
        } else if before == Fault::Refuse && self.accept.lock().unwrap().is_none() {
            let std = std::net::TcpListener::bind(self.addr).unwrap();
            std.set_nonblocking(true).unwrap();
            self.listen(TcpListener::from_std(std).unwrap());
        }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.set(Fault::Refuse);
    }

    pub fn restore(&self) {
        self.set(Fault::None);
    }
}

/// Copies bytes one way, holding each chunk while the proxy stalls.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut fault: tokio::sync::watch::Receiver<Fault>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let Ok(n) = from.read(&mut buf).await else {
            return;
        };
        if n == 0 {
            let _ = to.shutdown().await;
            return;
        }
        if fault.wait_for(|f| *f != Fault::Stall).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// The rows of a CSV file written by the CLI (header skipped; no quoted fields).
pub fn csv_rows(path: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}
