#!/usr/bin/env bash
# HTTP benchmark: wrk on loopback against the release binary on PostgreSQL and Redis with the
# demo data loaded.
#
#   scripts/bench/http.sh [OUT_DIR]
#
# Environment: BENCH_DURATION (seconds per endpoint, default 30), BENCH_CONNECTIONS (32),
# BENCH_THREADS (2), BENCH_PG_URL (server URL of PostgreSQL, default
# postgres://postgres:postgres@127.0.0.1:5432; a scratch database stockpilot_bench is dropped
# and recreated), BENCH_REDIS_URL (default redis://127.0.0.1:6379/15, flushed first),
# STOCKPILOT_API_KEY (sent as `Authorization: Bearer`; default: an analyst key made with
# `stockpilot apikey create` in the scratch database), BENCH_BIN (skip the build),
# CARGO_TARGET_DIR, BENCH_PORT (default 18182), BENCH_POOL_MAX (the server's database pool,
# default: BENCH_CONNECTIONS).
# Writes OUT_DIR/http.json: per endpoint req/s, p50/p90/p99/max latency, errors; server RSS idle
# (after start) and peak (VmHWM) per server run; the uncached bars query alone from pgbench
# (PostgreSQL's own ceiling for that route). Reports; asserts nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
DURATION="${BENCH_DURATION:-30}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
THREADS="${BENCH_THREADS:-2}"
PORT="${BENCH_PORT:-18182}"
PG_SERVER="${BENCH_PG_URL:-postgres://postgres:postgres@127.0.0.1:5432}"
PG_DB=stockpilot_bench
REDIS="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
LUA="$ROOT/scripts/bench/wrk-report.lua"
mkdir -p "$OUT_DIR"
# The key goes to curl and wrk only: the server rejects unknown STOCKPILOT_* settings.
API_KEY="${STOCKPILOT_API_KEY:-}"
unset STOCKPILOT_API_KEY
AUTH=()
if [[ -n "$API_KEY" ]]; then AUTH=(-H "Authorization: Bearer $API_KEY"); fi

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

if [[ -n "${BENCH_BIN:-}" ]]; then
  BIN="$BENCH_BIN"
else
  (cd "$ROOT" && cargo build --release -p stockpilot-server --bin stockpilot)
  BIN="$TARGET_DIR/release/stockpilot"
fi

WORK="$(mktemp -d /tmp/stockpilot-http.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap 'rc=$?; if [[ $rc -ne 0 ]]; then tail -n 20 "$WORK"/*.log >&2 || true; fi; cleanup' EXIT

# Scratch database and Redis index.
psql "$PG_SERVER/postgres" -qAtc "DROP DATABASE IF EXISTS $PG_DB" >/dev/null 2>&1
psql "$PG_SERVER/postgres" -qAtc "CREATE DATABASE $PG_DB" >/dev/null
redis-cli -u "$REDIS" FLUSHDB >/dev/null

export DATABASE_URL="$PG_SERVER/$PG_DB"
export REDIS_URL="$REDIS"
export STOCKPILOT_DATA__DIR="$WORK/data"
export STOCKPILOT_DATA__DEMO_DIR="$ROOT/data/demo"
export STOCKPILOT_SERVER__HOST=127.0.0.1
export STOCKPILOT_SERVER__PORT="$PORT"
# The load comes from one key at tens of thousands of requests a second: per-key rate limits
# (600 reads/min by default) would answer 429. This measures the server, not the limiter.
export STOCKPILOT_RATE_LIMIT__ENABLED=false
export LOG_FORMAT=json
unset OTEL_EXPORTER_OTLP_ENDPOINT
mkdir -p "$WORK/data"

echo "preparing $DATABASE_URL: migrations and demo data" >&2
"$BIN" migrate upgrade head >"$WORK/migrate.log" 2>&1
"$BIN" data import-demo >"$WORK/import.log" 2>&1
if [[ -z "$API_KEY" ]]; then
  # The load runs as a research desk would: an analyst key, checked on every request.
  API_KEY="$("$BIN" apikey create --name bench --role analyst 2>>"$WORK/migrate.log")"
