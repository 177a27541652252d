#!/usr/bin/env bash
# Research pipeline benchmark: runs the server crate's `research` bench (crates/server/benches/
# research.rs) — a 20-symbol run with 7 analysts (4 quantitative, 3 LLM personas) and an
# LLM-written rationale per decision, against an OpenAI-compatible stub answering in a fixed
# RESEARCH_LLM_DELAY_MS (default 200), through the real gateway, store (SQLite) and runner;
# wall time beside the ideal bound, and the quantitative analysts' CPU time per symbol.
#
#   scripts/bench/research.sh [OUT_DIR]
#
# Environment: RESEARCH_LLM_DELAY_MS, RESEARCH_CONCURRENCY (default 8), RESEARCH_REPEATS
# (default 3), CARGO_TARGET_DIR. Writes OUT_DIR/research.md (the bench's table) and
# OUT_DIR/research.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
mkdir -p "$OUT_DIR"
export BENCH_OUT="$OUT_DIR/research.md"
rm -f "$BENCH_OUT"
cd "$ROOT"
start=$(date +%s)
cargo bench -p stockpilot-server --bench research 2>&1 | tee "$OUT_DIR/research.log" >&2
echo "research: $(( $(date +%s) - start )) s including the build" >&2
test -s "$BENCH_OUT" || { echo "the research bench wrote no table" >&2; exit 1; }
