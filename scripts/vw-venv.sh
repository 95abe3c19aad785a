#!/usr/bin/env bash
# Creates the Python environment with Vowpal Wabbit and scikit-learn (.venv-vw) from requirements/vw.txt.
# The online learners' comparison with VW (ml/online/vw-compare.int.test.ts) and bench/online-learners.ts use it.
#
#   scripts/vw-venv.sh          # idempotent: does nothing when the venv matches the requirements
#
# Like scripts/oumi-venv.sh, the venv lives in a per-machine cache keyed by the requirements' SHA-256 and
# `.venv-vw` links to it, so a fresh clone (CI clones anew for every run) links it in a second. A stamp
# written last marks a finished install. VW_VENV=/path builds exactly there instead, with no link.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/requirements/vw.txt"
python="${PYTHON:-python3.11}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
link=""
if [[ -n "${VW_VENV:-}" ]]; then
  venv="$VW_VENV"
else
  venv="${AUTOPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopilot}/venv-vw-${want:0:16}"
  link="$root/.venv-vw"
fi
stamp="$venv/.requirements.sha256"

make_link() {
  [[ -n "$link" ]] || return 0
  if [[ -L "$link" || ! -e "$link" ]]; then
    ln -sfn "$venv" "$link"
  else
    echo "vw-venv: $link is a directory, not a link to the cached venv; moving it aside to $link.old" >&2
    rm -rf "$link.old"; mv "$link" "$link.old"; ln -sfn "$venv" "$link"
  fi
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  make_link
  echo "vw-venv: $venv is up to date with requirements/vw.txt (sha256 ${want:0:12})"
  exit 0
fi
command -v "$python" >/dev/null || { echo "vw-venv: $python not found (set PYTHON=...)" >&2; exit 1; }
mkdir -p "$(dirname "$venv")"
start=$SECONDS
echo "vw-venv: building $venv with $("$python" --version) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip --disable-pip-version-check --no-input install -q -r "$requirements" >"$log" 2>&1; then
  grep -v "is ignored: it is neither" "$log" >&2; exit 1
fi
"$venv/bin/python" -c 'import vowpalwabbit, sklearn' >/dev/null
echo "$want" >"$stamp"
make_link
echo "vw-venv: ready in $((SECONDS - start)) s; vowpalwabbit $("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("vowpalwabbit"))'); size $(du -sh "$venv" | cut -f1)"
