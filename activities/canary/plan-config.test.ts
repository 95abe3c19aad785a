import { join } from 'node:path';
import { parse } from 'yaml';
import { canaryPlanSchema } from '../../canary/plan';
import { renderQuery } from '../../canary/promql';
import { DEFAULT_PLAN_FILE, defaultPlanText, loadCanaryPlan, validateCanaryPlan } from './plan-config';

describe('canary plan', () => {
  it('configs/canary/default.yaml spells out exactly the schema defaults', () => {
    expect(parse(defaultPlanText())).toEqual(canaryPlanSchema.parse({}));
    expect(loadCanaryPlan(DEFAULT_PLAN_FILE)).toEqual(validateCanaryPlan({}));
  });

  it('configs/canary/prometheus.yaml loads: its queries render, every webhook type it shows is there', () => {
    const plan = loadCanaryPlan(join(__dirname, '../../configs/canary/prometheus.yaml'));
    const queries = plan.metrics.filter((m) => m.query !== undefined);
    expect(queries.map((m) => [m.name, m.intervalMs])).toEqual([['v2_error_ratio', 600_000], ['decide_p99_seconds', 600_000]]);
    const p99 = renderQuery(queries[1].query!, { deployment: 'ranker', arm: 'canary', version: 7, intervalMs: queries[1].intervalMs! });
    expect(p99).toBe('histogram_quantile(0.99, sum by (le) (rate(autopilot_inference_request_duration_seconds_bucket{route="decide",model="ranker",version="7",arm="canary"}[10m])))');
    expect(plan.webhooks.map((w) => w.type)).toEqual(['confirm-rollout', 'rollback', 'confirm-promotion', 'post-rollout', 'event']);
  });
});
