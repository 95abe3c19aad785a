/**
 * The served kind `bandit`: a learner per deployment (config: ml/bandits/config.ts) whose statistics
 * every server instance shares in Redis. Loading parses the config (a bad one keeps the previous
 * deployment serving) and reads the shared state; decide is ./decide.ts, and this kind settles the
 * rewards of its decisions itself (./rewards.ts): the learner learns from them.
 */
import type { Redis } from 'ioredis';
import { buildLearner, type BanditConfig } from '../../ml/bandits/config';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { Rng } from '../../ml/rng';
import type { Deployment } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import type { FeatureStore } from '../features';
import type { ComputedFeatures } from '../computed-features';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { PolicyBinding } from '../policy/binding';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { breakerKey, RoutingBreaker } from './breaker';
import { ClaimBatcher } from './claims';
import { decideBandit, type BanditDecideDeps } from './decide';
import { BanditDeployment, type BanditOwner } from './deployment';
import { BanditRewards } from './rewards';
import type { RewardLog } from './reward-log';
import { SharedLearner } from './shared-state';

export interface BanditKindOptions {
  map: DeploymentMap;
  redis: Redis;
  decisionLog: DecisionLog;
  rewardLog: RewardLog;
  metrics: InferenceMetrics;
  rng: Rng;
  /** The online feature store `{ entity }` contexts are read from (the server's, with its freshness metric). */
  featureStore: FeatureStore | null;
  featurePrefix: string;
  /** Feature sets computed from a raw request (inference/computed-features.ts). */
  computed?: ComputedFeatures | null;
  refreshIntervalMs?: number;
  /** How long each shared learner lets increments accumulate after a flush (default 50 ms). */
  flushIntervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export class BanditKind implements ServedKind, BanditOwner {
  readonly rewards: BanditRewards;
  private readonly decideDeps: BanditDecideDeps;
  /** Configs refused (each keeps the previous deployment serving, if any). */
  applyFailures = 0;
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly opts: BanditKindOptions) {
    this.decideDeps = { redis: opts.redis, decisionLog: opts.decisionLog, metrics: opts.metrics, rng: opts.rng, featureStore: opts.featureStore, featurePrefix: opts.featurePrefix, computed: opts.computed ?? null };
    this.rewards = new BanditRewards({ map: opts.map, claims: new ClaimBatcher(opts.redis), rewardLog: opts.rewardLog, metrics: opts.metrics, log: opts.log });
  }

  decide(s: BanditDeployment, body: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    return decideBandit(this.decideDeps, s, body, ctx);
  }

  /** Serves (or re-configures) a bandit deployment. A bad config keeps the previous one serving. */
  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof BanditDeployment ? current : undefined;
    const configJson = JSON.stringify(d.config);
    if (cur !== undefined && cur.configJson === configJson) {
      cur.generation = d.generation;
      return cur;
    }
    let config: BanditConfig;
    try {
      config = parseDeploymentConfig('bandit', d.config, d.deployment);
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `bandit deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return cur ?? null;
    }
    const learner = buildLearner(config);
    const shared = new SharedLearner({
      redis: this.opts.redis,
      stateKey: config.stateKey,
      learner,
      statsKind: learner.getStats().kind,
      d: config.d,
      refreshIntervalMs: this.opts.refreshIntervalMs,
      flushIntervalMs: this.opts.flushIntervalMs,
      onError: (m) => this.opts.log?.('warn', m),
      onPoison: (letter) => {
        this.opts.metrics.rewardsDeadLettered.labels(letter.stateKey).inc(letter.observations);
        this.opts.rewardLog.deadLetters.add(letter);
      },
    });
    try {
      await shared.start();
    } catch (err) {
      this.opts.log?.('warn', `bandit deployment ${d.deployment}: cannot read the shared state ${shared.key} (${(err as Error).message}); starting from the prior, refreshing in the background`);
    }
    const binding: PolicyBinding | null = config.features.length > 0 ? { input: { name: 'context', size: config.features.length, features: config.features }, policy: null, outputs: [] } : null;
    this.opts.log?.('info', `bandit deployment ${d.deployment}: ${config.learnerKind}${config.exploration.kind === 'none' ? '' : ` + ${config.exploration.kind}`}, ${config.arms.length} arms, d = ${config.d}, state ${shared.key} (seq ${shared.seq})${config.circuitBreaker === null ? '' : `, circuit breakers in ${breakerKey(config.stateKey)}`}`);
    const breaker = config.circuitBreaker === null ? null : new RoutingBreaker(this.opts.redis, config.stateKey, config.circuitBreaker, config.arms.map((a) => a.name), this.opts.log);
    return new BanditDeployment(this, d.deployment, d.model, d.generation, config, configJson, shared, binding, breaker);
  }

  /** A deployment left the map: its learner flushes its last increments (awaited by `close`). */
  released(s: BanditDeployment): void {
    const p = s.shared.close();
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
  }

  /** Flushes every learner's last increments (those still served, and those leaving). */
  async close(): Promise<void> {
    const served: Promise<void>[] = [];
    for (const s of this.opts.map.values()) if (s instanceof BanditDeployment) served.push(s.shared.close());
    await Promise.all([...served, ...this.closing]);
  }
}
