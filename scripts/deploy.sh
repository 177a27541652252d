#!/usr/bin/env bash
# Deploy stockpilot: build the image, run the migrations, roll out, wait until every replica
# is ready, and roll back when it does not get there.
#
#   scripts/deploy.sh compose [options]   Docker Compose (deploy/compose, with the prod overlay)
#   scripts/deploy.sh k8s [options]       Kubernetes (deploy/k8s/overlays/production)
#   make deploy TARGET=compose|k8s [IMAGE=…]
#
# Options:
#   --image IMAGE   image to build and deploy (default: stockpilot:<version>-<git short sha>;
#                   for k8s a registry path the cluster can pull, e.g. ghcr.io/acme/stockpilot:1.2.0)
#   --no-build      deploy an image that already exists (k8s: already pushed)
#   --dev           compose: the base file only (no prod overlay: .env passwords, 1 replica)
#   --timeout SECS  how long migrations and the rollout may take (default 600)
#   --dry-run       print every step and render/validate the configuration; change nothing
#   --rendered FILE k8s: keep the rendered manifests in FILE (default: a temporary file)
#
# Environment: IMAGE, DOCKER (default docker), COMPOSE (default "docker compose"), KUBECTL
# (default kubectl), K8S_NAMESPACE (default stockpilot), K8S_OVERLAY.
# Migrations run before the new version serves traffic and are not rolled back with it: keep
# each release's migrations compatible with the previous release (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

target=${TARGET:-}
image=${IMAGE:-}
build=1 dev=0 dry_run=0 timeout=600 rendered=""
while [ $# -gt 0 ]; do
  case $1 in
    compose|k8s) target=$1; shift ;;
    --image) image=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --dev) dev=1; shift ;;
    --timeout) timeout=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    --rendered) rendered=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "deploy: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $target in
  compose|k8s) ;;
  *) echo "deploy: say where: compose or k8s (TARGET=compose|k8s)" >&2; usage >&2; exit 2 ;;
esac

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
image=${image:-stockpilot:${version}-${revision}}
read -r -a docker <<< "${DOCKER:-docker}"
read -r -a compose <<< "${COMPOSE:-docker compose}"
read -r -a kubectl <<< "${KUBECTL:-kubectl}"
namespace=${K8S_NAMESPACE:-stockpilot}
overlay=${K8S_OVERLAY:-$root/deploy/k8s/overlays/production}

log() { echo "deploy: $*"; }
finished() { if [ "$dry_run" = 1 ]; then log "dry run finished"; else log "done: $*"; fi; }
# Commands that change something: printed, and run unless --dry-run.
run() {
  echo "+ $*"
  if [ "$dry_run" = 0 ]; then "$@"; fi
}

build_image() {
  [ "$build" = 1 ] || { log "using the existing image ${image}"; return 0; }
  run "${docker[@]}" build -f deploy/docker/Dockerfile -t "$image" \
    --build-arg VERSION="$version" --build-arg VCS_REF="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    --build-arg BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)" .
}

# ---------------------------------------------------------------------------- compose
deploy_compose() {
  local dir=$root/deploy/compose
  local files=(-f "$dir/docker-compose.yml")
  [ "$dev" = 1 ] || files+=(-f "$dir/docker-compose.prod.yml")
  local dc=("${compose[@]}" --project-directory "$dir" "${files[@]}")
  export STOCKPILOT_IMAGE=$image

  if [ ! -f "$dir/.env" ]; then
    if [ "$dry_run" = 1 ]; then
      log "no deploy/compose/.env: the dry run uses .env.example"
      dc+=(--env-file "$dir/.env.example")
    else
      echo "deploy: deploy/compose/.env is missing: copy .env.example and edit it" >&2; exit 2
    fi
  fi
  if [ "$dev" = 0 ]; then
    local missing=()
    for s in postgres_password redis_password database_url redis_url encryption_key grafana_admin_password; do
      [ -s "$dir/secrets/$s" ] || missing+=("$s")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
      if [ "$dry_run" = 1 ]; then log "secret files missing (a real run stops here): ${missing[*]}"
      else echo "deploy: secret files missing in deploy/compose/secrets: ${missing[*]} (docs/operations.md)" >&2; exit 2
      fi
    fi
  fi
  log "checking the Compose configuration"
  "${dc[@]}" config -q

  build_image

  local previous=""
  if [ "$dry_run" = 0 ]; then
    local cid
    cid=$("${dc[@]}" ps -q stockpilot 2>/dev/null | head -n 1 || true)
    if [ -n "$cid" ]; then previous=$("${docker[@]}" inspect -f '{{.Image}}' "$cid"); fi
  fi
  log "previous image: ${previous:-none (first deployment)}"

  log "starting the data tier and running the migrations with ${image}"
  run "${dc[@]}" up -d --no-build --wait postgres redis
  run "${dc[@]}" run --rm --no-deps migrate

  log "rolling out ${image}"
  if run "${dc[@]}" up -d --no-build --no-deps --wait --wait-timeout "$timeout" stockpilot && check_compose_ready "${dc[@]}"; then
    run "${dc[@]}" up -d --no-build --wait --wait-timeout "$timeout"
    finished "${image} is serving"
    return 0
  fi
  echo "deploy: the new version did not become ready" >&2
  if [ -n "$previous" ]; then
    log "rolling back to ${previous}"
    STOCKPILOT_IMAGE=$previous run "${dc[@]}" up -d --no-build --no-deps --wait --wait-timeout "$timeout" stockpilot
    log "rolled back; the migrations of ${image} stay applied"
  fi
  exit 1
}

