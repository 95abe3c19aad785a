/** Layer rules of Autopilot, checked by dependency-cruiser in `make test` (target `layers`).
 *  docs/architecture.md draws the picture and says each rule in words; this file is the checked fact.
 *
 *  Every path below is relative to the repository root (`^ml/` is the top-level ml folder). Test code
 *  (unit and integration tests, test/, bench/, scripts/, `testing/` folders, test-helpers.ts) may import anything:
 *  the layer rules leave it out, but it is still checked for cycles and unresolvable imports.
 *
 *  Run: npx depcruise --config .dependency-cruiser.cjs .            (every violation, with its rule)
 *       make layers                                                  (the same, as `make test` runs it) */

/** Test code: exempt from the layer rules. */
const TEST = [
  '\\.test\\.ts$', // *.test.ts, *.int.test.ts, *.e2e.int.test.ts
  '^test/',
  '^bench/',
  '^scripts/',
  '(^|/)testing/', // fixtures and fakes that only tests import (inference/testing/, activities/ope/testing/, …)
  '(^|/)test-helpers\\.ts$', // registry/test-helpers.ts, decision-log/test-helpers.ts
  '^ml/onnx/ort-jest-environment\\.js$', // jest's test environment, not library code
];

/** npm packages that do I/O (databases, network, storage, ONNX Runtime's native binding, Temporal's
 *  client/worker/activity runtimes, metrics registries, process-level CLIs). */
