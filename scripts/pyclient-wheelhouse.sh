#!/usr/bin/env bash
# Downloads the Python client's build backend (requirements/pyclient-build.txt) as wheels, so its
# integration test installs clients/python with pip offline (`--no-index --find-links`), into a fresh
# venv, the way a user installs it from the repository.
#
#   scripts/pyclient-wheelhouse.sh     # idempotent: does nothing when the wheelhouse matches the requirements
#
# Like scripts/mlflow-venv.sh: a per-machine cache keyed by the requirements' SHA-256, linked as
# .wheelhouse-pyclient; a stamp written last marks a finished download.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/requirements/pyclient-build.txt"
python="${PYTHON:-python3}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
dir="${AUTOPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopilot}/pyclient-wheelhouse-${want:0:16}"
link="$root/.wheelhouse-pyclient"
stamp="$dir/.requirements.sha256"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  ln -sfn "$dir" "$link"
  echo "pyclient-wheelhouse: $dir is up to date with requirements/pyclient-build.txt (sha256 ${want:0:12})"
  exit 0
fi
command -v "$python" >/dev/null || { echo "pyclient-wheelhouse: $python not found (set PYTHON=...)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir"
"$python" -m pip --disable-pip-version-check --no-input download -q --only-binary=:all: --no-deps -d "$dir" -r "$requirements"
echo "$want" >"$stamp"
ln -sfn "$dir" "$link"
echo "pyclient-wheelhouse: $(ls "$dir" | grep -c '\.whl$') wheel(s) in $dir"
