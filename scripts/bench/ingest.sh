#!/usr/bin/env bash
# Ingestion benchmark: runs the db crate's `ingest` bench (crates/infrastructure/db/benches/
# ingest.rs) — bulk upsert of INGEST_ROWS real demo bars through the store adapter into SQLite
# and PostgreSQL, again with every row a conflict, and raw COPY into an unindexed table.
#
#   scripts/bench/ingest.sh [OUT_DIR]
#
# Environment: INGEST_ROWS (default 1000000), TEST_DATABASE_URL (PostgreSQL server the bench
# makes its scratch database in; default postgres://postgres:postgres@127.0.0.1:5432/postgres),
# CARGO_TARGET_DIR. Writes OUT_DIR/ingest.md (the bench's table) and OUT_DIR/ingest.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:-${BENCH_RESULTS:-$ROOT/target/bench-results}}"
mkdir -p "$OUT_DIR"
export INGEST_ROWS="${INGEST_ROWS:-1000000}"
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export BENCH_OUT="$OUT_DIR/ingest.md"
rm -f "$BENCH_OUT"

echo "ingest: $INGEST_ROWS rows, SQLite and $TEST_DATABASE_URL" >&2
cd "$ROOT"
start=$(date +%s)
cargo bench -p stockpilot-db --bench ingest 2>&1 | tee "$OUT_DIR/ingest.log" >&2
echo "ingest: $(( $(date +%s) - start )) s including the build" >&2
test -s "$BENCH_OUT" || { echo "the ingest bench wrote no table" >&2; exit 1; }
