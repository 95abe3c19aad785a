#!/usr/bin/env bash
# Creates the project-local Python environment for Oumi (.venv-oumi) from requirements/oumi.txt.
#
#   scripts/oumi-venv.sh            # idempotent: does nothing when the venv matches the requirements
#   OUMI_VENV=/path scripts/oumi-venv.sh   PYTHON=python3.11 scripts/oumi-venv.sh
#
# The venv is (re)built only when it is missing or when requirements/oumi.txt changed: a stamp file in
# the venv holds the file's SHA-256 and is written last, so a half-finished install is rebuilt next time.
# Install order (see the comment block in requirements/oumi.txt): the CPU torch, then oumi --no-deps,
# then the pinned libraries with torch held by a constraint. Prints the install time and the size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/requirements/oumi.txt"
python="${PYTHON:-python3.11}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
# By default the venv itself lives in a per-machine cache keyed by the requirements' hash, and the
# project's `.venv-oumi` is a link to it: a fresh clone on a machine that built it once (CI clones the
# repository anew for every run) links it in a second instead of spending minutes reinstalling.
# OUMI_VENV=/path builds exactly there instead, with no link.
link=""
if [[ -n "${OUMI_VENV:-}" ]]; then
  venv="$OUMI_VENV"
else
  venv="${AUTOPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopilot}/venv-oumi-${want:0:16}"
  link="$root/.venv-oumi"
fi
stamp="$venv/.requirements.sha256"

make_link() {
  [[ -n "$link" ]] || return 0
  if [[ -L "$link" || ! -e "$link" ]]; then
    ln -sfn "$venv" "$link"
  elif [[ "$(readlink -f "$link")" != "$(readlink -f "$venv")" ]]; then
    echo "oumi-venv: $link is a directory, not a link to the cached venv; moving it aside to $link.old" >&2
    rm -rf "$link.old"; mv "$link" "$link.old"; ln -sfn "$venv" "$link"
  fi
}

if [[ -x "$venv/bin/oumi" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  make_link
  echo "oumi-venv: $venv is up to date with requirements/oumi.txt (sha256 ${want:0:12})"
  exit 0
fi
mkdir -p "$(dirname "$venv")"

command -v "$python" >/dev/null || { echo "oumi-venv: $python not found (set PYTHON=...)" >&2; exit 1; }
pin() { # the `name==version` line for one package from the requirements file
  local line
  line="$(grep -E "^$1==" "$requirements" || true)"
  [[ -n "$line" ]] || { echo "oumi-venv: requirements/oumi.txt has no '$1==' line" >&2; exit 1; }
  echo "$line"
}
torch_pin="$(pin torch)"
oumi_pin="$(pin oumi)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "$torch_pin" >"$work/constraints.txt"
grep -vE '^(torch|oumi)==' "$requirements" >"$work/libraries.txt"

start=$SECONDS
echo "oumi-venv: building $venv with $("$python" --version) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
quiet() { # pip, without the noise of the file:// extra indexes and of the deliberately unmet oumi pins
  local rc=0
  "$@" >"$work/pip.log" 2>&1 || rc=$?
  grep -vE "is ignored: it is neither|^oumi [0-9.]+ requires|dependency resolver does not currently|^\s*$" "$work/pip.log" || true
  return "$rc"
}
quiet "${pip[@]}" install -q "$torch_pin"
quiet "${pip[@]}" install -q --no-deps "$oumi_pin"
quiet "${pip[@]}" install -q -r "$work/libraries.txt" -c "$work/constraints.txt"

# Guard the choices that matter: the CPU torch stayed, no CUDA wheels came in, the CLI starts.
installed_torch="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
[[ "$installed_torch" == "${torch_pin#torch==}"* ]] || { echo "oumi-venv: torch is $installed_torch, expected $torch_pin" >&2; exit 1; }
if "${pip[@]}" list 2>/dev/null | grep -qi '^nvidia'; then
  echo "oumi-venv: CUDA packages were installed:" >&2; "${pip[@]}" list 2>/dev/null | grep -i '^nvidia' >&2; exit 1
fi
HF_HUB_OFFLINE=1 DO_NOT_TRACK=1 "$venv/bin/oumi" --help >/dev/null

echo "$want" >"$stamp"
make_link
echo "oumi-venv: ready in $((SECONDS - start)) s; torch $installed_torch; size $(du -sh "$venv" | cut -f1)"
