#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, user postgres / password postgres) and Redis
# (127.0.0.1:6379) answer, for `make test-all` and CI. Installs them with apt-get when they are
# missing and starts them when they are stopped. Needs root (or sudo) only for that.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "ensure-services: $what did not come up within 30 s" >&2
  return 1
}

pg_ready() { pg_isready -h 127.0.0.1 -p 5432 -q; }

if ! command -v pg_isready >/dev/null 2>&1 || ! pg_ready; then
  if ! ls -d /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "ensure-services: installing PostgreSQL"
    apt_install postgresql postgresql-client
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "ensure-services: starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for "PostgreSQL" pg_ready
fi

# The tests connect as postgres/postgres over TCP. A cluster with trust auth ignores the
# password; one with password auth needs it set (done once, through the local socket).
if ! PGPASSWORD=postgres PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  echo "ensure-services: setting the password of the postgres role for TCP logins"
  if command -v runuser >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'"
  else
    sudo -u postgres psql -qc "ALTER USER postgres PASSWORD 'postgres'"
  fi
  PGPASSWORD=postgres psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null
fi
echo "ensure-services: PostgreSQL ready on 127.0.0.1:5432"

redis_ready() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! command -v redis-cli >/dev/null 2>&1 || ! redis_ready; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "ensure-services: installing Redis"
    apt_install redis-server
  fi
  echo "ensure-services: starting Redis"
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/stockpilot-tests.log
  wait_for "Redis" redis_ready
fi
echo "ensure-services: Redis ready on 127.0.0.1:6379"
