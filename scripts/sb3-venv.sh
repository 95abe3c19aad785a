#!/usr/bin/env bash
# Creates the project-local Python environment for Stable-Baselines3 (.venv-sb3) from
# requirements/sb3.txt. Only the PPO benchmark against SB3 uses it (bench/ppo-peers.ts).
#
#   scripts/sb3-venv.sh                  # idempotent: does nothing when the venv matches the requirements
#   SB3_VENV=/path scripts/sb3-venv.sh   PYTHON=python3.11 scripts/sb3-venv.sh
#
# The venv is (re)built only when it is missing or requirements/sb3.txt changed: a stamp file in the venv
# holds the file's SHA-256 and is written last, so a half-finished install is rebuilt next time. Install
# order (see the comment block in requirements/sb3.txt): the CPU torch, then the pinned libraries with
# torch held by a constraint. Prints the install time and the size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
requirements="$root/requirements/sb3.txt"
python="${PYTHON:-python3.11}"
venv="${SB3_VENV:-$root/.venv-sb3}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "sb3-venv: $venv is up to date with requirements/sb3.txt (sha256 ${want:0:12})"
  exit 0
fi
command -v "$python" >/dev/null || { echo "sb3-venv: $python not found (set PYTHON=...)" >&2; exit 1; }
pin() { # the `name==version` line for one package from the requirements file
  local line
  line="$(grep -E "^$1==" "$requirements" || true)"
  [[ -n "$line" ]] || { echo "sb3-venv: requirements/sb3.txt has no '$1==' line" >&2; exit 1; }
  echo "$line"
}
torch_pin="$(pin torch)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "$torch_pin" >"$work/constraints.txt"
grep -vE '^torch==' "$requirements" >"$work/libraries.txt"

start=$SECONDS
echo "sb3-venv: building $venv with $("$python" --version) ..."
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --no-input)
quiet() { # pip, without the noise of the file:// extra indexes
  local rc=0
  "$@" >"$work/pip.log" 2>&1 || rc=$?
  grep -vE "is ignored: it is neither|^\s*$" "$work/pip.log" || true
  return "$rc"
}
quiet "${pip[@]}" install -q "$torch_pin"
quiet "${pip[@]}" install -q -r "$work/libraries.txt" -c "$work/constraints.txt"

# Guard the choices that matter: the CPU torch stayed, no CUDA wheels came in, SB3's PPO and Gymnasium's classic control import.
installed_torch="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
[[ "$installed_torch" == "${torch_pin#torch==}"* ]] || { echo "sb3-venv: torch is $installed_torch, expected $torch_pin" >&2; exit 1; }
if "${pip[@]}" list 2>/dev/null | grep -qi '^nvidia'; then
  echo "sb3-venv: CUDA packages were installed:" >&2; "${pip[@]}" list 2>/dev/null | grep -i '^nvidia' >&2; exit 1
fi
check='from stable_baselines3 import PPO; import gymnasium as gym; gym.make("CartPole-v1")'
MPLBACKEND=Agg "$venv/bin/python" -c "$check" >/dev/null 2>&1 \
  || { echo "sb3-venv: '$check' failed:" >&2; MPLBACKEND=Agg "$venv/bin/python" -c "$check" >&2; exit 1; }

echo "$want" >"$stamp"
echo "sb3-venv: ready in $((SECONDS - start)) s; $(grep -E "^stable-baselines3==" "$requirements"), torch $installed_torch; size $(du -sh "$venv" | cut -f1)"
