/**
 * Names shared by workflows, workers and clients: task queues and search attributes. Imported by
 * workflow code, so it must stay free of Node built-ins and I/O.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** One Temporal task queue per kind of worker, so each can be placed on the right machines. */
export const TASK_QUEUES = {
  /** PPO rollouts/updates, registry and artifact activities, the stack check. */
  training: 'training',
  /** Oumi SFT/DPO runs: place these workers on GPU machines in production. */
  oumi: 'oumi',
  /** Canary promotion gates and off-policy evaluation jobs. */
  rollout: 'rollout',
} as const;
export type TaskQueue = (typeof TASK_QUEUES)[keyof typeof TASK_QUEUES];

/** Search attributes our workflows set so the Temporal UI can find runs by model, version, kind and phase. */
export const SEARCH_ATTRIBUTES = {
  model: defineSearchAttributeKey('AutopilotModel', SearchAttributeType.KEYWORD),
  version: defineSearchAttributeKey('AutopilotVersion', SearchAttributeType.INT),
  runKind: defineSearchAttributeKey('AutopilotRunKind', SearchAttributeType.KEYWORD),
  phase: defineSearchAttributeKey('AutopilotPhase', SearchAttributeType.KEYWORD),
  /** A canary started although the offline gates failed (training input `force`). */
  forced: defineSearchAttributeKey('AutopilotForced', SearchAttributeType.BOOL),
  /** Where a long-running workflow stands, e.g. the optimizationLoop's `cycle 3: canary`. */
  progress: defineSearchAttributeKey('AutopilotProgress', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` arguments for `temporal server start-dev`. */
export function searchAttributeCliArgs(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', TEXT: 'Text', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime' };
  return Object.values(SEARCH_ATTRIBUTES).flatMap((k) => ['--search-attribute', `${k.name}=${typeName[k.type.toUpperCase()] ?? k.type}`]);
}
