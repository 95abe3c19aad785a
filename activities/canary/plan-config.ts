/**
 * The canary plan as configuration: inline data (a workflow input's `plan`), YAML text, a plan file
 * (`--plan FILE`, the default plan shipped in configs/canary/) → a validated `CanaryPlan`, with the
 * project's config errors (file, path, line:column, value, expectation). The schema and the plan's
 * shape are pure and live in canary/plan.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig, parseConfig, validateConfig } from '../../config/load';
import { canaryPlanSchema, resolvePlan, type CanaryPlan } from '../../canary/plan';

/** Validates plan data (parsed YAML or a workflow input's inline plan); `source` names it in errors. */
export function validateCanaryPlan(data: unknown, source = 'plan'): CanaryPlan {
  return resolvePlan(validateConfig(canaryPlanSchema, data ?? {}, source));
}

/** Parses YAML text of a plan. */
export function parseCanaryPlan(text: string, file: string): CanaryPlan {
  return resolvePlan(parseConfig(canaryPlanSchema, text, file));
}

/** Reads and validates a plan file. */
export function loadCanaryPlan(file: string): CanaryPlan {
  return resolvePlan(loadConfig(canaryPlanSchema, file));
}

/** The default plan file shipped with the project. */
export const DEFAULT_PLAN_FILE = resolve(__dirname, '../../configs/canary/default.yaml');

/** The YAML text of the default plan (the CLI shows it with `canary plan`). */
export function defaultPlanText(): string {
  return readFileSync(DEFAULT_PLAN_FILE, 'utf8');
}
