/**
 * Canary plan files on disk: the default plan shipped in configs/canary/ and `--plan FILE` of the
 * CLI. The plan's schema and validation are pure and live in canary/plan.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/load';
import { canaryPlanSchema, resolvePlan, type CanaryPlan } from '../../canary/plan';

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
