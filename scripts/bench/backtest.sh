#!/usr/bin/env bash
# The research backtest (`make bench`, section `backtest`): `stockpilot backtest` of the five demo
# symbols over their years (2000–2013) with the technical and risk analysts, weekly and daily, on
# the embedded SQLite database. Each schedule runs 5 times as its own process; the best wall time
# (process start to exit, database open included) and that run's own split (metrics.json:
# load, point-in-time cut, analysts, simulator) are kept. Writes RESULTS/backtest.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RESULTS="${1:-$ROOT/target/bench-results}"
cd "$ROOT"
if [[ -z "${BENCH_BIN:-}" ]]; then
  cargo build -q --release -p stockpilot-server --bin stockpilot
  BENCH_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/stockpilot"
fi
WORK="$RESULTS/backtest"
rm -rf "$WORK" && mkdir -p "$WORK"
(cd "$WORK" && env -u DATABASE_URL -u REDIS_URL "$BENCH_BIN" data import-demo >/dev/null 2>&1)
for schedule in weekly daily; do
  for run in 1 2 3 4 5; do
    out="$WORK/$schedule-$run"
    start=$(date +%s.%N)
    (cd "$WORK" && env -u DATABASE_URL -u REDIS_URL /usr/bin/time -f '%M' -o "$out.rss" \
      "$BENCH_BIN" backtest AAPL MSFT IBM GOOG FB --from 2000-01-01 --to 2013-12-31 \
      --analysts technical,risk --rebalance "$schedule" --out "$out" --quiet >/dev/null)
    end=$(date +%s.%N)
    echo "$end - $start" | bc > "$out.wall"
  done
done
python3 - "$WORK" "$RESULTS/backtest.json" <<'PY'
import json, sys
from pathlib import Path
work, out = Path(sys.argv[1]), sys.argv[2]
result = {}
for schedule in ("weekly", "daily"):
    runs = []
    for run in range(1, 6):
        m = json.loads((work / f"{schedule}-{run}" / "metrics.json").read_text())
        runs.append({
            "wall_seconds": float((work / f"{schedule}-{run}.wall").read_text()),
            "peak_rss_mb": int((work / f"{schedule}-{run}.rss").read_text().split()[-1]) / 1024,
            "seconds": m["backtest"]["seconds"],
            "symbol_days": m["backtest"]["symbol_days"],
            "rebalance_dates": m["backtest"]["rebalance_dates"],
            "orders": m["orders"],
            "total_return": m["total_return"],
        })
    best = min(runs, key=lambda r: r["wall_seconds"])
    best["walls"] = sorted(r["wall_seconds"] for r in runs)
    result[schedule] = best
    print(f"backtest {schedule}: {best['symbol_days']} symbol-dates, best wall {best['wall_seconds']:.3f} s, "
          f"engine {best['seconds']['total']:.3f} s", file=sys.stderr)
json.dump(result, open(out, "w"), indent=2)
PY
