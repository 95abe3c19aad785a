#!/usr/bin/env bash
# Creates the Python environment with LightGBM, onnxmltools/skl2onnx and onnxruntime (.venv-lightgbm) from
# requirements/lightgbm.txt. The quality predictor's training activity (activities/predictor/) runs
# activities/predictor/python/train_lgbm.py in it.
#
#   scripts/lightgbm-venv.sh    # idempotent: does nothing when the venv matches the requirements
#
# Cached per machine and linked (scripts/cached-venv.sh); LIGHTGBM_VENV=/path builds exactly there instead.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cached-venv.sh" lightgbm requirements/lightgbm.txt bin/python \
  "python -c 'import lightgbm, onnxmltools, skl2onnx, onnxruntime'" \
  "python -c 'import importlib.metadata as m; print(\"lightgbm\", m.version(\"lightgbm\"), \"onnxmltools\", m.version(\"onnxmltools\"), \"onnxruntime\", m.version(\"onnxruntime\"))'"
