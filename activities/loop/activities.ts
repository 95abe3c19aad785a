/**
 * Activities of the optimizationLoop workflow (workflows/optimizationLoop.ts):
 *
 *   loopChampion       the deployment's champion now (rollout queue)
 *   loopSplitWindow    the time splitting a window's rewarded decisions into training and held-out parts
 *   loopRefit          the `refit` retrain (training queue): per-action ridge reward model on a dataset
 *                      snapshot's rewarded decisions, exported as softmax(β·q̂) ONNX (ml/rl/linear-softmax.ts)
 *                      and registered with the snapshot as its lineage; idempotent per cycle
 *   loopRejectVersion  a candidate the loop refused (offline gates, OPE gate, a person) becomes `rejected`
 *   loopRecordCycle    the cycle's summary row in `loop_cycles` (idempotent per loop and cycle)
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { readSnapshot } from '../../envs/evaluators/snapshot';
import { parsePolicySignature } from '../../ml/onnx/signature';
import { exportOnnx } from '../../ml/onnx/export';
import { linearSoftmaxPolicy, ridgePerAction } from '../../ml/rl/linear-softmax';
import { NotFoundError, Registry, registrationKey } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { Signature } from '../../registry/types';
import type { LoopActivities, LoopCycleSummary, RefitInput } from '../../contracts/optimization-loop';

export interface LoopDeps {
  pool: Pool;
  store: ArtifactStore;
}

function refused(message: string): never {
  throw ApplicationFailure.create({ type: 'LoopInputError', message, nonRetryable: true });
}

export function createLoopActivities(deps: LoopDeps): LoopActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  return {
    async loopChampion({ deployment }) {
      try {
        return { championVersion: (await registry.getDeployment(deployment)).championVersion };
      } catch (err) {
        // Not deployed (yet): nothing to improve on; the cycle is skipped and says so.
        if (err instanceof NotFoundError) return { championVersion: null };
        throw err;
      }
    },

    async loopSplitWindow({ deployment, from, to, holdout }) {
      if (holdout <= 0) return { split: to };
      const { rows } = await deps.pool.query(
        // The first floor(n·(1 − holdout)) rewarded decisions train; the rest, from `split` on, are held out.
        `WITH w AS (
           SELECT d.time, row_number() OVER (ORDER BY d.time) AS i, count(*) OVER () AS n
           FROM decisions d JOIN rewards r ON r.decision_id = d.decision_id
           WHERE d.deployment = $1 AND d.time >= $2 AND d.time < $3)
         SELECT min(time) AS split FROM w WHERE i > floor(n * $4::float8)`,
        [deployment, new Date(from), new Date(to), 1 - holdout],
      );
      const split = rows[0]?.split as Date | null;
      return { split: split ? split.toISOString() : to };
    },

    async loopRefit(input: RefitInput) {
      const champion = await registry.getVersion(input.deployment, input.championVersion);
      let signature;
      try {
        signature = parsePolicySignature(champion.signature);
      } catch (err) {
        refused(`refit: champion ${input.deployment} v${input.championVersion} has no policy signature (${(err as Error).message}); the refit retrain needs an ONNX policy`);
      }
      const head = signature.heads[0];
      if (signature.heads.length !== 1 || head.kind !== 'categorical') {
        refused(`refit: champion ${input.deployment} v${input.championVersion} has heads ${signature.heads.map((h) => `${h.name} (${h.kind})`).join(', ')}; the refit retrain needs exactly one categorical head (use retrain.kind ppo)`);
      }
      const d = signature.observation.size;
      const names = signature.observation.names;
      const { manifest, files } = readSnapshot(input.snapshotDir);
      const contexts = new Map<string, unknown>();
      for (const line of files['contexts.jsonl'].split('\n')) {
        if (line.trim() === '') continue;
        const c = JSON.parse(line);
        contexts.set(c.decision_id, c.features);
      }
      const xs: number[] = [], as: number[] = [], rs: number[] = [];
      let skipped = 0;
      for (const line of files['predictions.jsonl'].split('\n')) {
        if (line.trim() === '') continue;
        const p = JSON.parse(line);
        if (typeof p.reward !== 'number') continue;
        const a = head.choices.indexOf(p.action?.[head.name]);
        const f = contexts.get(p.decision_id);
        const x = Array.isArray(f) ? f : names && f && typeof f === 'object' ? names.map((n) => (f as Record<string, unknown>)[n]) : null;
        if (a < 0 || x === null || x.length !== d || !x.every((v) => typeof v === 'number' && Number.isFinite(v))) {
          skipped++;
          continue;
        }
        xs.push(...(x as number[]));
        as.push(a);
        rs.push(p.reward);
      }
      if (as.length === 0) refused(`refit: snapshot ${input.snapshotDir} has no rewarded decisions the champion's signature can read (${skipped} skipped: action ${head.name} not one of ${head.choices.join(', ')} or features not ${d} numbers)`);
      const theta = ridgePerAction(Float64Array.from(xs), Int32Array.from(as), Float64Array.from(rs), d, head.choices.length, input.ridge);
      const policy = linearSoftmaxPolicy(theta, d, head.name, head.choices, input.inverseTemperature);
      const exported = exportOnnx(policy, { graphName: input.deployment, ...(names ? { observationNames: names } : {}) });
      const v = await registry.registerVersion({
        model: input.deployment,
        artifact: { buffer: Buffer.from(exported.model) },
        format: 'onnx',
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature,
        description: `refit on ${as.length} rewarded decisions of ${manifest.window.from} → ${manifest.window.to} (ridge ${input.ridge}, inverse temperature ${input.inverseTemperature})`,
        metrics: { rounds: as.length, skipped },
        tags: { trainer: 'loop-refit' },
        lineage: {
          workflowId: input.workflowId,
          datasetManifest: { dir: input.snapshotDir, ...manifest, ...(input.dataset ? { dataset: input.dataset } : {}) } as never,
        },
        idempotencyKey: registrationKey(input.workflowId, 'loopRefit'),
        actor: input.actor,
      });
      return { model: v.model, version: v.version, rounds: as.length };
    },

    async loopRejectVersion({ model, version, reason, actor }) {
      const v = await registry.getVersion(model, version);
      if (v.status === 'rejected') return;
      await registry.setVersionStatus({ model, version, status: 'rejected', actor, reason });
    },

    async loopRecordCycle(c: LoopCycleSummary) {
      await deps.pool.query(
        `INSERT INTO loop_cycles (loop_id, workflow_id, deployment, cycle, trigger, trigger_by, trigger_reason, outcome, stage, reasons,
           window_from, window_to, holdout_from, champion_version, candidate_version, dataset, ope, canary, stages, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb, $18::jsonb, $19::jsonb, $20, $21)
         ON CONFLICT (loop_id, cycle) DO NOTHING`,
        [
          c.loopId, c.workflowId, c.deployment, c.cycle, c.trigger.kind, c.trigger.by, c.trigger.reason, c.outcome, c.stage, JSON.stringify(c.reasons),
          c.window.from, c.window.to, c.holdoutFrom, c.championVersion, c.candidateVersion, JSON.stringify(c.dataset), JSON.stringify(c.ope), JSON.stringify(c.canary), JSON.stringify(c.stages),
          c.startedAt, c.finishedAt ?? new Date().toISOString(),
        ],
      );
    },
  };
}
