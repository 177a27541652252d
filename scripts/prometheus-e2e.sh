#!/usr/bin/env bash
# Prometheus end to end (make prometheus-e2e): a real Prometheus (Debian's package) scrapes a
# running stockpilot every second with deploy/prometheus/alerts.yml loaded; after some
# traffic (probes, reads, a cache hit, 404s, a 422, a sync job that succeeds and one that
# fails, a research run and its event stream, a scheduled job) every PromQL expression of every Grafana dashboard and every alert
# is evaluated through Prometheus' HTTP API.
#
# Fails when an expression errors, when an alert rule does not evaluate cleanly, when one of
# the metrics docs/operations.md lists is not exported, or when a dashboard expression returns
# no series — except expressions over metrics that only exist after LLM calls, a
# rate-limited client or an overloaded server (none of which this run produces; the list is
# OPTIONAL_METRICS in scripts/ops/deploy_checks.py), research metrics when the binary has no
# research runs, and alert expressions, which return nothing while all is well.
#
# Environment: OPS_STOCKPILOT_BIN (the binary; default target/debug/stockpilot, built when
# missing), E2E_SCHEDULE_WAIT (seconds to wait for the every-minute schedule to fire, default
# 65), E2E_KEEP=1 keeps the temporary directory (logs, TSDB).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/ops/lib.sh
source scripts/ops/lib.sh

started=$(date +%s)
apt_need prometheus prometheus promtool prometheus curl curl
ensure_venv
bin=$(stockpilot_bin)
work=$(mktemp -d)
sp_pid="" prom_pid="" stub_pid=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  [ -z "$sp_pid" ] || kill "$sp_pid" 2>/dev/null || true
  [ -z "$prom_pid" ] || kill "$prom_pid" 2>/dev/null || true
  [ -z "$stub_pid" ] || kill "$stub_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${E2E_KEEP:-}" ]; then echo "e2e: kept ${work}"; else rm -rf "$work"; fi
}
trap cleanup EXIT

api_port=$(free_port)
prom_port=$(free_port)
stub_port=$(free_port)
api=http://127.0.0.1:$api_port
prom=http://127.0.0.1:$prom_port

# Provider stubs (OpenAI-compatible and Tushare-shaped), so research runs and a sync job go
# through the real gateway and adapters.
python3 scripts/ops/llm_stub.py "$stub_port" &
stub_pid=$!
wait_http_post() { # URL SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST --max-time 1 "$1")" = 404 ] && return 0
    sleep 0.1
  done
  return 1
}
wait_http_post "http://127.0.0.1:${stub_port}/ping" 20 || { echo "e2e: the LLM stub did not start" >&2; exit 1; }

# stockpilot: SQLite in the temporary directory, the demo dataset, a schedule every minute,
# the LLM stub as its provider (priced, so cost metrics move).
cat > "$work/stockpilot.toml" <<'TOML'
[default.scheduler]
enabled = true
tick_secs = 1

[[default.scheduler.jobs]]
name = "e2e-every-minute"
cron = "* * * * *"
kind = "daily_incremental"
symbols = ["AAPL"]
TOML
(
  cd "$work"
  exec env -u DATABASE_URL -u REDIS_URL -u DATABASE_URL_FILE -u REDIS_URL_FILE \
    STOCKPILOT_CONFIG="$work/stockpilot.toml" STOCKPILOT_SERVER__HOST=127.0.0.1 \
    STOCKPILOT_SERVER__PORT="$api_port" STOCKPILOT_DATA__DIR="$work/data" \
    STOCKPILOT_DATA__DEMO_DIR="$root/data/demo" STOCKPILOT_SYNC__POLL_INTERVAL_MS=200 \
    STOCKPILOT_RATE_LIMIT__CHAT_PER_MINUTE=2 \
    LLM_BASE_URL="http://127.0.0.1:${stub_port}/v1" LLM_MODEL=stub \
    TUSHARE_TOKEN=e2e-stub-token STOCKPILOT_PROVIDERS__TUSHARE__BASE_URL="http://127.0.0.1:${stub_port}/tushare" \
    STOCKPILOT_LLM__PRICE_INPUT_PER_1K=0.5 STOCKPILOT_LLM__PRICE_OUTPUT_PER_1K=1.5 \
    LOG_FORMAT=json LOG_LEVEL=info "$bin" serve > "$work/stockpilot.log" 2>&1
) &
sp_pid=$!
if ! wait_http "$api/health" 120; then
  echo "e2e: stockpilot did not answer /health within 120 s; its log:" >&2; tail -n 40 "$work/stockpilot.log" >&2; exit 1
