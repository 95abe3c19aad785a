#!/usr/bin/env bash
# Creates the Python environment with Vowpal Wabbit and scikit-learn (.venv-vw) from requirements/vw.txt.
# The online learners' comparison with VW (ml/online/vw-compare.test.ts) and bench/online-learners.ts use it.
#
#   scripts/vw-venv.sh          # idempotent: does nothing when the venv matches the requirements
#
# Cached per machine and linked (scripts/cached-venv.sh); VW_VENV=/path builds exactly there instead.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cached-venv.sh" vw requirements/vw.txt bin/python \
  "python -c 'import vowpalwabbit, sklearn'" \
  "python -c 'import importlib.metadata as m; print(\"vowpalwabbit\", m.version(\"vowpalwabbit\"))'"
