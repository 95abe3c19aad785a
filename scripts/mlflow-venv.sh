#!/usr/bin/env bash
# Creates the Python environment with an MLflow tracking server (.venv-mlflow) from requirements/mlflow.txt.
# Only the MLflow export's integration test (and a person trying `autopilot runs export --mlflow`) uses it.
#
#   scripts/mlflow-venv.sh          # idempotent: does nothing when the venv matches the requirements
#
# Cached per machine and linked (scripts/cached-venv.sh); MLFLOW_VENV=/path builds exactly there instead.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/cached-venv.sh" mlflow requirements/mlflow.txt bin/mlflow 'mlflow --version' 'mlflow --version'
