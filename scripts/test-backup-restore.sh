#!/usr/bin/env bash
# Backup → drop → restore round trip against a real PostgreSQL (make test-backup).
#
# 1. creates a scratch database, fills it with the stockpilot binary (`migrate upgrade head`,
#    then `data import-demo`: the bundled real dataset);
# 2. records the row count and an md5 of the sorted rows of every table;
# 3. runs scripts/backup.sh (with a Redis snapshot when Redis answers), drops the database,
#    runs scripts/restore.sh --create into a database of the same name;
# 4. compares counts and checksums table by table, prints them, and cleans up.
#
# Environment: TEST_DATABASE_URL (a role that may create databases; default
# postgres://postgres:postgres@127.0.0.1:5432/postgres), TEST_REDIS_URL (default
# redis://127.0.0.1:6379; skipped when it does not answer), OPS_STOCKPILOT_BIN (the binary;
# not STOCKPILOT_*, which the binary itself would read as a setting; default: build
# target/debug/stockpilot with cargo when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

admin_url=${TEST_DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}
redis_url=${TEST_REDIS_URL:-redis://127.0.0.1:6379}
db=stockpilot_backup_test_$$
work=$(mktemp -d)
started=$(date +%s)

with_database() { local base=${1%%\?*}; printf '%s/%s%s' "${base%/*}" "$2" "${1#"$base"}"; }
db_url=$(with_database "$admin_url" "$db")
psql_admin() { psql "$admin_url" -X -v ON_ERROR_STOP=1 -Atq -c "$1"; }

cleanup() {
  psql "$admin_url" -X -Atq -c "DROP DATABASE IF EXISTS \"${db}\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bin=${OPS_STOCKPILOT_BIN:-}
if [ -z "$bin" ]; then
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/stockpilot"
  if [ ! -x "$bin" ]; then
    echo "test-backup: building the stockpilot binary"
    cargo build -q -p stockpilot-server --bin stockpilot
  fi
fi
[ -x "$bin" ] || { echo "test-backup: $bin is not an executable" >&2; exit 1; }

# Every table of the database: "schema.table<TAB>rows<TAB>md5 of its rows sorted as text".
table_figures() {
  local url=$1 t
  psql "$url" -X -v ON_ERROR_STOP=1 -Atq -c "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1" |
  while read -r t; do
    psql "$url" -X -v ON_ERROR_STOP=1 -Atq -F $'\t' -c \
      "SELECT '${t}', count(*), coalesce(md5(string_agg(r::text, E'\n' ORDER BY r::text)), md5('')) FROM ${t} r"
  done
}

echo "test-backup: scratch database ${db}"
psql_admin "CREATE DATABASE \"${db}\""
(
  # Run outside the repository so a developer's ./.env or ./stockpilot.toml is not read.
  cd "$work"
  export DATABASE_URL=$db_url LOG_LEVEL=warn LOG_FORMAT=json
  "$bin" migrate upgrade head >/dev/null
  "$bin" data import-demo --dir "$root/data/demo" >/dev/null
)
table_figures "$db_url" | LC_ALL=C sort > "$work/before.tsv"
total_before=$(awk -F'\t' '{ n += $2 } END { print n + 0 }' "$work/before.tsv")
echo "test-backup: filled: $(wc -l < "$work/before.tsv") tables, ${total_before} rows"
[ "$total_before" -gt 0 ] || { echo "test-backup: the scratch database is empty" >&2; exit 1; }

backup_args=(--dir "$work/backups" --retention-days 14)
if [ "$(redis-cli -u "$redis_url" ping 2>/dev/null)" = PONG ]; then
  backup_args+=(--redis)
  export REDIS_URL=$redis_url
else
  echo "test-backup: Redis at ${redis_url} does not answer; no Redis snapshot"
fi
t0=$(date +%s)
DATABASE_URL=$db_url scripts/backup.sh "${backup_args[@]}"
backup_secs=$(( $(date +%s) - t0 ))
dump=$(find "$work/backups" -name 'stockpilot-*.dump' | head -n 1)
if [[ " ${backup_args[*]} " == *" --redis "* ]]; then
  rdb=$(find "$work/backups" -name 'stockpilot-redis-*.rdb' | head -n 1)
  [ "$(head -c 5 "$rdb")" = REDIS ] || { echo "test-backup: $rdb is not an RDB file" >&2; exit 1; }
  echo "test-backup: Redis snapshot $(basename "$rdb") is an RDB file"
fi

# Retention: a dump older than the limit goes, the fresh one stays.
old="$work/backups/stockpilot-${db}-20000101T000000Z.dump"
cp "$dump" "$old"; touch -d '30 days ago' "$old"
DATABASE_URL=$db_url scripts/backup.sh --dir "$work/backups" --retention-days 14 >/dev/null
[ ! -e "$old" ] || { echo "test-backup: retention kept a 30-day-old dump" >&2; exit 1; }
[ -e "$dump" ] || { echo "test-backup: retention deleted a fresh dump" >&2; exit 1; }
echo "test-backup: retention deleted the 30-day-old dump and kept the fresh ones"

psql_admin "DROP DATABASE \"${db}\" WITH (FORCE)"
echo "test-backup: dropped ${db}"

t0=$(date +%s)
DATABASE_URL=$admin_url scripts/restore.sh "$dump" --database "$db" --create
restore_secs=$(( $(date +%s) - t0 ))

# Restoring over a database that holds data is refused.
if DATABASE_URL=$admin_url scripts/restore.sh "$dump" --database "$db" >/dev/null 2>&1; then
  echo "test-backup: restore.sh restored over a non-empty database" >&2; exit 1
fi
echo "test-backup: restore.sh refuses a non-empty target"

table_figures "$db_url" | LC_ALL=C sort > "$work/after.tsv"
printf '\n%-42s %10s %10s  %-32s %s\n' table "rows before" "rows after" "md5 before" "md5 after"
LC_ALL=C join -t $'\t' -a 1 -a 2 -e MISSING -o 0,1.2,2.2,1.3,2.3 "$work/before.tsv" "$work/after.tsv" |
  awk -F'\t' '{ printf "%-42s %10s %10s  %-32s %s\n", $1, $2, $3, $4, ($4 == $5 ? "same" : $5) }'
echo
if ! diff -u "$work/before.tsv" "$work/after.tsv"; then
  echo "test-backup: FAILED: the restored database differs" >&2; exit 1
fi
echo "test-backup: $(wc -l < "$work/after.tsv") tables, ${total_before} rows identical after backup → drop → restore" \
     "(backup ${backup_secs} s, restore ${restore_secs} s, total $(( $(date +%s) - started )) s)"
echo "1 passed, 0 failed"
