#!/usr/bin/env bash
# The demo: bring the dev stack up, then run the whole loop — train a policy, register it, serve it,
# send traffic with rewards, train a second version and canary it to 100%. The stack stays up for
# you to explore; `bin/autopilot dev down` (or `make down`) ends it.
set -euo pipefail
cd "$(dirname "$0")/.."
AP=bin/autopilot
MODEL=${DEMO_MODEL:-rag-tuner}
CONFIG=configs/rl/rag-tuner.yaml
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const o=JSON.parse(s);console.log(process.argv[1].split(".").reduce((a,k)=>a[k],o))})' "$1"; }

step() { echo; echo "== $*"; }

step "0. dev stack: Temporal, SeaweedFS S3, registry, workers, inference server, API and console"
$AP dev up

step "1. stack check: a workflow through Temporal, the registry and the S3 artifact store"
$AP stack-check --message "hello from make demo"

step "2. train a PPO policy in the RAG simulator (ppoTraining workflow) and register it"
V1=$($AP train ppo --config $CONFIG --model "$MODEL" --iterations 15 --seed 1 --json | json version)
echo "registered $MODEL v$V1"

step "3. serve it: v$V1 becomes champion of deployment $MODEL"
$AP deploy "$MODEL" --champion "$V1" --reason "make demo"

step "4. traffic with rewards: simulated RAG sessions → /v1/decide → simulator → /v1/rewards"
$AP traffic --deployment "$MODEL" --requests 2000 --concurrency 8

step "5. train a second version (more iterations, another seed)"
V2=$($AP train ppo --config $CONFIG --model "$MODEL" --iterations 40 --seed 2 --json | json version)
echo "registered $MODEL v$V2"

step "6. canary v$V2: 5 → 25 → 50 → 100 % with gates and bootstrap CIs while traffic flows (configs/canary/demo.yaml)"
$AP traffic --deployment "$MODEL" --requests 1000000 --concurrency 8 --duration 240 --seed 3 > .data/logs/demo-traffic.log 2>&1 &
TRAFFIC=$!
trap 'kill $TRAFFIC 2>/dev/null || true' EXIT
sleep 2
$AP canary start "$MODEL" "$V2" --plan configs/canary/demo.yaml
PHASE=""
for _ in $(seq 1 200); do
  sleep 3
  STATUS=$($AP canary status "$MODEL" --json)
  PHASE=$(echo "$STATUS" | json phase)
  echo "  canary: phase $PHASE, weight $(echo "$STATUS" | json canaryWeight)%, checks $(echo "$STATUS" | json iterations)"
  case "$PHASE" in Succeeded|Failed) break ;; esac
done
kill $TRAFFIC 2>/dev/null || true
wait $TRAFFIC 2>/dev/null || true
tail -1 .data/logs/demo-traffic.log
[ "$PHASE" = "Succeeded" ] || { echo "canary ended in phase $PHASE: see bin/autopilot canary status $MODEL"; exit 1; }
echo "v$V2 is champion of $MODEL (the previous champion stays registered: bin/autopilot rollback $MODEL)"

step "7. seed 001's first use case: a contextual bandit picks the LLM per request (cheap / mid / premium; configs/bandits/model-selection.yaml), cost-aware reward, context computed by the server from the raw prompt (feature set configs/features/model-selection.yaml)"
$AP models create model-router --exist-ok --description "LLM per request: cheap, mid or premium"
$AP deploy model-router --kind bandit --champion none --config configs/bandits/model-selection.yaml --reason "make demo"
$AP traffic --scenario model-selection --deployment model-router --requests 4000 --concurrency 8 --seed 1

step "Demo done. The stack is still running:"
$AP dev status
$AP models show "$MODEL"
cat <<MSG

  Temporal UI       http://127.0.0.1:8233   (workflows: stackCheck, ppoTraining, canaryPromotion)
  Grafana panel     "Model selection" (infra/grafana, dashboard autopilot-learning): arm shares, cost and quality per arm of model-router
  Inference server  http://127.0.0.1:8080   (POST /v1/decide, POST /v1/rewards, /v2/models/$MODEL, /metrics)
  Console           http://127.0.0.1:8090/console/   (models, deployments, canaries, runs, audit; key: .data/api-key)
  Try:  curl -s -H "Authorization: Bearer \$(cat .data/api-key)" localhost:8080/v2/models/$MODEL | head
        (every /v1 and /v2 call needs an API key: the stack's admin key is in .data/api-key; bin/autopilot keys --help)
        bin/autopilot models list
  Stop everything:  bin/autopilot dev down
MSG
