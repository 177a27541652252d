#!/usr/bin/env bash
# Indicator benchmark: stockpilot's kernels (criterion, crates/domain/benches/indicators.rs) and
# TA-Lib's C library (through its PyPI wheel, scripts/bench/talib_bench.py) on the same 1,000,000
# real demo bars in the same run, every value cross-checked.
#
#   scripts/bench/indicators.sh [OUT_DIR]
#
# Each side is timed twice: with glibc's default malloc settings (a freed 8 MB output buffer
# may be handed back to the kernel and faulted in again by the next call) and with
# GLIBC_TUNABLES keeping freed memory in the process, the steady state of a long-running
# server. Both sides always run under the same settings.
#
# Environment: INDICATOR_BARS (default 1000000), CRITERION_ARGS (default
# "--warm-up-time 2 --measurement-time 5"), TALIB_REPEATS (default 30), CARGO_TARGET_DIR.
# Writes OUT_DIR/indicators.json. Reports; asserts nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CRITERION_ARGS="${CRITERION_ARGS:---warm-up-time 2 --measurement-time 5}"
export INDICATOR_BARS="${INDICATOR_BARS:-1000000}"
WARM_HEAP="glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432"
DUMP="$OUT_DIR/indicator-dump"
mkdir -p "$OUT_DIR" "$DUMP"
cd "$ROOT"

cargo bench -p stockpilot-domain --bench indicators --no-run >&2
echo "indicators: dumping the series and stockpilot's outputs to $DUMP" >&2
INDICATOR_DUMP_DIR="$DUMP" cargo bench -q -p stockpilot-domain --bench indicators >&2

collect_criterion() { # $1: output json
  python3 - "$TARGET_DIR/criterion/indicators" "$1" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
result = {}
for name in sorted(os.listdir(root)):
    if name == "report":
        continue
    for param in os.listdir(os.path.join(root, name)):
        d = os.path.join(root, name, param, "new")
        if not os.path.isdir(d):
            continue
        est = json.load(open(os.path.join(d, "estimates.json")))
        sample = json.load(open(os.path.join(d, "sample.json")))
        per_iter = [t / i for t, i in zip(sample["times"], sample["iters"])]
        result[name] = {
            "param": param,
            "median_ns": est["median"]["point_estimate"],
            "mean_ns": est["mean"]["point_estimate"],
            "min_ns": min(per_iter),
            "samples": len(per_iter),
        }
json.dump(result, open(out, "w"), indent=2)
PY
}

for mode in default warm; do
  if [[ $mode == warm ]]; then tunables="$WARM_HEAP"; else tunables=""; fi
  echo "indicators ($mode malloc): criterion" >&2
  rm -rf "$TARGET_DIR/criterion/indicators"
  # shellcheck disable=SC2086
  GLIBC_TUNABLES="$tunables" cargo bench -q -p stockpilot-domain --bench indicators -- \
    --noplot $CRITERION_ARGS 2>&1 | grep -E '^indicators|time:|thrpt:' >&2 || true
  collect_criterion "$OUT_DIR/criterion-$mode.json"
  echo "indicators ($mode malloc): TA-Lib" >&2
  GLIBC_TUNABLES="$tunables" python3 "$ROOT/scripts/bench/talib_bench.py" "$DUMP" \
    --out "$OUT_DIR/talib-$mode.json"
done

python3 - "$OUT_DIR" "$DUMP/meta.json" <<'PY'
import json, sys
out, meta = sys.argv[1], sys.argv[2]
load = lambda n: json.load(open(f"{out}/{n}.json"))
report = {"meta": json.load(open(meta))}
for mode in ("default", "warm"):
    report[mode] = {"stockpilot": load(f"criterion-{mode}"), "talib": load(f"talib-{mode}")}
json.dump(report, open(f"{out}/indicators.json", "w"), indent=2)
PY
rm -rf "$DUMP"
echo "wrote $OUT_DIR/indicators.json" >&2
