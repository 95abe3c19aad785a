#!/usr/bin/env bash
# Prometheus' rule tooling for `make rules-check` (which `make test` runs), and the Prometheus server the
# dev stack runs (cli/dev/prometheus.ts; `make setup` installs it through `make prometheus`).
#
#   scripts/prometheus-tools.sh install      # idempotent: installs Debian's `prometheus` package (it
#                                            # carries the server and promtool) only when one is missing
#   scripts/prometheus-tools.sh check [DIR]  # DIR (default infra/prometheus): promtool check rules on
#                                            # DIR/rules/*.yml, promtool test rules on DIR/tests/*.yml,
#                                            # promtool check config on DIR/prometheus.yml
#
# Without promtool and without the rights to install it: outside CI the check is skipped with a line
# saying how to install it; in CI (`CI` set) it fails, so a broken set-up never passes as a skip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
promtool="${PROMTOOL:-promtool}"

missing() { # the message for a missing promtool; exits 1 in CI, 0 (skip) elsewhere
  local why="prometheus-tools: promtool not found ($1); install Debian's package as root: apt-get update && apt-get install -y --no-install-recommends prometheus"
  if [[ -n "${CI:-}" ]]; then
    echo "$why — in CI a missing promtool fails instead of skipping" >&2
    exit 1
  fi
  echo "SKIPPED $why" >&2
  exit 0
}

install() {
  if command -v "$promtool" >/dev/null && command -v prometheus >/dev/null; then
    echo "prometheus-tools: $("$promtool" --version 2>&1 | head -1)"
    return 0
  fi
  if [[ "$(id -u)" -ne 0 ]]; then missing "not root, cannot apt-get install"; fi
  command -v apt-get >/dev/null || missing "no apt-get on this machine"
  echo "prometheus-tools: installing Debian's prometheus package (promtool)…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  command -v "$promtool" >/dev/null || { echo "prometheus-tools: the prometheus package installed no $promtool" >&2; exit 1; }
  command -v prometheus >/dev/null || { echo "prometheus-tools: the prometheus package installed no prometheus server" >&2; exit 1; }
  echo "prometheus-tools: $("$promtool" --version 2>&1 | head -1)"
}

check() {
  local dir="${1:-$root/infra/prometheus}"
  command -v "$promtool" >/dev/null || missing "run scripts/prometheus-tools.sh install"
  shopt -s nullglob
  local rules=("$dir"/rules/*.yml) tests=("$dir"/tests/*.yml)
  ((${#rules[@]} > 0)) || { echo "prometheus-tools: no rule files in $dir/rules/*.yml" >&2; exit 1; }
  ((${#tests[@]} > 0)) || { echo "prometheus-tools: no rule tests in $dir/tests/*.yml" >&2; exit 1; }
  "$promtool" check rules "${rules[@]}"
  # promtool resolves a test's rule_files relative to the test file
  "$promtool" test rules "${tests[@]}"
  "$promtool" check config "$dir/prometheus.yml"
  coverage "$dir" "${rules[@]}" -- "${tests[@]}"
}

# Every alert in the rules has a test case where it fires (exp_labels) and one where it stays silent
# (exp_alerts: []); promtool itself accepts rule files whose alerts no test exercises.
coverage() {
  local dir="$1"; shift
  local rules=() tests=()
  while [[ "$1" != "--" ]]; do rules+=("$1"); shift; done
  shift; tests=("$@")
  local alerts report
  alerts="$(sed -nE 's/^[[:space:]]*-[[:space:]]*alert:[[:space:]]*([A-Za-z0-9_]+).*/\1/p' "${rules[@]}" | sort -u)"
  report="$(awk '
    match($0, /alertname:[[:space:]]*[A-Za-z0-9_]+/) { cur = substr($0, RSTART, RLENGTH); sub(/alertname:[[:space:]]*/, "", cur) }
    /exp_labels/ { fired[cur] = 1 }
    /exp_alerts:[[:space:]]*\[\]/ { silent[cur] = 1 }
    END { for (a in fired) print a " fired"; for (a in silent) print a " silent" }' "${tests[@]}")"
  local bad=0 a
  for a in $alerts; do
    grep -qx "$a fired" <<<"$report" || { echo "prometheus-tools: alert $a has no test in $dir/tests where it fires (exp_labels)" >&2; bad=1; }
    grep -qx "$a silent" <<<"$report" || { echo "prometheus-tools: alert $a has no test in $dir/tests where it stays silent (exp_alerts: [])" >&2; bad=1; }
  done
  ((bad == 0)) || exit 1
  echo "prometheus-tools: each of the $(wc -w <<<"$alerts") alerts is tested firing and silent"
}

case "${1:-install}" in
  install) install ;;
  check) check "${2:-}" ;;
  *) echo "usage: scripts/prometheus-tools.sh install | check [DIR]" >&2; exit 2 ;;
esac
