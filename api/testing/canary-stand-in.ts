/**
 * Stand-in activities for the real canaryPromotion workflow in the API's and the console's integration
 * tests (as in workflows/canaryPromotion.int.test.ts): the API only starts, signals and queries the
 * workflow, so its activities answer at once and record the rollbacks. With a plan whose checkInterval is
 * an hour the canary stays at its first step while a test drives it.
 */
import { validateCanaryPlan } from '../../activities/canary/plan-config';
import type { CanaryActivities, RollbackInput } from '../../contracts/canary';

export function standInCanaryActivities(rollbacks: RollbackInput[]): CanaryActivities {
  return {
    async canaryInitialize(input) {
      return { plan: validateCanaryPlan(input.plan ?? {}, 'input.plan'), championVersion: 1, generation: 2 };
    },
    async canarySetWeight() {
      return { generation: 3, changed: true };
    },
    async canaryShadow() {
      return { generation: 3, changed: false };
    },
    async canaryCheck() {
      throw new Error('no check is due within the test (checkInterval 1h)');
    },
    async canaryRollback(input) {
      rollbacks.push(input);
      return { generation: 4, restoredChampion: null };
    },
    async canaryPromote() {
      return { generation: 5, previousChampion: 1 };
    },
    async canaryWebhook() {
      return { ok: true, status: 200, ms: 1, error: null };
    },
  };
}