fi
echo "e2e: stockpilot $("$bin" --version | awk '{print $2}') on ${api} (SQLite, demo data)"
# The admin key the first start wrote (mode 0600) authenticates every API call below.
key=$(cat "$work/data/admin-api-key")
acurl() { curl -H "Authorization: Bearer $key" "$@"; }

# Prometheus: scrape every second, the repository's alert rules, evaluated every second.
cat > "$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - ${root}/deploy/prometheus/alerts.yml
scrape_configs:
  - job_name: stockpilot
    static_configs:
      - targets: ["127.0.0.1:${api_port}"]
YAML
promtool check config "$work/prometheus.yml" >/dev/null
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:${prom_port}" --log.level=warn > "$work/prometheus.log" 2>&1 &
prom_pid=$!
wait_http "$prom/-/ready" 60 || { echo "e2e: Prometheus did not start; its log:" >&2; cat "$work/prometheus.log" >&2; exit 1; }
echo "e2e: $(prometheus --version 2>&1 | head -n 1) on ${prom}"

# Traffic: a bounded number of requests, all to this machine.
get() { acurl -s -o /dev/null -w '%{http_code}' --max-time 10 "$api$1"; }
post() { acurl -s -o "$work/post.json" -w '%{http_code}' --max-time 10 -H 'content-type: application/json' -d "$2" "$api$1"; }
declare -A seen=()
for round in 1 2 3 4 5; do
  for path in /health /ready /api/v1/health /api/v1/instruments /api/v1/instruments/AAPL \
      '/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31' \
      '/api/v1/instruments/MSFT/indicators?start=2012-06-01&end=2012-12-31&set=sma:20,rsi:14' \
      '/api/v1/calendar/SSE?start=2024-01-01&end=2024-01-31' \
      /api/v1/instruments/ZZZZ /no/such/route \
      '/api/v1/instruments/AAPL/bars?start=2013-01-01&end=2012-01-01' /api/v1/sync/jobs; do
    code=$(get "$path"); seen[$code]=$(( ${seen[$code]:-0} + 1 ))
  done
  [ "$round" = 5 ] || sleep 1
done
echo "e2e: GET responses by status: $(for c in "${!seen[@]}"; do printf '%s×%s ' "$c" "${seen[$c]}"; done)"

job_status() { acurl -s --max-time 10 "$api/api/v1/sync/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status", "?"))'; }
run_job() { # BODY EXPECTED_FINAL_STATUS
  local code id status="" i
  code=$(post /api/v1/sync/jobs "$1")
  [ "$code" = 202 ] || { echo "e2e: POST /api/v1/sync/jobs $1 answered $code: $(cat "$work/post.json")" >&2; return 1; }
  id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/post.json")
  for ((i = 0; i < 120; i++)); do
    status=$(job_status "$id")
    case $status in succeeded|failed|cancelled) break ;; esac
    sleep 0.5
  done
  echo "e2e: sync job $1 → ${status}"
  [ "$status" = "$2" ] || { echo "e2e: expected ${2}" >&2; return 1; }
}
run_job '{"kind":"daily_history","symbols":["AAPL","MSFT"],"start":"2013-01-01"}' succeeded
# Chat over its limit of 2 a minute: the third answers 429 (a rate-limited series).
chat_codes=""
for _ in 1 2 3; do chat_codes="$chat_codes $(post /api/v1/llm/chat '{"messages":[{"role":"user","content":"hi"}]}')"; done
echo "e2e: chat ×3 →${chat_codes}"
[ "${chat_codes##* }" = 429 ] || { echo "e2e: expected the third chat to be rate limited" >&2; exit 1; }
# Through the Tushare-shaped stub (its first answer is a 500 the adapter retries): upstream series.
run_job '{"kind":"calendar","market":"CN","provider":"tushare","start":"2024-01-01","end":"2024-01-31"}' succeeded
# The stub knows only trade_cal and answers stock_basic with a Tushare token error: this job
# fails by design (a failed-job series, and an `auth` upstream outcome).
run_job '{"kind":"instruments","market":"CN","provider":"tushare"}' failed

