/**
 * The reviewing rule the synthetic labels follow: the judgement an experienced on-call engineer makes of a
 * proposed remediation. A decision is good when every action fits the primary anomaly and none is
 * unsafe to run unattended. The generator labels with it (then adds label noise); tests and the
 * evaluation use it to explain labels. Pure.
 */
import type { ActionType, DecisionInput, ProposedAction } from './decision';

export interface Judgement {
  good: boolean;
  /** One short sentence: why it fits, or the first rule it breaks. */
  reason: string;
}

/** Below this confidence, an automated action should not run unattended. */
export const MIN_CONFIDENCE = 0.4;
/** Actions that are risky to auto-approve when the analysis rates the risk high. */
const RISKY_WHEN_AUTO: ReadonlySet<ActionType> = new Set(['rollback', 'failover', 'scale_down']);

/** Whether one action fits the snapshot, ignoring confidence and approval; with the reason. */
export function actionFits(input: DecisionInput, type: ActionType): Judgement {
  const primary = input.anomalies[0];
  const { kind, severity } = primary;
  const { recent_deploy: recentDeploy, blast_radius: blast, risk_level: risk } = input.analysis;
  const severe = severity === 'high' || severity === 'critical';
  switch (type) {
    case 'rollback':
      if (!recentDeploy) return { good: false, reason: 'rollback with no recent deploy has nothing to revert' };
      if (kind === 'error_rate' || kind === 'latency_spike' || kind === 'memory_leak') return { good: true, reason: `rollback reverts the deploy behind the ${kind}` };
      return { good: false, reason: `rollback does not address ${kind}` };
    case 'restart':
      if (blast === 'multi_service') return { good: false, reason: 'restart across several services is too disruptive' };
      if (kind === 'memory_leak' || kind === 'latency_spike' || (kind === 'error_rate' && !recentDeploy)) return { good: true, reason: `restart clears the ${kind}` };
      return { good: false, reason: `restart does not address ${kind}` };
    case 'scale_up':
      if (kind === 'cpu_saturation' || kind === 'traffic_surge' || kind === 'latency_spike') return { good: true, reason: `scale_up adds capacity for the ${kind}` };
      return { good: false, reason: `scale_up does not address ${kind}` };
    case 'scale_down':
      if (kind === 'traffic_drop' && !severe) return { good: true, reason: 'scale_down follows the traffic_drop' };
      return { good: false, reason: kind === 'traffic_drop' ? 'scale_down during a severe traffic_drop risks an outage' : `scale_down does not address ${kind}` };
    case 'clear_cache':
      if (kind === 'stale_cache') return { good: true, reason: 'clear_cache removes the stale entries' };
      return { good: false, reason: `clear_cache does not address ${kind}` };
    case 'failover':
      if (kind === 'dependency_outage' && severe) return { good: true, reason: 'failover routes around the dependency_outage' };
      return { good: false, reason: kind === 'dependency_outage' ? 'failover is too drastic for a minor dependency issue' : `failover does not address ${kind}` };
    case 'page_oncall':
      if (severe || risk === 'high' || kind === 'disk_pressure') return { good: true, reason: `paging on-call fits a ${severity} ${kind}` };
      return { good: false, reason: `paging on-call for a ${severity} ${kind} is noise` };
    case 'noop':
      if (severity === 'low') return { good: true, reason: `no action is right for a low ${kind}` };
      return { good: false, reason: `doing nothing about a ${severity} ${kind} misses it` };
  }
}

/** Judges a whole decision: every action must fit, be confident enough, and be safe to auto-approve. */
export function judge(input: DecisionInput, actions: readonly ProposedAction[]): Judgement {
  const reasons: string[] = [];
  for (const action of actions) {
    const fit = actionFits(input, action.type);
    if (!fit.good) return fit;
    if (action.confidence < MIN_CONFIDENCE) {
      return { good: false, reason: `${action.type} confidence ${action.confidence.toFixed(2)} is too low to act on` };
    }
    if (action.auto_approved && input.analysis.risk_level === 'high' && RISKY_WHEN_AUTO.has(action.type)) {
      return { good: false, reason: `${action.type} must not be auto-approved at high risk` };
    }
    reasons.push(fit.reason);
  }
  return { good: true, reason: reasons.join('; ') };
}