const IO_PACKAGES = [
  '^node_modules/pg/',
  '^node_modules/pg-copy-streams/',
  '^node_modules/ioredis/',
  '^node_modules/@aws-sdk/',
  '^node_modules/onnxruntime-node/',
  '^node_modules/@temporalio/',
  '^node_modules/prom-client/',
  '^node_modules/commander/',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ── everywhere ────────────────────────────────────────────────────────────────────────────────
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module may depend on itself through others (type-only imports count too): move the shared part, often a type, into a lower module both import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import names a module that does not exist (a typo, a moved file, or a package missing from package.json).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-test-code',
      severity: 'error',
      comment: 'Shipped code never imports tests, test fixtures (testing/ folders), benchmarks or scripts.',
      from: { pathNot: TEST },
      to: { path: TEST },
    },

    // ── ml/: pure algorithms ──────────────────────────────────────────────────────────────────────
    {
      name: 'ml-no-node-builtins',
      severity: 'error',
      comment: 'ml/ is pure computation that workflows may also load: no Node built-in (fs, net, http, child_process, worker_threads, crypto, os, …).',
      from: { path: '^ml/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'ml-no-io-packages',
      severity: 'error',
      comment: 'ml/ does no I/O: no database, Redis, S3, ONNX Runtime, Temporal runtime or metrics package.',
      from: { path: '^ml/', pathNot: TEST },
      to: { path: IO_PACKAGES },
    },
    {
      name: 'ml-imports-nothing-above',
      severity: 'error',
      comment: 'ml/ is the bottom layer: it imports only ml/ and pure npm packages, nothing from another project folder.',
      from: { path: '^ml/', pathNot: TEST },
      to: { pathNot: ['^ml/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },

    // ── canary/ and contracts/: pure modules shared by a workflow and its activities ──────────────
    {
      name: 'canary-pure',
      severity: 'error',
      comment: 'canary/ is pure domain logic (plan, status, tick, analysis) shared by the canary workflow and its activities: of the project it imports only ml/ (contracts/ names its types, not the reverse).',
      from: { path: '^canary/', pathNot: TEST },
      to: { pathNot: ['^canary/', '^ml/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'canary-no-io',
      severity: 'error',
      comment: 'canary/ does no I/O: no Node built-in and no I/O package.',
      from: { path: '^canary/', pathNot: TEST },
      to: { path: IO_PACKAGES },
    },
    {
      name: 'canary-no-node-builtins',
      severity: 'error',
      comment: 'canary/ is loaded by workflows, which Temporal replays deterministically: no Node built-in.',
      from: { path: '^canary/', pathNot: TEST },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'contracts-runtime-imports',
      severity: 'error',
      comment: 'contracts/ (workflow inputs/outputs, signal and query names, activity interfaces) imports at run time only contracts/ itself and the workflow SDK (defineSignal, defineQuery); it names every other type with `import type`.',
      from: { path: '^contracts/', pathNot: TEST },
      to: {
        pathNot: ['^contracts/', '^node_modules/@temporalio/(workflow|common)/'],
        dependencyTypesNot: ['type-only', 'type-import'],
      },
    },
    {
      name: 'contracts-type-imports',
      severity: 'error',
      comment: 'contracts/ may name types from ml/, canary/ and the types modules of the storage and environment layers (registry/types, decision-log/types, envs/types) only: never from activities/, workflows/, inference/, workers/ or cli/.',
      from: { path: '^contracts/', pathNot: TEST },
      to: {
        pathNot: ['^contracts/', '^ml/', '^canary/', '^(registry|decision-log|envs)/types\\.ts$', '^node_modules/@temporalio/(workflow|common)/'],
      },
    },

    // ── workflows/: deterministic orchestration ───────────────────────────────────────────────────
    {
      name: 'workflows-only-sdk-contracts-domain',
      severity: 'error',
      comment: 'Workflow code imports only @temporalio/workflow (and @temporalio/common), contracts/ and pure domain modules (canary/, ml/). Activity interfaces live in contracts/; anything with I/O is an activity.',
      from: { path: '^workflows/', pathNot: TEST },
      to: {
        pathNot: ['^workflows/', '^contracts/', '^canary/', '^ml/', '^node_modules/@temporalio/(workflow|common)/'],
      },
    },

    // ── activities/ ───────────────────────────────────────────────────────────────────────────────
    {
      name: 'activities-not-to-workflows-or-inference',
      severity: 'error',
      comment: 'Activities are the side effects a workflow calls: they never import workflows/ (shared types live in contracts/ or a domain module) nor the inference server (shared configuration lives in ml/).',
      from: { path: '^activities/', pathNot: TEST },
      to: { path: ['^workflows/', '^inference/'] },
    },

    // ── envs/ ─────────────────────────────────────────────────────────────────────────────────────
    {
      name: 'envs-only-ml',
      severity: 'error',
      comment: 'envs/ (PPO environments, their evaluators and reward) builds on ml/ only, no other project folder.',
      from: { path: '^envs/', pathNot: TEST },
      to: { pathNot: ['^envs/', '^ml/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'console-browser-only',
      severity: 'error',
      comment: 'console/src is the browser bundle: it talks to the API over HTTP and imports only console/src and npm packages (no server code, no Node built-ins).',
      from: { path: '^console/src/' },
      to: { pathNot: ['^console/src/', '^node_modules/'] },
    },
    {
      name: 'parallel-only-ml',
      severity: 'error',
      comment: 'parallel/ runs pure ml/ kernels on worker threads (Node built-ins allowed): it imports only parallel/ and ml/ of the project; cli/ and activities/ call it.',
      from: { path: '^parallel/', pathNot: TEST },
      to: { pathNot: ['^parallel/', '^ml/', '^node_modules/'], dependencyTypesNot: ['core'] },
    },

    // ── registry/, decision-log/, feature-store/, config/: state, logged data, features, settings ────────────────────────────────────────
    {
      name: 'storage-and-config-are-low',
      severity: 'error',
      comment: 'registry/, decision-log/, feature-store/ and config/ sit under every process: they import nothing from inference/, activities/, workflows/, workers/ or cli/.',
      from: { path: ['^registry/', '^decision-log/', '^feature-store/', '^config/'], pathNot: TEST },
      to: { path: ['^inference/', '^activities/', '^workflows/', '^workers/', '^cli/'] },
    },
    {
      name: 'registry-not-to-logged-data',
      severity: 'error',
      comment: 'Registry state (models, versions, aliases, deployments, audit) does not depend on logged data: decision-log/ and feature-store/ build on registry/ plumbing, never the reverse.',
      from: { path: '^registry/', pathNot: TEST },
      to: { path: ['^decision-log/', '^feature-store/'] },
    },

    // ── inference/: the decision server ───────────────────────────────────────────────────────────
    {
      name: 'inference-not-to-orchestration',
      severity: 'error',
      comment: 'The inference server imports no orchestration code: not activities/, workflows/, workers/ or cli/.',
      from: { path: '^inference/', pathNot: TEST },
      to: { path: ['^activities/', '^workflows/', '^workers/', '^cli/'] },
    },

    // ── api/: the control-plane API process ───────────────────────────────────────────────────────
    {
      name: 'api-not-to-orchestration',
      severity: 'error',
      comment: 'The control-plane API (api/) reaches workflows only through the Temporal client and contracts/ (signal and query names): it imports no activities/, workflows/, workers/ or cli/.',
      from: { path: '^api/', pathNot: TEST },
      to: { path: ['^activities/', '^workflows/', '^workers/', '^cli/'] },
    },
    {
      name: 'api-inference-only-auth',
      severity: 'error',
      comment: "The API shares the inference server's key checks (inference/auth/, its registry listener and error ids) and its wire schemas (the OpenAPI document of the server is made from them), nothing else of the decision server.",
      from: { path: '^api/', pathNot: TEST },
      to: { path: '^inference/', pathNot: ['^inference/auth/', '^inference/registry-listener\\.ts$', '^inference/http/errors\\.ts$', '^inference/http/wire-schemas\\.ts$'] },
    },
    {
      name: 'wire-schemas-only-zod',
      severity: 'error',
      comment: "inference/http/wire-schemas.ts is the server's wire format, shared with the API and the SDK tests: it imports zod and nothing else, so importing it brings none of the decision server along.",
      from: { path: '^inference/http/wire-schemas\\.ts$' },
      to: { pathNot: '^node_modules/zod/' },
    },
    {
      name: 'only-cli-imports-api',
      severity: 'error',
      comment: 'api/ is an entry point (`autopilot api`): only the CLI imports it.',
      from: { pathNot: TEST.concat(['^cli/', '^api/']) },
      to: { path: '^api/' },
    },

    // ── workers/ and cli/ ─────────────────────────────────────────────────────────────────────────
    {
      name: 'workers-not-to-inference',
      severity: 'error',
      comment: 'Workers host workflows and activities; the inference server is its own process.',
      from: { path: '^workers/', pathNot: TEST },
      to: { path: '^inference/' },
    },
    {
      name: 'nothing-imports-cli',
      severity: 'error',
      comment: 'cli/ is the top: no other folder imports it. What another folder needs from it moves down.',
      from: { pathNot: TEST.concat(['^cli/']) },
      to: { path: '^cli/' },
    },
    {
      name: 'only-cli-imports-workers',
      severity: 'error',
      comment: 'workers/ is an entry point: only the CLI (`autopilot worker`, `autopilot dev`) imports it.',
      from: { pathNot: TEST.concat(['^cli/', '^workers/']) },
      to: { path: '^workers/' },
    },
    {
      name: 'cli-inference-only-through-server',
      severity: 'error',
      comment: 'The CLI reaches the inference server only through its entry point inference/server.ts (`autopilot serve`).',
      from: { path: '^cli/', pathNot: TEST },
      to: { path: '^inference/', pathNot: '^inference/server\\.ts$' },
    },
  ],
  options: {
    // Not cruised at all: build output, Python environments and data. (node_modules is not excluded, only
    // not followed: excluding it would hide the imports of I/O packages that the rules look for.)
    exclude: { path: '^(dist|console/dist|coverage|\\.venv[^/]*|\\.data|python)(/|$)' },
    doNotFollow: { path: '(^|/)node_modules(/|$)' },
    preserveSymlinks: true, // node_modules may be a link to a shared install: keep its paths under node_modules/
    tsPreCompilationDeps: true, // see `import type` too, and mark it type-only
    tsConfig: { fileName: 'tsconfig.json' },
    parser: 'tsc',
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.cjs', '.mjs', '.d.ts', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
