/**
 * The canaryPromotion workflow's contract, shared by the workflow, its activities, the CLI and other
 * workflows that start or signal a canary: the workflow's input and id, its signals and query, and
 * the activities it calls (inputs, results, and the `CanaryActivities` interface the activity factory
 * is checked against). Types and constant names only; the canary's logic is in canary/.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CanaryPlan, CanaryPlanInput, WebhookType } from '../canary/plan';
import type { OpeEvaluationSummary, OpeGateResult } from '../canary/ope-gate';
import type { CanaryStatus, CheckResult, Comparison } from '../canary/status';

/** The workflow type name (other workflows start it as a child by this name). */
export const CANARY_WORKFLOW_TYPE = 'canaryPromotion';

/** The workflow's input: one plain JSON object (the Temporal UI's "Start workflow" form can fill it). */
export interface CanaryPromotionInput {
  model: string;
  version: number;
  /** The plan, inline (the CLI reads `--plan FILE` into this). Omitted fields take configs/canary/default.yaml's values. */
  plan?: CanaryPlanInput;
  /** Who started it, for the audit log. Default `workflow:canary/<model>`. */
  actor?: string;
  /**
   * Upsert the AutopilotModel/Version/RunKind/Phase search attributes (default true). Only for servers
   * where they are not registered, such as Temporal's time-skipping test server.
   */
  searchAttributes?: boolean;
}

export interface CanaryInitResult {
  plan: CanaryPlan;
  championVersion: number;
  generation: number;
}

/** `canary/<model>`: at most one canary per model runs at a time. */
export function canaryWorkflowId(model: string): string {
  return `canary/${model}`;
}

export interface SignalBy {
  /** Who sent it (recorded in the history), e.g. `cli:alice`. */
  by?: string;
}

/** Stop checking and changing weights (timers keep running; abort still works). */
export const pauseSignal = defineSignal<[SignalBy?]>('pause');
export const resumeSignal = defineSignal<[SignalBy?]>('resume');
/** Roll back now, in any phase (after the promotion too: the previous champion is restored). */
export const abortSignal = defineSignal<[SignalBy & { reason?: string }]>('abort');
/** Skip the remaining steps and promote (the skip is recorded). */
export const promoteSignal = defineSignal<[SignalBy?]>('promote');
export const statusQuery = defineQuery<CanaryStatus>('status');

export interface SetWeightInput {
  model: string;
  version: number;
  weight: number;
  actor: string;
  reason?: string;
}

export interface CheckInput {
  model: string;
  version: number;
  /** `canary` while progressing, `shadow` in the shadow stage. */
  arm: 'canary' | 'shadow';
  /** Start of the stage window (ISO); the window ends now. */
  from: string;
  comparison: Comparison;
  decisionLook: number;
  bakeMs: number;
  minSamples: number;
  plan: CanaryPlan;
}

export interface ShadowInput {
  model: string;
  version: number;
  /** true: mirror to `version`; false: stop mirroring to it (another shadow version is left alone). */
  on: boolean;
  actor: string;
  reason?: string;
}

export interface RollbackInput {
  model: string;
  version: number;
  reason: string;
  actor: string;
  /** The canary had been promoted: restore this champion. */
  restoreChampion?: number | null;
}

export interface WebhookInput {
  type: WebhookType;
  name: string;
  url: string;
  timeoutMs: number;
  payload: Record<string, unknown>;
  /** The plan's webhook metadata, sent as the payload's `metadata`. */
  metadata?: Record<string, string>;
}

/** What a webhook call gave (signed POST, allow-listed host, no redirects, bounded answer: activities/webhooks). */
export interface WebhookResult {
  /** A 2xx answer. */
  ok: boolean;
  status: number | null;
  ms: number;
  error: string | null;
}

export interface PromoteInput {
  model: string;
  version: number;
  actor: string;
  reason: string;
}

/** The canary's off-policy evaluation gate: judge the child evaluation's result and record it. */
export interface OpeGateInput {
  model: string;
  version: number;
  plan: CanaryPlan;
  /** The canary workflow (`<workflowId>/<runId>` is the evaluation row's run id). */
  workflowId: string;
  runId: string;
  /** The offPolicyEvaluation child workflow's id. */
  evaluationWorkflowId: string;
  window: { from: string; to: string };
  /** The child's result, or null when it failed (then `error` says why). */
  result: OpeEvaluationSummary | null;
  error: string | null;
  actor: string;
}

/** `<canary workflow id>/ope/<run id>`: the canary's offPolicyEvaluation child. */
export function canaryOpeWorkflowId(canaryWorkflowId: string, runId: string): string {
  return `${canaryWorkflowId}/ope/${runId}`;
}

/** The activities canaryPromotion calls (task queue `rollout`); `createCanaryActivities` implements them. */
export interface CanaryActivities {
  canaryInitialize(input: CanaryPromotionInput & { actor: string }): Promise<CanaryInitResult>;
  canarySetWeight(input: SetWeightInput): Promise<{ generation: number; changed: boolean }>;
  canaryShadow(input: ShadowInput): Promise<{ generation: number; changed: boolean }>;
  canaryCheck(input: CheckInput): Promise<CheckResult>;
  canaryRollback(input: RollbackInput): Promise<{ generation: number; restoredChampion: number | null }>;
  canaryPromote(input: PromoteInput): Promise<{ generation: number; previousChampion: number | null }>;
  canaryWebhook(input: WebhookInput): Promise<WebhookResult>;
  /** Applies canary/ope-gate.ts's rule and records the result as the version's evaluation of kind `canary-ope-gate`. */
  canaryOpeGate(input: OpeGateInput): Promise<OpeGateResult>;
}
