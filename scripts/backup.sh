#!/usr/bin/env bash
# Back up the stockpilot PostgreSQL database (and optionally a Redis snapshot).
#
#   DATABASE_URL=postgres://user:pw@host:5432/stockpilot scripts/backup.sh
#   scripts/backup.sh --dir /var/backups/stockpilot --retention-days 14 --redis
#   make backup                                        # the same, with the variables below
#
# Writes into BACKUP_DIR (default ./backups):
#   stockpilot-<db>-<UTC timestamp>.dump        pg_dump custom format (compressed, restorable
#                                               table by table with pg_restore)
#   stockpilot-<db>-<UTC timestamp>.manifest    sha256 of the dump and the row count of every
#                                               table in it, read back from the dump itself
#   stockpilot-redis-<UTC timestamp>.rdb        with --redis / BACKUP_REDIS=1: an RDB snapshot
#                                               fetched with `redis-cli --rdb` from REDIS_URL
# then deletes files of those three kinds older than BACKUP_RETENTION_DAYS (default 14) days.
# The newest dump and its manifest are never deleted, however old.
#
# Environment: DATABASE_URL (or DATABASE_URL_FILE; a postgres:// URL), BACKUP_DIR,
# BACKUP_RETENTION_DAYS, BACKUP_REDIS, REDIS_URL (or REDIS_URL_FILE).
# Needs pg_dump and pg_restore of the server's major version or newer (postgresql-client).
# Restore with scripts/restore.sh.
set -euo pipefail

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }

dir=${BACKUP_DIR:-./backups}
retention=${BACKUP_RETENTION_DAYS:-14}
with_redis=${BACKUP_REDIS:-0}
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --retention-days) retention=$2; shift 2 ;;
    --redis) with_redis=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "backup: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

secret() { # NAME: the value of $NAME, else the content of the file $NAME_FILE
  local name=$1 file_var="${1}_FILE"
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"
  elif [ -n "${!file_var:-}" ]; then tr -d '\r\n' < "${!file_var}"
  fi
}

db_url=$(secret DATABASE_URL)
case $db_url in
  postgres://*|postgresql://*) ;;
  "") echo "backup: DATABASE_URL (or DATABASE_URL_FILE) is not set" >&2; exit 2 ;;
  *) echo "backup: DATABASE_URL is not a postgres:// URL (SQLite: copy the .db file while the server is stopped)" >&2; exit 2 ;;
esac
case $retention in ''|*[!0-9]*) echo "backup: --retention-days must be a whole number" >&2; exit 2 ;; esac
for tool in pg_dump pg_restore sha256sum; do
  command -v "$tool" >/dev/null || { echo "backup: $tool not found (apt-get install postgresql-client)" >&2; exit 2; }
done

# The database name, for the file name: the URL path without query string.
db_name=${db_url%%\?*}
db_name=${db_name##*/}
db_name=${db_name:-postgres}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dir"
base="$dir/stockpilot-${db_name}-${stamp}"
dump="$base.dump"
manifest="$base.manifest"

started=$(date +%s)
echo "backup: dumping database ${db_name} to ${dump}"
# Written under a temporary name first, so a failed run never leaves a plausible-looking dump.
pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$dump.partial" "$db_url"
mv "$dump.partial" "$dump"

# Row counts per table, read back from the dump: the same snapshot pg_dump saw, and proof that
# the archive can be read. COPY data in the text format is one line per row.
{
  echo "# stockpilot backup manifest"
  echo "database ${db_name}"
  echo "created ${stamp}"
  echo "sha256 $(sha256sum "$dump" | cut -d' ' -f1)"
  echo "bytes $(wc -c < "$dump" | tr -d ' ')"
  pg_restore --data-only --file=- "$dump" | awk '
    /^COPY / { table = $2; rows = 0; in_copy = 1; next }
    in_copy && $0 == "\\." { print "table " table " " rows; in_copy = 0; next }
    in_copy { rows++ }'
} > "$manifest.partial"
mv "$manifest.partial" "$manifest"
tables=$(grep -c '^table ' "$manifest" || true)
rows=$(awk '$1 == "table" { n += $3 } END { print n + 0 }' "$manifest")
echo "backup: ${tables} tables, ${rows} rows, $(wc -c < "$dump" | tr -d ' ') bytes in $(( $(date +%s) - started )) s"

if [ "$with_redis" = 1 ]; then
  redis_url=$(secret REDIS_URL)
  if [ -z "$redis_url" ]; then
    echo "backup: --redis given but REDIS_URL (or REDIS_URL_FILE) is not set" >&2; exit 2
  fi
  command -v redis-cli >/dev/null || { echo "backup: redis-cli not found (apt-get install redis-tools)" >&2; exit 2; }
  rdb="$dir/stockpilot-redis-${stamp}.rdb"
  echo "backup: fetching a Redis snapshot to ${rdb}"
  if ! out=$(redis-cli -u "$redis_url" --no-auth-warning --rdb "$rdb.partial" 2>&1); then
    echo "$out" >&2; rm -f "$rdb.partial"; exit 1
  fi
  mv "$rdb.partial" "$rdb"
  echo "backup: Redis snapshot $(wc -c < "$rdb" | tr -d ' ') bytes"
fi

# Retention: only files this script names, only older than the limit, never the newest dump.
newest=$(find "$dir" -maxdepth 1 -type f -name 'stockpilot-*.dump' -printf '%T@ %p\n' | sort -n | tail -n 1 | cut -d' ' -f2-)
deleted=0
while IFS= read -r -d '' old; do
  if [ "$old" = "$newest" ] || [ "$old" = "${newest%.dump}.manifest" ]; then continue; fi
  rm -f -- "$old"
  deleted=$((deleted + 1))
done < <(find "$dir" -maxdepth 1 -type f \( -name 'stockpilot-*.dump' -o -name 'stockpilot-*.manifest' -o -name 'stockpilot-redis-*.rdb' \) -mtime "+$retention" -print0)
echo "backup: retention ${retention} days: ${deleted} old file(s) deleted"
echo "backup: done: ${dump}"