fi
AUTH=(-H "Authorization: Bearer $API_KEY")

BASE="http://127.0.0.1:$PORT"
BARS="/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31"
SEARCH="/api/v1/instruments?q=AA"

rss_kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

# CPU time (user + system, clock ticks) of one process, and of every PostgreSQL process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {
  local total=0 pid
  for pid in $(pgrep -x postgres || true); do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}
TICKS="$(getconf CLK_TCK)"

start_server() { # $1: label; further args: extra environment
  local label="$1"; shift
  SERVER_LABEL="$label"
  env "$@" "$BIN" serve >"$WORK/serve-$label.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    if curl -fs -o /dev/null "$BASE/ready"; then return 0; fi
    sleep 0.05
  done
  echo "server ($label) did not become ready; log:" >&2
  tail -20 "$WORK/serve-$label.log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

run_wrk() { # $1: name, $2: path
  local name="$1" path="$2"
  curl -fsS -o /dev/null "${AUTH[@]}" "$BASE$path" # warms the cache where there is one
  echo "wrk $name: $path (${DURATION}s, $CONNECTIONS connections, $THREADS threads)" >&2
  # Sample the server's RSS every 0.5 s while wrk runs.
  ( while kill -0 "$SERVER_PID" 2>/dev/null; do rss_kb "$SERVER_PID" VmRSS; sleep 0.5; done ) \
    >"$WORK/rss-$name.txt" 2>/dev/null &
  local sampler=$!
  local server_before pg_before
  server_before="$(cpu_ticks "$SERVER_PID")"
  pg_before="$(pg_ticks)"
  STOCKPILOT_API_KEY="$API_KEY" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$LUA" "$BASE$path" \
    >"$WORK/wrk-$name.txt" 2>&1 || true
  local server_cpu pg_cpu
  server_cpu="$(( $(cpu_ticks "$SERVER_PID") - server_before ))"
  pg_cpu="$(( $(pg_ticks) - pg_before ))"
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  cp "$WORK/wrk-$name.txt" "$OUT_DIR/wrk-$name.txt"
  local line max_rss
  line="$(grep '^WRK_JSON ' "$WORK/wrk-$name.txt" | sed 's/^WRK_JSON //')"
  max_rss="$(sort -n "$WORK/rss-$name.txt" | tail -1)"
  echo "{\"name\":\"$name\",\"path\":\"$path\",\"server\":\"$SERVER_LABEL\",\"wrk\":${line:-null},\"rss_max_sampled_kb\":${max_rss:-null},\"cpu_s\":{\"server\":$(awk -v t="$server_cpu" -v h="$TICKS" 'BEGIN{print t / h}'),\"postgres\":$(awk -v t="$pg_cpu" -v h="$TICKS" 'BEGIN{print t / h}')}}" \
    >>"$WORK/results.jsonl"
  grep -E 'Requests/sec|Latency |99%|Non-2xx|Socket errors' "$WORK/wrk-$name.txt" >&2 || true
}

server_summary() { # $1: label; records idle and peak RSS of the running server
  local label="$1" idle_start="$2"
  local idle_after hwm
  sleep 6 # past one metrics upkeep (every 5 s)
  idle_after="$(rss_kb "$SERVER_PID" VmRSS)"
  hwm="$(rss_kb "$SERVER_PID" VmHWM)"
  echo "{\"server\":\"$label\",\"rss_idle_after_start_kb\":$idle_start,\"rss_idle_after_load_kb\":$idle_after,\"rss_peak_kb\":$hwm}" \
    >>"$WORK/servers.jsonl"
  echo "server $label: RSS idle $((idle_start / 1024)) MB, after load $((idle_after / 1024)) MB, peak $((hwm / 1024)) MB" >&2
}

# The pool holds as many connections as wrk keeps requests in flight, so no request waits
# for a connection; one more uncached run below uses the default pool for comparison.
DEFAULT_POOL="$("$BIN" config show 2>/dev/null | awk '$1 == "pool_max" {print $3; exit}')"
POOL="${BENCH_POOL_MAX:-$CONNECTIONS}"
export STOCKPILOT_DATABASE__POOL_MAX="$POOL"

# 1. Cache on (Redis, default TTL): /health, bars (warm), instrument search.
start_server cached
sleep 2
IDLE="$(rss_kb "$SERVER_PID" VmRSS)"
curl -fsS "${AUTH[@]}" "$BASE$BARS" >"$OUT_DIR/bars-sample.json"
run_wrk health /health
run_wrk bars_warm "$BARS"
run_wrk search "$SEARCH"
server_summary cached "$IDLE"
stop_server

# 2. Cache off (api.cache_ttl_secs = 0): bars from PostgreSQL every time.
start_server uncached STOCKPILOT_API__CACHE_TTL_SECS=0
sleep 2
IDLE="$(rss_kb "$SERVER_PID" VmRSS)"
run_wrk bars_cold "$BARS"
server_summary uncached "$IDLE"
stop_server

# 2b. The same with the default pool size.
start_server uncached_default_pool STOCKPILOT_API__CACHE_TTL_SECS=0 STOCKPILOT_DATABASE__POOL_MAX="${DEFAULT_POOL:-10}"
sleep 2
IDLE="$(rss_kb "$SERVER_PID" VmRSS)"
run_wrk bars_cold_default_pool "$BARS"
server_summary uncached_default_pool "$IDLE"
stop_server

# 3. PostgreSQL alone: the uncached bars query as the server sends it (the columns and text
# casts of `SeaStore::daily_bars_text`, prepared), from as many pgbench clients as the server
# has pooled connections: what PostgreSQL answers on these cores without the server.
cat >"$WORK/bars.sql" <<'SQL'
SELECT trade_date, trim_scale("open")::text, trim_scale("high")::text, trim_scale("low")::text, trim_scale("close")::text, trim_scale("pre_close")::text, trim_scale("change")::text, trim_scale("pct_change")::text, trim_scale("volume")::text, trim_scale("amount")::text, provider FROM daily_bars WHERE symbol = 'AAPL' AND trade_date BETWEEN '2012-01-01' AND '2012-12-31' ORDER BY trade_date ASC;
SQL
echo "pgbench: the bars query, $POOL clients, ${DURATION}s" >&2
pgbench -n -M prepared -c "$POOL" -j 2 -T "$DURATION" -f "$WORK/bars.sql" "$DATABASE_URL" \
  >"$OUT_DIR/pgbench-bars.txt" 2>&1 || true
PG_TPS="$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT_DIR/pgbench-bars.txt" | head -1)"
PG_TX="$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT_DIR/pgbench-bars.txt" | head -1)"
PG_LAT="$(sed -n 's/^latency average = \([0-9.]*\) ms.*/\1/p' "$OUT_DIR/pgbench-bars.txt" | head -1)"
echo "{\"clients\":$POOL,\"duration_s\":$DURATION,\"tps\":${PG_TPS:-null},\"transactions\":${PG_TX:-null},\"latency_avg_ms\":${PG_LAT:-null}}" \
  >"$WORK/pg.json"
grep -E '^(tps|latency average)' "$OUT_DIR/pgbench-bars.txt" >&2 || true

python3 - "$WORK" "$OUT_DIR/http.json" "$DURATION" "$CONNECTIONS" "$THREADS" "$POOL" "${DEFAULT_POOL:-10}" <<'PY'
import json, sys
work, out, duration, connections, threads = sys.argv[1:6]
results = [json.loads(l) for l in open(f"{work}/results.jsonl")]
servers = [json.loads(l) for l in open(f"{work}/servers.jsonl")]
pg = json.load(open(f"{work}/pg.json"))
pool, default_pool = sys.argv[6], sys.argv[7]
json.dump({"duration_s": int(duration), "connections": int(connections), "threads": int(threads),
           "pool_max": int(pool), "default_pool_max": int(default_pool),
           "endpoints": results, "servers": servers, "pg_bars": pg}, open(out, "w"), indent=2)
PY
echo "wrote $OUT_DIR/http.json" >&2
