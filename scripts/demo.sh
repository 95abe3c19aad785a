#!/usr/bin/env bash
# The demo: bring the dev stack up, then run the loop step by step. Each capability adds its step
# here. The stack stays up for you to explore; `autopilot dev down` (or `make down`) ends it.
set -euo pipefail
cd "$(dirname "$0")/.."
AP=bin/autopilot

$AP dev up
echo
echo "== 1. stack check: a workflow through Temporal, the registry and the S3 artifact store"
$AP stack-check --message "hello from make demo"

echo
echo "Demo done. The stack is still running:"
$AP dev status
echo
echo "Temporal UI: http://127.0.0.1:8233   —   stop everything with: bin/autopilot dev down"
