/** Bandit learners: construction from plain JSON and the public names. */
export * from './types';
export { LinUCB, type LinUCBConfig } from './linucb';
export { LinearThompsonSampling, type LinTSConfig } from './lints';
export { BetaThompsonSampling, type BetaTSConfig } from './beta-ts';
export { GaussianThompsonSampling, type GaussianTSConfig, type NormalGammaPosterior } from './gaussian-ts';
export { EpsilonGreedy, Softmax, softmax, type EpsilonGreedyConfig, type SoftmaxConfig } from './exploration';
export {
  metaWarmStart, nearestSnapshots, snapshotFromStats, snapshotMoments, UncertaintyEpsilon,
  type DeploymentSnapshot, type MetaWarmStart, type MetaWarmStartOptions, type TaskFeatures, type UncertaintyEpsilonConfig,
} from './meta-exploration';
export { costAwareReward, dominates, paretoFrontier, type QualityCost } from './cost-aware';

import { BetaThompsonSampling } from './beta-ts';
import { EpsilonGreedy, Softmax } from './exploration';
import { GaussianThompsonSampling } from './gaussian-ts';
import { LinearThompsonSampling } from './lints';
import { LinUCB } from './linucb';
import { UncertaintyEpsilon } from './meta-exploration';
import type { BanditPolicy } from './types';

/**
 * Rebuilds a learner (wrappers included) from its `toJSON()` form, e.g.
 * `{ kind: 'epsilon-greedy', config: { epsilon: 0.05 }, base: { kind: 'linucb', config, stats } }`.
 * `stats` may be omitted (a fresh learner).
 */
export function learnerFromJSON(json: unknown, path = 'learner'): BanditPolicy {
  if (!json || typeof json !== 'object') throw new Error(`${path} must be an object with a kind, got ${JSON.stringify(json)}`);
  const j = json as { kind?: unknown; config?: any; stats?: any; base?: unknown };
  const withStats = <T extends BanditPolicy>(l: T): T => {
    if (j.stats !== undefined) l.setStats(j.stats);
    return l;
  };
  switch (j.kind) {
    case 'linucb': return withStats(new LinUCB(j.config ?? {}));
    case 'lints': return withStats(new LinearThompsonSampling(j.config ?? {}));
    case 'beta-ts': return withStats(new BetaThompsonSampling(j.config ?? {}));
    case 'gaussian-ts': return withStats(new GaussianThompsonSampling(j.config ?? {}));
    case 'epsilon-greedy': return new EpsilonGreedy(learnerFromJSON(j.base, `${path}.base`), j.config ?? {});
    case 'softmax': return new Softmax(learnerFromJSON(j.base, `${path}.base`), j.config ?? {});
    case 'uncertainty-epsilon': return new UncertaintyEpsilon(learnerFromJSON(j.base, `${path}.base`), j.config ?? {});
    default:
      throw new Error(`${path}.kind must be one of linucb, lints, beta-ts, gaussian-ts, epsilon-greedy, softmax, uncertainty-epsilon; got ${JSON.stringify(j.kind)}`);
  }
}
export { deltaToFields, fieldsToStats, statsToFields, sumDeltas } from './flat-stats';