# /ready of every replica, asked from inside each container.
check_compose_ready() {
  [ "$dry_run" = 0 ] || { echo "+ (each replica) stockpilot healthcheck --url http://127.0.0.1:8080/ready"; return 0; }
  local n i
  n=$("$@" ps -q stockpilot | wc -l)
  for i in $(seq 1 "$n"); do
    "$@" exec -T --index "$i" stockpilot /usr/local/bin/stockpilot healthcheck --url http://127.0.0.1:8080/ready || return 1
  done
  log "${n} replica(s) ready"
}

# ---------------------------------------------------------------------------- k8s
render_k8s() { # OUT: the overlay with the image replaced
  local out=$1 tmp
  tmp=$(mktemp -d)
  cat > "$tmp/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$tmp" "$overlay")
images:
  - name: registry.example.com/stockpilot
    newName: ${image%:*}
    newTag: "${image##*:}"
YAML
  "${kubectl[@]}" kustomize --load-restrictor LoadRestrictionsNone "$tmp" > "$out"
  rm -rf "$tmp"
}

job_state() { # Complete, Failed or empty
  "${kubectl[@]}" -n "$namespace" get job stockpilot-migrate \
    -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}' 2>/dev/null || true
}

deploy_k8s() {
  case $image in
    */*:*) ;;
    *) echo "deploy: for k8s give --image REGISTRY/NAME:TAG (the cluster must be able to pull it)" >&2; exit 2 ;;
  esac
  if [ -z "$rendered" ]; then
    rendered=$(mktemp --suffix=.yaml)
    trap 'rm -f "$rendered"' EXIT
  fi
  render_k8s "$rendered"
  log "rendered $(grep -c '^kind:' "$rendered") resources for ${image}"

  build_image
  [ "$build" = 0 ] || run "${docker[@]}" push "$image"

  if [ "$dry_run" = 0 ] && ! "${kubectl[@]}" -n "$namespace" get secret stockpilot-secrets >/dev/null 2>&1; then
    echo "deploy: secret ${namespace}/stockpilot-secrets is missing (deploy/k8s/base/secret.template.yaml)" >&2; exit 2
  fi

  log "applying the namespace, service account and configuration"
  run "${kubectl[@]}" apply -f "$rendered" -l 'app.kubernetes.io/component in (namespace,config)'

  log "running the migration Job"
  run "${kubectl[@]}" -n "$namespace" delete job stockpilot-migrate --ignore-not-found --wait=true
  run "${kubectl[@]}" apply -f "$rendered" -l app.kubernetes.io/component=migration
  if [ "$dry_run" = 0 ]; then
    local waited=0 state=""
    until state=$(job_state); [[ $state == *Complete* || $state == *Failed* ]]; do
      [ "$waited" -lt "$timeout" ] || { state="timed out"; break; }
      sleep 5; waited=$((waited + 5))
    done
    if [[ $state != *Complete* ]]; then
      echo "deploy: the migration Job did not complete (${state}); nothing was rolled out" >&2
      "${kubectl[@]}" -n "$namespace" logs job/stockpilot-migrate --tail=50 >&2 || true
      exit 1
    fi
    log "migrations applied"
  fi

  log "rolling out ${image}"
  run "${kubectl[@]}" apply -f "$rendered" -l 'app.kubernetes.io/component notin (namespace,config,migration)'
  if run "${kubectl[@]}" -n "$namespace" rollout status deployment/stockpilot --timeout="${timeout}s"; then
    finished "every replica of ${image} is ready"
    return 0
  fi
  echo "deploy: the rollout did not become ready; rolling back" >&2
  run "${kubectl[@]}" -n "$namespace" rollout undo deployment/stockpilot
  run "${kubectl[@]}" -n "$namespace" rollout status deployment/stockpilot --timeout="${timeout}s" || true
  log "rolled back; the migrations of ${image} stay applied"
  exit 1
}

[ "$dry_run" = 0 ] || log "dry run: nothing is built, applied or changed"
log "target ${target}, image ${image}"
if [ "$target" = compose ]; then deploy_compose; else deploy_k8s; fi
