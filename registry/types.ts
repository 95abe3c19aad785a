/**
 * The registry's vocabulary as TypeScript types. One name per concept, used in code, SQL, metrics and
 * the CLI: model, version, alias, deployment, run (decision and reward: decision-log/types.ts).
 */

export const VERSION_STATUSES = ['registered', 'canary', 'champion', 'rejected', 'archived'] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const ARTIFACT_FORMATS = ['onnx', 'hf', 'json'] as const;
export type ArtifactFormat = (typeof ARTIFACT_FORMATS)[number];

/** Aliases kept in step with the deployment by setDeployment (not settable with setAlias). */
/**
 * The kinds of deployment the inference server serves, one row each in its kind table
 * (inference/serving/kinds.ts) and in the config parsers (registry/deployment-config/). Adding a kind: a word here,
 * then the two rows the type checker asks for.
 */
export const DEPLOYMENT_KINDS = ['policy', 'bandit', 'text-policy', 'online-model', 'predictor', 'semantic-cache'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

export const RESERVED_ALIASES = ['champion', 'canary'] as const;

/** The Postgres NOTIFY channel every registry state change is announced on. */
export const REGISTRY_CHANNEL = 'autopilot_registry';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Model {
  name: string;
  description: string;
  /** Highest version number registered (0: none yet). */
  latestVersion: number;
  createdBy: string;
  createdAt: Date;
}

/** A model with its deployment's state, as `listModels` returns it. */
export interface ModelSummary extends Model {
  championVersion: number | null;
  canaryVersion: number | null;
  canaryWeight: number;
  generation: number | null;
}

/** Where a version came from. */
export interface Lineage {
  runId?: string | null;
  workflowId?: string | null;
  configHash?: string | null;
  datasetManifest?: Json | null;
  codeCommit?: string | null;
}

/** Input/output signature of a model version, as the exporter describes it. Free-form beyond these. */
export interface Signature {
  inputs?: Json;
  outputs?: Json;
  [key: string]: Json | undefined;
}

export interface ModelVersion {
  model: string;
  version: number;
  /** Unique id; the version's artifacts live under `models/<model>/versions/<id>/`. */
  id: string;
  /** The file, or for a directory artifact its manifest.json (see ArtifactManifest). */
  artifactUri: string;
  artifactLayout: 'file' | 'directory';
  /** sha256 of the file (or of the manifest). */
  sha256: string;
  /** Bytes of the file (or the sum of the directory's files). */
  size: number;
  format: ArtifactFormat;
  signature: Signature;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  status: VersionStatus;
  description: string;
  lineage: Required<Lineage>;
  createdBy: string;
  createdAt: Date;
}

/** The manifest.json of a directory artifact: every file, relative to the directory, with its checksum. */
export interface ArtifactManifest {
  layout: 'directory';
  files: { path: string; sha256: string; size: number }[];
}

/** How the serving policy picks actions: argmax (`greedy`) or sampling with logged probabilities. */
export interface Exploration {
  mode: 'greedy' | 'sample';
  /** Probability of a uniformly random discrete action (epsilon-greedy), in [0, 1]. */
  epsilon?: number;
  /** Softmax temperature when sampling, > 0. */
  temperature?: number;
}

/**
 * What the inference server serves for a model. There is one deployment per model, named like the
 * model (`deployment === model`). `canaryWeight` is a percentage of traffic in [0, 100].
 */
export interface Deployment {
  deployment: string;
  model: string;
  kind: DeploymentKind;
  championVersion: number | null;
  canaryVersion: number | null;
  canaryWeight: number;
  /** +1 on every change; starts at 1. */
  generation: number;
  exploration: Exploration;
  /** Static action served when no model can serve (null: none). */
  fallback: Json | null;
  config: JsonObject;
  updatedAt: Date;
}

export interface Alias {
  model: string;
  alias: string;
  version: number;
  updatedAt: Date;
}

export interface AuditEntry {
  id: number;
  time: Date;
  actor: string;
  action: string;
  entity: string;
  model: string | null;
  entityKey: string | null;
  before: Json | null;
  after: Json | null;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * What a run trained or watched: `ppo` (ppoTraining), `policy` (textPolicyTraining: Oumi SFT → DPO of
 * the text policy; the stored name predates the workflow's rename and rows keep it), `bandit-snapshot`
 * (banditSnapshot), `drift-monitor` (driftMonitor).
 */
export const RUN_KINDS = ['ppo', 'policy', 'bandit-snapshot', 'drift-monitor', 'tuning', 'experiment-design'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export interface Run {
  id: string;
  kind: RunKind;
  model: string | null;
  workflowId: string | null;
  status: RunStatus;
  config: JsonObject;
  summary: Json | null;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface RunMetric {
  step: number;
  name: string;
  value: number;
  time: Date;
}

export type EvaluationVerdict = 'pass' | 'fail' | 'inconclusive';

export interface Evaluation {
  id: string;
  model: string;
  version: number;
  kind: string;
  reportUri: string | null;
  verdict: EvaluationVerdict;
  summary: JsonObject;
  runId: string | null;
  time: Date;
}

/**
 * The JSON payload of every `NOTIFY autopilot_registry` (sent in the transaction of the change, so a
 * listener sees it only after commit, and only if it committed). Listeners should re-read what they
 * need: the payload says what changed, the tables say what is.
 */
export type RegistryNotification =
  | { entity: 'model'; action: 'model.create'; model: string }
  | {
      entity: 'version';
      action: 'version.register' | 'version.status';
      model: string;
      version: number;
      status: VersionStatus;
    }
  | { entity: 'alias'; action: 'alias.set' | 'alias.remove'; model: string; alias: string; version: number | null }
  | {
      entity: 'deployment';
      action: 'deployment.set';
      model: string;
      deployment: string;
      generation: number;
      championVersion: number | null;
      canaryVersion: number | null;
      canaryWeight: number;
    }
  | { entity: 'evaluation'; action: 'evaluation.record'; model: string; version: number; id: string; verdict: EvaluationVerdict }
  | { entity: 'audit'; action: string; model: string | null };
