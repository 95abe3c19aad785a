/**
 * Activities of the bandit workflows (banditSnapshot): read a bandit deployment's learner state from
 * Redis (the hash named by ml/bandits/state-key.ts), register it as a `json` version of the deployment's model
 * (hyperparameters + sufficient statistics: for lineage, rollback and OPE), and record cumulative
 * reward and regret estimates as run metrics.
 */
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { fieldsToStats } from '../../ml/bandits';
import { buildLearner, parseBanditConfig } from '../../ml/bandits/config';
import { stateKeyOf } from '../../ml/bandits/state-key';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { JsonObject } from '../../registry/types';
import type { BanditSnapshotActivities, BanditSnapshotStepInput, BanditSnapshotStepResult } from '../../contracts/bandit-snapshot';
import { activityRegistrationKey } from '../registration-key';
import { regretEstimate } from './regret';

export interface BanditActivityDeps {
  pool: Pool;
  store: ArtifactStore;
  /** A Redis client, or the settings to open one lazily (workers). */
  redis?: Redis;
  settings?: { redisUrl: string };
}

export type { BanditSnapshotStepInput, BanditSnapshotStepResult };

export function createBanditActivities(deps: BanditActivityDeps): BanditSnapshotActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  let redis = deps.redis ?? null;
  const client = (): Redis => {
    if (redis === null) {
      if (!deps.settings) throw new Error('bandit activities need a Redis client or settings.redisUrl');
      redis = new Redis(deps.settings.redisUrl, { maxRetriesPerRequest: 2 });
    }
    return redis;
  };

  return {
    /** Records the snapshot run (idempotent on retries: the id is derived from the workflow id). */
    async banditStartRun(input: { deployment: string; workflowId: string; config: JsonObject }): Promise<string> {
      const run = await registry.recordRun({ id: `bandit-snapshot:${input.workflowId}`, kind: 'bandit-snapshot', model: input.deployment, workflowId: input.workflowId, config: input.config });
      return run.id;
    },

    async banditSnapshotStep(input: BanditSnapshotStepInput): Promise<BanditSnapshotStepResult> {
      const d = await registry.findDeployment(input.deployment);
      if (d === null || d.kind !== 'bandit') throw new Error(`deployment ${input.deployment} is ${d === null ? 'not in the registry' : `of kind ${d.kind}, not bandit`}`);
      const config = parseBanditConfig(d.config, d.deployment);
      const learner = buildLearner(config);
      const fields = await client().hgetall(stateKeyOf(config.stateKey));
      const seq = fields.seq === undefined ? 0 : Number(fields.seq);
      delete fields.seq;
      const stats = fieldsToStats(learner.getStats().kind, learner.nArms, config.d, fields);
      learner.setStats(stats);
      const estimate = regretEstimate(stats.arms);
      let version: number | null = null;
      if (seq !== input.lastSeq && seq > 0) {
        const doc = { deployment: d.deployment, generation: d.generation, stateKey: config.stateKey, seq, arms: config.arms.map((a) => a.name), features: config.features, intercept: config.intercept, learner: learner.toJSON(), estimate };
        const v = await registry.registerVersion({
          model: d.model,
          artifact: { buffer: Buffer.from(JSON.stringify(doc)) },
          fileName: 'bandit-snapshot.json',
          format: 'json',
          signature: { kind: 'bandit-snapshot', learner: config.learnerKind, arms: config.arms.map((a) => a.name), features: config.features },
          metrics: { rounds: estimate.rounds, cumulative_reward: estimate.cumulativeReward, regret: estimate.regret, regret_ratio: estimate.regretRatio },
          tags: { seq: String(seq), stateKey: config.stateKey },
          lineage: { runId: input.runId, workflowId: input.workflowId ?? null },
          description: `bandit learner snapshot at seq ${seq}`,
          // One version per step of this workflow run, however many attempts the step takes.
          idempotencyKey: activityRegistrationKey((workflowRunId) => `banditSnapshotStep:${workflowRunId}:${input.step}`),
          actor: 'workflow:banditSnapshot',
        });
        version = v.version;
      }
      await registry.appendRunMetrics(input.runId, input.step, {
        'bandit/rounds': estimate.rounds,
        'bandit/cumulative_reward': estimate.cumulativeReward,
        'bandit/mean_reward': estimate.meanReward,
        'bandit/regret': estimate.regret,
        'bandit/regret_ratio': estimate.regretRatio,
        'bandit/seq': seq,
      });
      return { seq, version, estimate };
    },

    async banditFinishRun(input: { runId: string; summary: JsonObject }): Promise<void> {
      await registry.finishRun(input.runId, { status: 'succeeded', summary: input.summary });
    },
  };
}
