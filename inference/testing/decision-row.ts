/** A valid decision row numbered `i` (id, time and contents derived from it), for decision-log unit tests. */
import type { DecisionInput } from '../../decision-log';

export function testDecision(i: number, extra: Partial<DecisionInput> = {}): DecisionInput {
  return {
    decisionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    time: new Date(1_700_000_000_000 + i),
    deployment: 'ranker',
    model: 'ranker',
    version: 1,
    arm: 'champion',
    features: [i, i / 3],
    action: { k: i },
    propensity: 1,
    ...extra,
  };
}
