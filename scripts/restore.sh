#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an empty database, then verify it.
#
#   scripts/restore.sh backups/stockpilot-stockpilot-20260101T020000Z.dump \
#       --database stockpilot_restored --create
#   DUMP=backups/….dump RESTORE_DATABASE=stockpilot_restored make restore
#
# Target database: --target-url URL, else DATABASE_URL (or DATABASE_URL_FILE) with its
# database name replaced by --database NAME, else DATABASE_URL itself.
#   --create   create the target database first (it must not exist yet); connects to the
#              `postgres` database of the same server, the role needs CREATEDB
# Without --create the target must exist and hold no tables, views or sequences: restoring
# over live data is refused (restore next to it, then point DATABASE_URL at the new database,
# as docs/operations.md describes).
#
# Verification: the dump's sha256 is compared with its .manifest (when present) before
# anything is written; after pg_restore (one transaction, stops at the first error) the row
# count of every table must equal the count recorded in the dump. Exit 0 only if all match.
set -euo pipefail

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

dump="" target_url="" database="" create=0
while [ $# -gt 0 ]; do
  case $1 in
    --target-url) target_url=$2; shift 2 ;;
    --database) database=$2; shift 2 ;;
    --create) create=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "restore: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [ -z "$dump" ] || { echo "restore: one dump file only" >&2; exit 2; }; dump=$1; shift ;;
  esac
done
[ -n "$dump" ] || { usage >&2; exit 2; }
[ -f "$dump" ] || { echo "restore: $dump: no such file" >&2; exit 2; }
for tool in pg_restore psql sha256sum; do
  command -v "$tool" >/dev/null || { echo "restore: $tool not found (apt-get install postgresql-client)" >&2; exit 2; }
done

with_database() { # URL NAME: URL with its database name replaced by NAME
  local base=${1%%\?*}
  local query=${1#"$base"}
  case $base in
    postgres://*/*|postgresql://*/*) ;;
    *) echo "restore: $1 has no database name to replace" >&2; return 2 ;;
  esac
  printf '%s/%s%s' "${base%/*}" "$2" "$query"
}

if [ -z "$target_url" ]; then
  if [ -n "${DATABASE_URL:-}" ]; then target_url=$DATABASE_URL
  elif [ -n "${DATABASE_URL_FILE:-}" ]; then target_url=$(tr -d '\r\n' < "$DATABASE_URL_FILE")
  else echo "restore: give --target-url or set DATABASE_URL" >&2; exit 2
  fi
  if [ -n "$database" ]; then target_url=$(with_database "$target_url" "$database"); fi
fi
case $target_url in
  postgres://*|postgresql://*) ;;
  *) echo "restore: the target is not a postgres:// URL" >&2; exit 2 ;;
esac
target_db=${target_url%%\?*}
target_db=${target_db##*/}
case $target_db in
  ''|*[!A-Za-z0-9_]*) echo "restore: database name '${target_db}' must be letters, digits and _" >&2; exit 2 ;;
esac

psql_q() { psql "$1" -X -v ON_ERROR_STOP=1 -Atq -c "$2"; }

# 1. The archive is the one backup.sh wrote.
manifest=${dump%.dump}.manifest
if [ -f "$manifest" ]; then
  want=$(awk '$1 == "sha256" { print $2 }' "$manifest")
  have=$(sha256sum "$dump" | cut -d' ' -f1)
  if [ "$want" != "$have" ]; then
    echo "restore: checksum mismatch: $dump is $have, its manifest says $want" >&2; exit 1
  fi
  echo "restore: checksum of $(basename "$dump") matches its manifest"
  expected=$(awk '$1 == "table" { print $2, $3 }' "$manifest")
else
  echo "restore: no manifest next to $(basename "$dump"); reading the row counts from the dump"
  expected=$(pg_restore --data-only --file=- "$dump" | awk '
    /^COPY / { table = $2; rows = 0; in_copy = 1; next }
    in_copy && $0 == "\\." { print table, rows; in_copy = 0; next }
    in_copy { rows++ }')
fi

# 2. An empty target.
if [ "$create" = 1 ]; then
  admin_url=$(with_database "$target_url" postgres)
  exists=$(psql_q "$admin_url" "SELECT 1 FROM pg_database WHERE datname = '${target_db}'")
  if [ -n "$exists" ]; then
    echo "restore: database ${target_db} already exists; drop it or restore without --create into an empty one" >&2; exit 1
  fi
  psql_q "$admin_url" "CREATE DATABASE \"${target_db}\""
  echo "restore: created database ${target_db}"
fi
objects=$(psql_q "$target_url" "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'")
if [ "$objects" != 0 ]; then
  echo "restore: database ${target_db} is not empty (${objects} tables, views or sequences); refusing to restore over it" >&2
  exit 1
fi

# 3. Restore, all or nothing.
started=$(date +%s)
echo "restore: restoring $(basename "$dump") into ${target_db}"
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$target_url" "$dump"

# 4. Every table holds as many rows as the dump did.
tables=0 rows=0 bad=0
while read -r table count; do
  [ -n "$table" ] || continue
  got=$(psql_q "$target_url" "SELECT count(*) FROM ${table}")
  if [ "$got" != "$count" ]; then
    echo "restore: ${table}: ${got} rows, the dump has ${count}" >&2
    bad=$((bad + 1))
  fi
  tables=$((tables + 1)); rows=$((rows + count))
done <<< "$expected"
if [ "$bad" != 0 ]; then
  echo "restore: FAILED verification: ${bad} of ${tables} tables differ" >&2; exit 1
fi
echo "restore: verified ${tables} tables, ${rows} rows in ${target_db} ($(( $(date +%s) - started )) s)"
