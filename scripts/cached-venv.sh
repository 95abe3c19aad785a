#!/usr/bin/env bash
# A project-local Python environment in a per-machine cache keyed by its requirements' SHA-256, linked into
# the checkout, so a fresh clone (CI clones anew for every run) links it in a second. A stamp written last
# marks a finished install. Used by scripts/mlflow-venv.sh and scripts/vw-venv.sh (scripts/oumi-venv.sh
# does the same with its --no-deps steps).
#
#   scripts/cached-venv.sh NAME REQUIREMENTS MARKER CHECK VERSION
#     NAME          venv name: .venv-NAME, cache folder venv-NAME-<sha>, messages "NAME-venv:"
#     REQUIREMENTS  requirements file, relative to the repository root
#     MARKER        a file of the venv that exists once installed (e.g. bin/mlflow)
#     CHECK         a command run in the venv after the install (its bin/ first on PATH) that must succeed
#     VERSION       a command whose output names what was installed, for the last line
#
# <NAME upper-cased>_VENV=/path builds exactly there instead, with no link.
set -euo pipefail

name="$1"; requirements_rel="$2"; marker="$3"; check="$4"; version="$5"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/$requirements_rel"
python="${PYTHON:-python3.11}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
override_var="$(echo "$name" | tr '[:lower:]-' '[:upper:]_')_VENV"
link=""
if [[ -n "${!override_var:-}" ]]; then
  venv="${!override_var}"
else
  venv="${AUTOPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopilot}/venv-$name-${want:0:16}"
  link="$root/.venv-$name"
fi
stamp="$venv/.requirements.sha256"
in_venv() { PATH="$venv/bin:$PATH" bash -c "$1"; }

make_link() {
  [[ -n "$link" ]] || return 0
  if [[ -L "$link" || ! -e "$link" ]]; then
    ln -sfn "$venv" "$link"
  else
    echo "$name-venv: $link is a directory, not a link to the cached venv; moving it aside to $link.old" >&2
    rm -rf "$link.old"; mv "$link" "$link.old"; ln -sfn "$venv" "$link"
  fi
}

if [[ -e "$venv/$marker" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  make_link
  echo "$name-venv: $venv is up to date with $requirements_rel (sha256 ${want:0:12})"
  exit 0
fi
command -v "$python" >/dev/null || { echo "$name-venv: $python not found (set PYTHON=...)" >&2; exit 1; }
mkdir -p "$(dirname "$venv")"
start=$SECONDS
echo "$name-venv: building $venv with $("$python" --version) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/python" -m pip --disable-pip-version-check --no-input install -q -r "$requirements" >"$log" 2>&1; then
  grep -v "is ignored: it is neither" "$log" >&2; exit 1
fi
in_venv "$check" >/dev/null
echo "$want" >"$stamp"
make_link
echo "$name-venv: ready in $((SECONDS - start)) s; $(in_venv "$version"); size $(du -sh "$venv" | cut -f1)"
