import { parse } from 'yaml';
import { canaryPlanSchema } from '../../canary/plan';
import { DEFAULT_PLAN_FILE, defaultPlanText, loadCanaryPlan, validateCanaryPlan } from './plan-config';

describe('canary plan', () => {
  it('configs/canary/default.yaml spells out exactly the schema defaults', () => {
    expect(parse(defaultPlanText())).toEqual(canaryPlanSchema.parse({}));
    expect(loadCanaryPlan(DEFAULT_PLAN_FILE)).toEqual(validateCanaryPlan({}));
  });
});
