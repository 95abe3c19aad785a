import type { DecisionInput, ProposedAction } from './decision';
import { judge } from './judge';

const input = (over: Partial<DecisionInput['analysis']> & { kind?: any; severity?: any } = {}): DecisionInput => ({
  snapshot_id: 's', service: 'checkout', environment: 'prod',
  anomalies: [{ kind: over.kind ?? 'error_rate', severity: over.severity ?? 'high', metrics: {} }],
  analysis: { root_cause: 'x', recent_deploy: over.recent_deploy ?? true, blast_radius: over.blast_radius ?? 'service', risk_level: over.risk_level ?? 'medium' },
});
const act = (type: any, over: Partial<ProposedAction> = {}): ProposedAction => ({ id: '0', type, confidence: 0.9, auto_approved: false, reasoning: '', ...over });

describe('the reviewing rule', () => {
  it.each([
    ['rollback after a deploy with errors', input(), [act('rollback')], true],
    ['rollback with no recent deploy', input({ recent_deploy: false }), [act('rollback')], false],
    ['rollback auto-approved at high risk', input({ risk_level: 'high' }), [act('rollback', { auto_approved: true })], false],
    ['a fitting action at low confidence', input(), [act('rollback', { confidence: 0.3 })], false],
    ['scale_up for a traffic surge', input({ kind: 'traffic_surge' }), [act('scale_up')], true],
    ['scale_down in a critical traffic drop', input({ kind: 'traffic_drop', severity: 'critical' }), [act('scale_down')], false],
    ['paging on-call for a low anomaly at low risk', input({ severity: 'low', risk_level: 'low' }), [act('page_oncall')], false],
    ['one bad action spoils the decision', input({ kind: 'stale_cache' }), [act('clear_cache'), act('failover')], false],
    ['noop for a low anomaly', input({ severity: 'low' }), [act('noop')], true],
  ])('%s', (_name, snapshot, actions, good) => {
    const judgement = judge(snapshot, actions);
    expect(judgement.good).toBe(good);
    expect(judgement.reason.length).toBeGreaterThan(5);
  });
});