# A research run with every default analyst: the quantitative ones and the LLM personas (through
# the stub), and a few seconds of its event stream.
research=0
code=$(post /api/v1/research/runs '{"symbols":["AAPL","MSFT"],"as_of":"2012-12-31"}')
[ "$code" = 202 ] || { echo "e2e: POST /api/v1/research/runs answered ${code}: $(cat "$work/post.json")" >&2; exit 1; }
rid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$work/post.json")
acurl -s -N --max-time 3 -o /dev/null "$api/api/v1/research/runs/$rid/events" || true
rstatus=""
for ((i = 0; i < 120; i++)); do
  rstatus=$(acurl -s --max-time 10 "$api/api/v1/research/runs/$rid" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("status", "?"))')
  case $rstatus in queued|running) sleep 0.5 ;; *) break ;; esac
done
llm_results=$(acurl -s --max-time 10 "$api/api/v1/research/runs/$rid" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(sum(1 for x in r["results"] if x["status"]=="succeeded" and x["usage"]["llm_calls"]>0))')
echo "e2e: research run on AAPL, MSFT → ${rstatus} (${llm_results} LLM analyst results)"
if [ "$rstatus" != succeeded ] || [ "$llm_results" -le 0 ]; then
  echo "e2e: expected a succeeded run with LLM analyst results" >&2
  exit 1
fi
research=1

# The every-minute schedule: wait until it has fired (its metric appears), at most E2E_SCHEDULE_WAIT s.
wait_schedule=${E2E_SCHEDULE_WAIT:-65}
q() { curl -s --max-time 10 --data-urlencode "query=$1" "$prom/api/v1/query" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))'; }
for ((i = 0; i < wait_schedule; i++)); do
  [ "$(q 'stockpilot_sync_schedule_last_run_timestamp_seconds')" = 0 ] || break
  sleep 1
done
scheduled=$(acurl -s --max-time 10 "$api/api/v1/sync/jobs?page_size=100" | python3 -c '
import json, sys
print(sum(1 for j in json.load(sys.stdin)["items"] if j.get("schedule_name") == "e2e-every-minute"))')
if [ "$(q 'stockpilot_sync_schedule_last_run_timestamp_seconds')" = 0 ]; then
  echo "e2e: the schedule metric did not appear within ${wait_schedule} s (the scheduler created ${scheduled} job(s))"
else
  echo "e2e: the every-minute schedule fired (${scheduled} job(s))"
fi
# A last round so rates over the final minute have data, then two more scrapes.
for path in /health /api/v1/instruments '/api/v1/instruments/AAPL/bars?start=2012-01-01&end=2012-12-31'; do get "$path" >/dev/null; done
sleep 3
[ "$(q 'up{job="stockpilot"} == 1')" = 1 ] || { echo "e2e: Prometheus is not scraping stockpilot" >&2; exit 1; }
echo "e2e: Prometheus has scraped stockpilot for $(( $(date +%s) - started )) s; evaluating"
echo

rc=0
research_flag=()
[ "$research" = 0 ] || research_flag=(--research-ran)
"$OPS_VENV/bin/python" scripts/ops/deploy_checks.py evaluate "$prom" deploy/grafana/dashboards deploy/prometheus/alerts.yml \
  "${research_flag[@]}" || rc=$?
echo "e2e: $(( $(date +%s) - started )) s"
exit "$rc"
