#!/usr/bin/env bash
# Creates the project-local Python environment for Open Bandit Pipeline (.venv-obp) from
# requirements/obp.txt. Only the OPE benchmarks against OBP use it (bench/ope-peers.ts).
#
#   scripts/obp-venv.sh                  # idempotent: does nothing when the venv matches the requirements
#   OBP_VENV=/path scripts/obp-venv.sh   PYTHON=python3.11 scripts/obp-venv.sh
#
# The venv is (re)built only when it is missing or requirements/obp.txt changed: a stamp file in the venv
# holds the file's SHA-256 and is written last, so a half-finished install is rebuilt next time. Install
# order (see the comment block in requirements/obp.txt): the CPU torch, then obp --no-deps, then the
# pinned libraries with torch held by a constraint. Prints the install time and the size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/requirements/obp.txt"
python="${PYTHON:-python3.11}"
venv="${OBP_VENV:-$root/.venv-obp}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "obp-venv: $venv is up to date with requirements/obp.txt (sha256 ${want:0:12})"
  exit 0
fi
command -v "$python" >/dev/null || { echo "obp-venv: $python not found (set PYTHON=...)" >&2; exit 1; }
pin() { # the `name==version` line for one package from the requirements file
  local line
  line="$(grep -E "^$1==" "$requirements" || true)"
  [[ -n "$line" ]] || { echo "obp-venv: requirements/obp.txt has no '$1==' line" >&2; exit 1; }
  echo "$line"
}
torch_pin="$(pin torch)"
obp_pin="$(pin obp)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "$torch_pin" >"$work/constraints.txt"
grep -vE '^(torch|obp)==' "$requirements" >"$work/libraries.txt"

start=$SECONDS
echo "obp-venv: building $venv with $("$python" --version) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
quiet() { # pip, without the noise of the file:// extra indexes and of OBP's deliberately unmet pins
  local rc=0
  "$@" >"$work/pip.log" 2>&1 || rc=$?
  grep -vE "is ignored: it is neither|^obp [0-9.]+ requires|dependency resolver does not currently|^\s*$" "$work/pip.log" || true
  return "$rc"
}
quiet "${pip[@]}" install -q "$torch_pin"
quiet "${pip[@]}" install -q --no-deps --ignore-requires-python "$obp_pin"
quiet "${pip[@]}" install -q -r "$work/libraries.txt" -c "$work/constraints.txt"

# Guard the choices that matter: the CPU torch stayed, no CUDA wheels came in, OBP's estimators import.
installed_torch="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
[[ "$installed_torch" == "${torch_pin#torch==}"* ]] || { echo "obp-venv: torch is $installed_torch, expected $torch_pin" >&2; exit 1; }
if "${pip[@]}" list 2>/dev/null | grep -qi '^nvidia'; then
  echo "obp-venv: CUDA packages were installed:" >&2; "${pip[@]}" list 2>/dev/null | grep -i '^nvidia' >&2; exit 1
fi
MPLBACKEND=Agg "$venv/bin/python" -c 'import obp.ope.estimators' >/dev/null 2>&1 \
  || { echo "obp-venv: 'import obp.ope.estimators' failed:" >&2; MPLBACKEND=Agg "$venv/bin/python" -c 'import obp.ope.estimators' >&2; exit 1; }

echo "$want" >"$stamp"
echo "obp-venv: ready in $((SECONDS - start)) s; obp ${obp_pin#obp==}, torch $installed_torch; size $(du -sh "$venv" | cut -f1)"
