#!/usr/bin/env bash
# The backtest simulator beside vectorbt and backtrader on the same orders (`make bench`,
# section `simulate`): 10 symbols × 10,000 days and 100 × 2,500 of synthetic bars, equal weights
# rebalanced every fifth day. stockpilot runs the whole simulation (sizing included); the peers
# replay the fills it produced. Peak memory is each process's maximum RSS (/usr/bin/time), data
# loading included. Writes RESULTS/simulate.json.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RESULTS="${1:-$ROOT/target/bench-results}"
cd "$ROOT"
cargo build -q --release -p stockpilot-domain --example simulate_bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/simulate_bench"
PYTHON="$(scripts/oracles/venv.sh)"
shapes=()
for shape in "10 10000" "100 2500"; do
  read -r symbols days <<<"$shape"
  dir="$RESULTS/simulate-$symbols-$days"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "simulate: $symbols symbols × $days days" >&2
  # Export the data and fills once, then measure each engine in its own process.
  "$BIN" "$symbols" "$days" "$dir" 1 >/dev/null
  /usr/bin/time -f '%M' -o "$dir/stockpilot.rss" "$BIN" "$symbols" "$days" "" 10 >"$dir/stockpilot.json"
  for engine in vectorbt backtrader; do
    /usr/bin/time -f '%M' -o "$dir/$engine.rss" "$PYTHON" scripts/bench/simulate_peers.py "$dir" "$engine" >"$dir/$engine.json"
  done
  shapes+=("$dir")
done
python3 - "$RESULTS/simulate.json" "${shapes[@]}" <<'PY'
import json, sys
out = []
for d in sys.argv[2:]:
    shape = {}
    for engine in ("stockpilot", "vectorbt", "backtrader"):
        r = json.load(open(f"{d}/{engine}.json"))
        r["peak_rss_mb"] = int(open(f"{d}/{engine}.rss").read().split()[-1]) / 1024
        r["bars_per_second"] = r["bars"] / r["seconds"]
        shape[engine] = r
    out.append(shape)
json.dump(out, open(sys.argv[1], "w"), indent=2)
for s in out:
    a, v, b = s["stockpilot"], s["vectorbt"], s["backtrader"]
    print(f"{a['symbols']}×{a['days']}: stockpilot {a['seconds']*1e3:.1f} ms, vectorbt {v['seconds']*1e3:.1f} ms "
          f"(+{v['compile_seconds']:.1f} s compile), backtrader {b['seconds']:.2f} s", file=sys.stderr)
PY
