/** The control-plane API's answers as the console reads them (api/schemas.ts; docs/openapi/api.json). */
export interface Reach {
  all: boolean;
  models: string[];
}
export interface WhoAmI {
  auth: boolean;
  keyId: string | null;
  read: Reach;
  admin: Reach;
}
export interface ModelSummary {
  name: string;
  description: string;
  latestVersion: number;
  createdAt: string;
  championVersion: number | null;
  canaryVersion: number | null;
  canaryWeight: number;
  generation: number | null;
}
export interface Alias {
  alias: string;
  version: number;
  updatedAt: string;
}
export interface Deployment {
  deployment: string;
  model: string;
  kind: string;
  championVersion: number | null;
  canaryVersion: number | null;
  canaryWeight: number;
  generation: number;
  exploration: { mode: string; epsilon?: number; temperature?: number };
  updatedAt: string;
}
export interface ModelDetail {
  model: { name: string; description: string; latestVersion: number; createdBy: string; createdAt: string };
  aliases: Alias[];
  deployment: Deployment | null;
}
export interface ModelVersion {
  model: string;
  version: number;
  artifactUri: string;
  sha256: string;
  size: number;
  format: string;
  metrics: Record<string, number>;
  tags: Record<string, string>;
  status: string;
  description: string;
  lineage: { runId: string | null; workflowId: string | null; configHash: string | null; codeCommit: string | null };
  createdBy: string;
  createdAt: string;
}
export interface AuditRow {
  id: number;
  time: string;
  actor: string;
  action: string;
  entity: string;
  model: string | null;
  entityKey: string | null;
  before: unknown;
  after: unknown;
  keyId: string | null;
}
export interface MetricValue {
  name: string;
  value: number | null;
  min?: number;
  max?: number;
  ok: boolean;
}
export interface CheckResult {
  outcome: 'pass' | 'fail' | 'inconclusive';
  breach: boolean;
  reasons: string[];
  at: string;
  samples: { champion: number; canary: number };
  metrics: MetricValue[];
  delta: { estimate: number; ci95: { lower: number; upper: number }; lower: number; upper: number; comparison: string } | null;
  decisionLook: boolean;
  phase?: string;
  canaryWeight?: number;
}
export interface CanaryStatus {
  model: string;
  version: number;
  championVersion: number | null;
  phase: string;
  canaryWeight: number;
  stepIndex: number;
  failedChecks: number;
  iterations: number;
  stepChecks: number;
  stepStartedAt: string | null;
  paused: boolean;
  promoted: boolean;
  lastChecks: CheckResult[];
  history: { at: string; event: string; detail: string }[];
  message: string;
}
export interface CanaryWorkflow {
  model: string;
  workflowId: string;
  runId: string | null;
  execution: string;
  status: CanaryStatus | null;
}
export interface Run {
  id: string;
  kind: string;
  model: string | null;
  workflowId: string | null;
  status: string;
  config: Record<string, unknown>;
  startedAt: string;
  finishedAt: string | null;
}
export interface RunMetrics {
  runId: string;
  steps: { step: number; time: string; metrics: Record<string, number> }[];
}
export interface Evaluation {
  id: string;
  model: string;
  version: number;
  kind: string;
  reportUri: string | null;
  verdict: 'pass' | 'fail' | 'inconclusive';
  summary: Record<string, unknown>;
  runId: string | null;
  time: string;
}
export interface DriftEvent {
  runId: string;
  model: string | null;
  workflowId: string | null;
  step: number;
  time: string;
  metrics: Record<string, number>;
}

/** GET /v1/deployments/:model/arms: requests and reward per arm over a window (decision log). */
export interface ArmStats {
  arm: string;
  version: number | null;
  requests: number;
  rewarded: number;
  reward: { mean: number; lower: number | null; upper: number | null } | null;
  latencyMs: number | null;
}
export interface DeploymentArms {
  deployment: string;
  window: string;
  from: string;
  to: string;
  arms: ArmStats[];
}

/** GET /v1/pareto: quality vs cost across runs. */
export interface ParetoPoint {
  runId: string;
  kind: string;
  workflowId: string | null;
  model: string;
  version: number;
  quality: number;
  costUsd: number;
  reward: number | null;
  latencyP95Ms: number | null;
  pareto: boolean;
}
export interface ParetoAnswer {
  points: ParetoPoint[];
  frontier: string[];
}
