#!/usr/bin/env bash
# Startup benchmark: `stockpilot serve` on SQLite, every migration applied and the demo data
# imported beforehand, timed from process spawn to the first `GET /ready` answering 200.
#
#   scripts/bench/startup.sh [OUT_DIR]
#
# Environment: STARTUP_RUNS (default 20), CARGO_TARGET_DIR (where the release binary is built),
# BENCH_BIN (use this binary, skip the build), BENCH_PORT (default 18181).
# Writes OUT_DIR/startup.json (every run in ms, min/median/p95) and OUT_DIR/startup-log.jsonl
# (the debug log of one extra run, to see where the time goes). Reports; asserts nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
RUNS="${STARTUP_RUNS:-20}"
PORT="${BENCH_PORT:-18181}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p "$OUT_DIR"

if [[ -n "${BENCH_BIN:-}" ]]; then
  BIN="$BENCH_BIN"
else
  (cd "$ROOT" && cargo build --release -p stockpilot-server --bin stockpilot)
  BIN="$TARGET_DIR/release/stockpilot"
fi

WORK="$(mktemp -d /tmp/stockpilot-startup.XXXXXX)"
trap 'rc=$?; if [[ $rc -ne 0 ]]; then tail -n 20 "$WORK"/*.log >&2 || true; fi; rm -rf "$WORK"' EXIT
DB="$WORK/stockpilot.db"

# The server's own environment: SQLite, in-memory cache, demo data from the repository.
export DATABASE_URL="sqlite://$DB?mode=rwc"
export STOCKPILOT_DATA__DIR="$WORK/data"
export STOCKPILOT_DATA__DEMO_DIR="$ROOT/data/demo"
export STOCKPILOT_SERVER__HOST=127.0.0.1
export STOCKPILOT_SERVER__PORT="$PORT"
export LOG_FORMAT=json
unset REDIS_URL OTEL_EXPORTER_OTLP_ENDPOINT
mkdir -p "$WORK/data"

echo "preparing $DB: migrations and demo data" >&2
"$BIN" migrate upgrade head >"$WORK/migrate.log" 2>&1
"$BIN" data import-demo >"$WORK/import.log" 2>&1
ls -la "$DB" >&2

python3 - "$BIN" "$PORT" "$RUNS" "$OUT_DIR" "$WORK" <<'PY'
import http.client, json, os, statistics, subprocess, sys, time

binary, port, runs, out_dir, work = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def ready_once():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/ready")
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()

def run(env_extra, log_path):
    env = dict(os.environ, **env_extra)
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen([binary, "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)
        status = None
        while time.perf_counter() - start < 30:
            status = ready_once()
            if status == 200:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.0005)
        elapsed = (time.perf_counter() - start) * 1000
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if status != 200:
        raise SystemExit(f"serve never answered /ready 200 (last {status}); see {log_path}")
    return elapsed

times = [run({}, os.path.join(work, "serve.log")) for _ in range(runs)]
ordered = sorted(times)
p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
# One more run with debug logs, kept to show the phases of startup.
debug_log = os.path.join(out_dir, "startup-log.jsonl")
debug_ms = run({"LOG_LEVEL": "debug"}, debug_log)
report = {
    "runs": runs,
    "ms": [round(t, 1) for t in times],
    "min_ms": round(ordered[0], 1),
    "median_ms": round(statistics.median(ordered), 1),
    "p95_ms": round(p95, 1),
    "max_ms": round(ordered[-1], 1),
    "debug_run_ms": round(debug_ms, 1),
    "db_bytes": os.path.getsize(os.path.join(work, "stockpilot.db")),
}
with open(os.path.join(out_dir, "startup.json"), "w") as f:
    json.dump(report, f, indent=2)
print(f"startup to /ready=200 over {runs} runs: min {report['min_ms']} ms, "
      f"median {report['median_ms']} ms, p95 {report['p95_ms']} ms", file=sys.stderr)
PY
