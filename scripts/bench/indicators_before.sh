#!/usr/bin/env bash
# The indicator kernels as they were at BEFORE_REV (default: the commit before the kernels were
# optimised), timed by today's bench on the same series, to put before and after side by side.
#
#   scripts/bench/indicators_before.sh [OUT_DIR]
#
# Builds crates/domain of BEFORE_REV (from `git archive`, in a scratch directory) with the
# current benches/indicators.rs and runs it in INDICATOR_QUICK mode (fastest and median of
# QUICK_CALLS calls) under both malloc settings, then the current kernels the same way.
# Writes OUT_DIR/indicators-before-after.json. CARGO_TARGET_DIR is honoured (a subdirectory).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
BEFORE_REV="${BEFORE_REV:-e5a88ff}"
CALLS="${QUICK_CALLS:-40}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
WARM_HEAP="glibc.malloc.trim_threshold=4294967295:glibc.malloc.mmap_threshold=33554432"
SCRATCH="$(mktemp -d /tmp/stockpilot-before.XXXXXX)"
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$OUT_DIR"

git -C "$ROOT" archive "$BEFORE_REV" crates/domain data/demo | tar -x -C "$SCRATCH"
# A one-member workspace: the old kernels, today's manifests, bench and bench dependencies.
cp "$ROOT/Cargo.toml" "$SCRATCH/Cargo.toml"
python3 - "$SCRATCH/Cargo.toml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r"members = \[[^\]]*\]", 'members = ["crates/domain"]', s, count=1)
s = re.sub(r"default-members = \[[^\]]*\]\n", "", s, count=1)
open(p, "w").write(s)
PY
cp "$ROOT/crates/domain/Cargo.toml" "$SCRATCH/crates/domain/Cargo.toml"
mkdir -p "$SCRATCH/crates/domain/benches"
cp "$ROOT/crates/domain/benches/indicators.rs" "$SCRATCH/crates/domain/benches/"
cp "$ROOT/Cargo.lock" "$SCRATCH/Cargo.lock"

quick() { # $1: workspace root, $2: label
  local bin
  (cd "$1" && CARGO_TARGET_DIR="$TARGET_DIR/before-after-$2" cargo bench -q -p stockpilot-domain \
    --bench indicators --no-run >&2)
  bin="$(ls -t "$TARGET_DIR/before-after-$2"/release/deps/indicators-* | grep -v '\.d$' | head -1)"
  for mode in default warm; do
    if [[ $mode == warm ]]; then t="$WARM_HEAP"; else t=""; fi
    echo "== $2 $mode" >&2
    GLIBC_TUNABLES="$t" INDICATOR_QUICK="$CALLS" "$bin" | tee "$OUT_DIR/quick-$2-$mode.txt" >&2
  done
}
quick "$SCRATCH" before
quick "$ROOT" after

python3 - "$OUT_DIR" "$BEFORE_REV" "$CALLS" <<'PY'
import json, re, sys
out, rev, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
report = {"before_rev": rev, "calls": calls}
for label in ("before", "after"):
    for mode in ("default", "warm"):
        rows = {}
        for line in open(f"{out}/quick-{label}-{mode}.txt"):
            m = re.match(r"(\w+)\s+min\s+([\d.]+) ms\s+median\s+([\d.]+) ms", line)
            if m:
                rows[m.group(1)] = {"min_ms": float(m.group(2)), "median_ms": float(m.group(3))}
        report[f"{label}_{mode}"] = rows
json.dump(report, open(f"{out}/indicators-before-after.json", "w"), indent=2)
PY
echo "wrote $OUT_DIR/indicators-before-after.json" >&2
