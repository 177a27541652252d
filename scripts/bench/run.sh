#!/usr/bin/env bash
# Runs every benchmark of the performance issue and regenerates docs/benchmarks.md from the
# figures of this run (`make bench`).
#
#   scripts/bench/run.sh            # full: 30 s per HTTP endpoint, 1M rows, 20 startups
#   BENCH_QUICK=1 scripts/bench/run.sh   # a few minutes; writes $BENCH_RESULTS/benchmarks.md
#                                        # instead of docs/benchmarks.md
#
# Sections: indicators (criterion + TA-Lib), startup, HTTP (wrk), ingestion (db crate bench),
# research pipeline (when scripts/bench/research.sh exists). A section that fails is reported
# as not measured; the others still run. Needs PostgreSQL and Redis on 127.0.0.1 (started by
# scripts/ensure-services.sh when it is there); installs wrk (apt) and the TA-Lib wheel (PyPI,
# into .venv-bench/) itself.
#
# Environment: BENCH_RESULTS (default target/bench-results), BENCH_DURATION, INGEST_ROWS,
# STARTUP_RUNS, CRITERION_ARGS, TALIB_REPEATS, STOCKPILOT_API_KEY, CARGO_TARGET_DIR,
# BENCH_BIN (a prebuilt release `stockpilot` to use instead of building one), BENCH_SECTIONS (default "indicators before_after startup http ingest research simulate backtest").
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export BENCH_RESULTS="${BENCH_RESULTS:-$ROOT/target/bench-results}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SECTIONS="${BENCH_SECTIONS:-indicators before_after startup http ingest research simulate backtest}"
mkdir -p "$BENCH_RESULTS"
cd "$ROOT"

if [[ -n "${BENCH_QUICK:-}" ]]; then
  export BENCH_DURATION="${BENCH_DURATION:-5}" INGEST_ROWS="${INGEST_ROWS:-100000}"
  export STARTUP_RUNS="${STARTUP_RUNS:-5}" TALIB_REPEATS="${TALIB_REPEATS:-10}"
  export CRITERION_ARGS="${CRITERION_ARGS:---warm-up-time 1 --measurement-time 2 --sample-size 20}"
  export QUICK_CALLS="${QUICK_CALLS:-10}"
  DOC="$BENCH_RESULTS/benchmarks.md"
  MODE=quick
else
  DOC="$ROOT/docs/benchmarks.md"
  MODE=full
fi

if [[ -x scripts/ensure-services.sh ]]; then
  scripts/ensure-services.sh >&2 || echo "warning: PostgreSQL/Redis may be unavailable" >&2
fi

# Where this run happened.
python3 - "$BENCH_RESULTS/environment.json" "$MODE" <<'PY'
import json, os, platform, re, subprocess, sys, datetime
def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout.strip()
    except Exception:
        return "?"
cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
mem = re.search(r"MemTotal:\s*(\d+)", open("/proc/meminfo").read())
env = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "mode": sys.argv[2],
    "cpu": cpu.group(1) if cpu else "?",
    "nproc": sh("nproc"),
    "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "?",
    "kernel": platform.release(),
    "load": " / ".join(open("/proc/loadavg").read().split()[:3]),
    "rustc": sh("rustc --version"),
    "cargo": sh("cargo --version"),
    "postgres": sh("psql postgres://postgres:postgres@127.0.0.1:5432/postgres -tAc 'SHOW server_version'") or "?",
    "redis": sh("redis-cli -h 127.0.0.1 INFO server | grep redis_version | cut -d: -f2"),
    "wrk": (sh("wrk -v 2>&1 | head -1") or "not installed yet"),
    "python": sh("python3 --version"),
    "talib": "TA-Lib wheel pinned in scripts/bench/talib_bench.py",
    "commit": sh("git rev-parse --short HEAD") + (" (with uncommitted changes)" if sh("git status --porcelain") else ""),
    "ingest_rows": os.environ.get("INGEST_ROWS", "1000000"),
}
json.dump(env, open(sys.argv[1], "w"), indent=2)
PY

