//! Logging and tracing: JSON or human-readable logs on stdout, optionally also a size-rotated
//! log file, and OpenTelemetry OTLP/HTTP trace export when an endpoint is configured.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::LogFormat;
use crate::config::sections::{
    LoggingSettings as LoggingConfig, TelemetrySettings as TelemetryConfig,
};

/// Keeps the trace exporter alive; flushes it on drop so the last spans are not lost.
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn fmt_layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    use tracing_subscriber::fmt::format as lines;
    match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .fmt_fields(lines::JsonFields::new())
            .event_format(ClientFaultsAsWarnings(
                lines().json().with_current_span(true).with_span_list(false),
            ))
            .with_writer(writer)
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .event_format(ClientFaultsAsWarnings(lines().with_ansi(ansi)))
            .with_writer(writer)
            .boxed(),
    }
}

/// The target of actix's HTTP/1 connection handling.
const H1_DISPATCHER: &str = "actix_http::h1::dispatcher";

/// actix logs a request it cannot parse (a byte not allowed in a path, headers or a URI over
/// its limits) and a connection the client broke as `ERROR` "stream error: …", after it has
/// answered 400 or 431 itself. Those are the client's faults, not the server's: they are
/// written at `WARN`, so `ERROR` lines stay worth waking someone for.
struct ClientFaultsAsWarnings<F>(F);

impl<S, N, F> tracing_subscriber::fmt::FormatEvent<S, N> for ClientFaultsAsWarnings<F>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    N: for<'a> tracing_subscriber::fmt::FormatFields<'a> + 'static,
    F: tracing_subscriber::fmt::FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &tracing_subscriber::fmt::FmtContext<'_, S, N>,
        mut writer: tracing_subscriber::fmt::format::Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        let meta = event.metadata();
        if meta.target() != H1_DISPATCHER || *meta.level() != tracing::Level::ERROR {
            return self.0.format_event(ctx, writer, event);
        }
        let mut line = String::new();
        self.0.format_event(
            ctx,
            tracing_subscriber::fmt::format::Writer::new(&mut line),
            event,
        )?;
        if line.contains("stream error: ") {
            line = line
                .replacen("\"level\":\"ERROR\"", "\"level\":\"WARN\"", 1)
                .replacen("ERROR", " WARN", 1);
        }
        writer.write_str(&line)
    }
}

/// Installs the global subscriber. Call once, before the async runtime starts (the OTLP
/// exporter's blocking HTTP client must not be built inside it).
///
/// # Errors
/// An unopenable log file or an OTLP exporter that cannot be built.
pub fn init(
    logging: &LoggingConfig,
    telemetry: &TelemetryConfig,
) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::try_new(&logging.level).context("logging.level")?;
    let mut layers: Vec<BoxedLayer> = vec![fmt_layer(logging.format, std::io::stdout, true)];
    if let Some(path) = &logging.file {
        let file = RotatingFile::open(path, logging.file_max_bytes, logging.file_max_files)
            .with_context(|| {
                format!("cannot open the log file {} (logging.file)", path.display())
            })?;
        layers.push(fmt_layer(logging.format, file, false));
    }
    let mut provider = None;
    if let Some(endpoint) = &telemetry.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
            .build()
            .context("cannot build the OTLP exporter (telemetry.otlp_endpoint)")?;
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(telemetry.service_name.clone())
            .build();
        let sdk = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                telemetry.sample_ratio,
            ))))
            .with_resource(resource)
            .build();
        let tracer = sdk.tracer("stockpilot");
        layers.push(tracing_opentelemetry::layer().with_tracer(tracer).boxed());
        provider = Some(sdk);
    }
    Registry::default()
        .with(layers)
        .with(filter)
        .try_init()
        .context("a global tracing subscriber is already installed")?;
    Ok(TelemetryGuard { provider })
}

/// A log file that is renamed to `<name>.1` (older ones shifted up to `<name>.<max_files>`)
/// once writing to it would exceed `max_bytes`.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    max_files: u32,
    state: Mutex<(File, u64)>,
}

impl RotatingFile {
    /// Opens (appending to) `path`, creating its directory.
    ///
    /// # Errors
    /// The directory or file cannot be created.
    pub fn open(path: &Path, max_bytes: u64, max_files: u32) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            path: path.to_owned(),
            max_bytes,
            max_files,
            state: Mutex::new((file, len)),
        })
    }

    fn numbered(&self, n: u32) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&self, state: &mut (File, u64)) -> std::io::Result<()> {
        for n in (1..self.max_files).rev() {
            let from = self.numbered(n);
            if from.exists() {
                std::fs::rename(&from, self.numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.numbered(1))?;
        state.0 = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        state.1 = 0;
        Ok(())
    }

    fn write_record(&self, buf: &[u8]) -> std::io::Result<usize> {
        // A poisoned lock only means another writer panicked mid-log; the file is still usable.
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.1 > 0 && state.1 + buf.len() as u64 > self.max_bytes {
            self.rotate(&mut state)?;
        }
        state.0.write_all(buf)?;
        state.1 += buf.len() as u64;
        Ok(buf.len())
    }
}

/// One event's write into a [`RotatingFile`].
pub struct RotatingWriter<'a>(&'a RotatingFile);

impl Write for RotatingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_record(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RotatingFile {
    type Writer = RotatingWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        RotatingWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_at_most_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/app.log");
        let file = RotatingFile::open(&path, 100, 2).unwrap();
        for i in 0..5 {
            let line = format!("{i}{}\n", "x".repeat(58));
            file.make_writer().write_all(line.as_bytes()).unwrap();
        }
        let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
        assert!(read(path.clone()).starts_with('4'));
        assert!(read(file.numbered(1)).starts_with('3'));
        assert!(read(file.numbered(2)).starts_with('2'));
        assert!(!file.numbered(3).exists(), "older files are dropped");
    }
}
