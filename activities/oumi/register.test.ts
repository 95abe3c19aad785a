import type { PolicyMetrics } from '../../contracts/text-policy-training';
import { evaluationMetrics } from './register';

const gate = (passed: boolean) => ({ value: 0, target: '', passed });

describe('evaluationMetrics', () => {
  it('prefixes every figure of one evaluation, with the confusion matrix and each gate as 0/1', () => {
    const m: PolicyMetrics = {
      n: 100, accuracy: 0.82, fpr: 0.25, fnr: null, override_rate: 0.19, approve_rate: 0.6, mean_p_approve: 0.55,
      confusion: { tp: 50, fp: 10, tn: 32, fn: 8 },
      gates: { accuracy: gate(false), fpr: gate(false), fnr: gate(true), override_rate: gate(false) },
      passed: false, threshold: 0.5, seconds: 3,
    };
    expect(evaluationMetrics('dpo', m)).toEqual({
      dpo_n: 100, dpo_accuracy: 0.82, dpo_fpr: 0.25, dpo_override_rate: 0.19, dpo_approve_rate: 0.6,
      dpo_tp: 50, dpo_fp: 10, dpo_tn: 32, dpo_fn: 8, dpo_gates_passed: 0,
      dpo_gate_accuracy_passed: 0, dpo_gate_fpr_passed: 0, dpo_gate_fnr_passed: 1, dpo_gate_override_rate_passed: 0,
    });
  });
});