status() { echo "== $1: $2" >&2; echo "$1 $2" >>"$BENCH_RESULTS/sections.txt"; }
touch "$BENCH_RESULTS/sections.txt"
want() { [[ " $SECTIONS " == *" $1 "* ]]; }

# One release build for the server benchmarks.
if [[ -n "${BENCH_BIN:-}" ]]; then
  echo "using the prebuilt server binary $BENCH_BIN" >&2
elif want startup || want http || want backtest; then
  if cargo build --release -p stockpilot-server --bin stockpilot >&2; then
    export BENCH_BIN="$TARGET_DIR/release/stockpilot"
  else
    status build failed
  fi
fi

# runs.txt: when each section was last measured, and on which commit (report.py prints it).
touch "$BENCH_RESULTS/runs.txt"
section() { # $1: name, $2...: command
  local name="$1" began commit; shift
  rm -f "$BENCH_RESULTS/$name.failed"
  echo "== $name" >&2
  began=$(date -u +%H:%M)
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' with uncommitted changes')"
  if "$@"; then status "$name" ok; else status "$name" failed; touch "$BENCH_RESULTS/$name.failed"; fi
  grep -v "^$name: " "$BENCH_RESULTS/runs.txt" > "$BENCH_RESULTS/runs.txt.new" || true
  echo "$name: $(date -u +%Y-%m-%d) ${began}–$(date -u +%H:%M) UTC, commit ${commit}" >> "$BENCH_RESULTS/runs.txt.new"
  mv "$BENCH_RESULTS/runs.txt.new" "$BENCH_RESULTS/runs.txt"
}

want indicators && { rm -f "$BENCH_RESULTS/indicators.json"; section indicators scripts/bench/indicators.sh "$BENCH_RESULTS"; }
want before_after && { rm -f "$BENCH_RESULTS/indicators-before-after.json"; section before_after scripts/bench/indicators_before.sh "$BENCH_RESULTS"; }
if want startup && [[ -n "${BENCH_BIN:-}" ]]; then rm -f "$BENCH_RESULTS/startup.json"; section startup scripts/bench/startup.sh "$BENCH_RESULTS"; fi
if want http && [[ -n "${BENCH_BIN:-}" ]]; then rm -f "$BENCH_RESULTS/http.json"; section http scripts/bench/http.sh "$BENCH_RESULTS"; fi
want ingest && { rm -f "$BENCH_RESULTS/ingest.md"; section ingest scripts/bench/ingest.sh "$BENCH_RESULTS"; }
if want research; then
  rm -f "$BENCH_RESULTS/research.json"
  if [[ -x scripts/bench/research.sh ]]; then
    section research scripts/bench/research.sh "$BENCH_RESULTS"
  else
    status research "not yet measured (no research benchmark yet)"
  fi
fi
want simulate && { rm -f "$BENCH_RESULTS/simulate.json"; section simulate scripts/bench/simulate.sh "$BENCH_RESULTS"; }
want backtest && { rm -f "$BENCH_RESULTS/backtest.json"; section backtest scripts/bench/backtest.sh "$BENCH_RESULTS"; }

# The TA-Lib version actually installed, for the environment table.
if [[ -x "$ROOT/.venv-bench/bin/python" ]]; then
  python3 - "$BENCH_RESULTS/environment.json" "$ROOT/.venv-bench/bin/python" <<'PY'
import json, subprocess, sys
p = sys.argv[1]
env = json.load(open(p))
out = subprocess.run([sys.argv[2], "-c", "import talib, numpy; v = talib.__ta_version__; "
                      "print(talib.__version__, (v.decode() if isinstance(v, bytes) else v).split()[0], numpy.__version__)"],
                     capture_output=True, text=True).stdout.split()
if len(out) == 3:
    env["talib"] = f"TA-Lib {out[0]} (PyPI wheel), C library {out[1]}, numpy {out[2]}"
env["wrk"] = subprocess.run("wrk -v 2>&1 | head -1", shell=True, capture_output=True, text=True).stdout.strip() or env["wrk"]
json.dump(env, open(p, "w"), indent=2)
PY
fi

python3 scripts/bench/report.py "$BENCH_RESULTS" "$DOC"
cat "$BENCH_RESULTS/sections.txt" >&2
