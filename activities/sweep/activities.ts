/**
 * Activities of the `sweep` workflow (task queue `training`):
 *   planSweep         validates the input, loads the base policy config (inline or the worker's file,
 *                     as ppoTraining does) and expands reward-weight grid × ablations into cells, each
 *                     with its own inline config (ablations: contracts/sweep.ts `ABLATIONS`; head
 *                     ablations are refused there with the reason).
 *   writeSweepReport  reads each child's registered version (held-out quality, cost, reward: the
 *                     metrics ppoTraining registers), marks the Pareto-optimal runs (quality ↑,
 *                     cost ↓; activities/ppo/pareto.ts), writes sweeps/<workflow id>/report.{csv,json,svg}
 *                     to the artifact store. (The children are registry runs; the sweep itself is
 *                     not, as the registry has no `sweep` run kind.)
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { ABLATIONS, UNSUPPORTED_HEAD_ABLATIONS, type Ablation, type SweepActivities, type SweepCell, type SweepInput, type SweepPlan, type SweepReport, type SweepRow } from '../../contracts/sweep';
import { parsePolicyConfig, type PolicyConfig } from '../../envs/config';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { chartSvg } from '../optimisers/svg';
import { paretoFrontier } from '../ppo/pareto';
import { parsePpoTrainingInput, resolveEffectiveConfig } from '../ppo/input';

export interface SweepDeps {
  pool: Pool;
  store: ArtifactStore;
}

const weight = (name: string) =>
  z.number({ error: (i) => `rewardWeights[].${name} must be a number ≥ 0, got ${JSON.stringify(i.input)}` }).min(0, { error: (i) => `rewardWeights[].${name} must be a number ≥ 0, got ${JSON.stringify(i.input)}` }).optional();


const gridSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: (i) => `name must be 1-64 letters, digits, ".", "_" or "-", got ${JSON.stringify(i.input)}` }).default('sweep'),
  rewardWeights: z
    .array(z.strictObject({ alpha: weight('alpha'), beta: weight('beta'), gamma: weight('gamma'), delta: weight('delta'), lambda: weight('lambda') }), {
      error: (i) => `rewardWeights must be a list of {alpha, beta, gamma, delta, lambda} overrides, got ${JSON.stringify(i.input)}`,
    })
    .min(1, { error: 'rewardWeights must have at least one entry ({} keeps the base weights)' })
    .default([{}]),
  ablations: z
    .array(
      z.enum(ABLATIONS, {
        error: (i) =>
          (UNSUPPORTED_HEAD_ABLATIONS as readonly unknown[]).includes(i.input)
            ? `ablations[] ${JSON.stringify(i.input)} is not supported yet: the trainer's action space needs every head to keep ≥ 2 choices (min < max), so removing a head needs support in envs/rag-env.ts and ml/rl; supported: ${ABLATIONS.join(', ')}`
            : `ablations[] must be one of ${ABLATIONS.join(', ')}, got ${JSON.stringify(i.input)}`,
      }),
    )
    .min(1, { error: 'ablations must have at least one entry (none: the full policy)' })
    .default(['none']),
  parallel: z.number().int().min(1, { error: (i) => `parallel must be an integer ≥ 1, got ${JSON.stringify(i.input)}` }).optional(),
});

/** Thrown for a bad sweep input (the workflow does not retry it). */
export class SweepInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepInputError';
  }
}

/** The base config with one cell's reward weights and ablation applied (validated again). */
export function cellConfig(base: PolicyConfig, weights: Partial<PolicyConfig['policy']['reward_weights']>, ablation: Ablation): PolicyConfig {
  const policy = structuredClone(base.policy);
  policy.reward_weights = { ...policy.reward_weights, ...weights };
  const environment = ablation === 'no-context' ? { ...base.environment, contextual: false } : base.environment;
  return parsePolicyConfig({ ...base, policy, environment }, `sweep cell (${ablation})`);
}

const label = (w: Record<string, number>, ablation: string, base: Record<string, number>) => {
  const changed = Object.entries(w).filter(([k, v]) => base[k] !== v).map(([k, v]) => `${k}=${v}`);
  return `${changed.length ? changed.join(',') : 'base-weights'}|${ablation}`;
};

export function createSweepActivities(deps: SweepDeps): SweepActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  return {
    async planSweep({ input, workflowId }: { input: SweepInput; workflowId: string }): Promise<SweepPlan> {
      const { rewardWeights, ablations, parallel, name, config, configPath, env, iterations, workers, seed, evaluation, timeouts, actor } = input;
      const grid = gridSchema.safeParse({ name, rewardWeights, ablations, parallel });
      if (!grid.success) throw new SweepInputError(`invalid sweep input:\n  - ${grid.error.issues.map((i) => i.message).join('\n  - ')}`);
      let base: PolicyConfig;
      let resolvedEnv: string;
      let resolvedSeed: number;
      try {
        const ppo = parsePpoTrainingInput({ config, configPath, env, iterations, workers, seed, evaluation, timeouts });
        const effective = resolveEffectiveConfig(ppo);
        base = effective.config;
        resolvedEnv = effective.env;
        resolvedSeed = effective.seed;
      } catch (err) {
        throw new SweepInputError((err as Error).message);
      }
      const cells: SweepCell[] = [];
      const seen = new Set<string>();
      for (const w of grid.data.rewardWeights) {
        for (const ablation of grid.data.ablations as Ablation[]) {
          const cfg = cellConfig(base, w, ablation);
          const l = label(cfg.policy.reward_weights, ablation, base.policy.reward_weights);
          if (seen.has(l)) throw new SweepInputError(`the grid has the cell ${l} twice (a repeated reward-weight entry or ablation)`);
          seen.add(l);
          const index = cells.length;
          cells.push({ index, label: l, rewardWeights: cfg.policy.reward_weights, ablation, model: `${grid.data.name}-${index}`, config: cfg });
        }
      }
      // Not recorded as a registry run: RUN_KINDS has no `sweep` kind (a registry migration, not this module's).
      return {
        workflowId,
        cells,
        env: resolvedEnv,
        iterations,
        workers,
        seed: resolvedSeed,
        evaluation,
        timeouts,
        parallel: grid.data.parallel ?? cells.length,
        actor: actor ?? `workflow:${workflowId}`,
      };
    },

    async writeSweepReport({ workflowId, cells, outcomes }): Promise<SweepReport> {
      const byIndex = new Map(outcomes.map((o) => [o.index, o]));
      const rows: SweepRow[] = [];
      for (const cell of cells) {
        const o = byIndex.get(cell.index);
        const row: SweepRow = {
          label: cell.label, ablation: cell.ablation, rewardWeights: cell.rewardWeights, model: cell.model, version: o?.version ?? null, childWorkflowId: o?.childWorkflowId ?? '',
          quality: null, costUsd: null, policyReward: null, baselineReward: null, improvementVsBaseline: null, latencyP95Ms: null, gateViolations: null, pareto: false,
          ...(o?.error ? { error: o.error } : o ? {} : { error: 'no outcome (the child never reported)' }),
        };
        if (o && o.version !== null) {
          const m = (await registry.getVersion(cell.model, o.version)).metrics;
          const get = (k: string) => (typeof m[k] === 'number' ? m[k] : null);
          Object.assign(row, {
            quality: get('quality'), costUsd: get('cost_usd'), policyReward: get('eval_reward'), baselineReward: get('baseline_reward'),
            improvementVsBaseline: get('improvement_vs_baseline'), latencyP95Ms: get('latency_p95_ms'), gateViolations: get('gate_violations'),
          });
        }
        rows.push(row);
      }
      const measured = rows.map((r, i) => ({ i, quality: r.quality ?? NaN, cost: r.costUsd ?? NaN }));
      const front = paretoFrontier(measured.map((p) => ({ quality: p.quality, cost: p.cost })));
      for (const i of front) rows[i].pareto = true;
      const pareto = front.map((i) => rows[i].label);

      const base = `sweeps/${workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
      const cols = ['label', 'ablation', 'alpha', 'beta', 'gamma', 'delta', 'lambda', 'model', 'version', 'quality', 'cost_usd', 'policy_reward', 'baseline_reward', 'improvement_vs_baseline', 'latency_p95_ms', 'gate_violations', 'pareto', 'error'];
      const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
      const csv = [cols.join(','), ...rows.map((r) => [r.label, r.ablation, r.rewardWeights.alpha, r.rewardWeights.beta, r.rewardWeights.gamma, r.rewardWeights.delta, r.rewardWeights.lambda, r.model, r.version, r.quality, r.costUsd, r.policyReward, r.baselineReward, r.improvementVsBaseline, r.latencyP95Ms, r.gateViolations, r.pareto, r.error].map(cell).join(','))].join('\n') + '\n';
      const ok = rows.filter((r) => r.quality !== null && r.costUsd !== null);
      const frontRows = front.map((i) => rows[i]);
      const svg = chartSvg(`sweep ${workflowId}: held-out quality vs cost per request (${rows.length} runs, ${frontRows.length} Pareto-optimal)`, [
        {
          title: `Pareto-optimal: ${pareto.join('; ') || 'none measured'}`,
          xLabel: 'cost per request (USD)',
          yLabel: 'quality (F + R) / 2',
          series: [
            { label: 'runs', x: ok.map((r) => r.costUsd!), y: ok.map((r) => r.quality!), color: '#9ca3af', kind: 'points' },
            { label: 'Pareto frontier', x: frontRows.map((r) => r.costUsd!), y: frontRows.map((r) => r.quality!), color: '#2563eb', kind: 'step' },
            { label: 'Pareto-optimal runs', x: frontRows.map((r) => r.costUsd!), y: frontRows.map((r) => r.quality!), color: '#2563eb', kind: 'points' },
          ],
        },
      ]);
      const [c, j, s] = await Promise.all([
        deps.store.put(`${base}/report.csv`, csv, { contentType: 'text/csv' }),
        deps.store.put(`${base}/report.json`, `${JSON.stringify({ workflowId, rows, pareto }, null, 2)}\n`, { contentType: 'application/json' }),
        deps.store.put(`${base}/pareto.svg`, svg, { contentType: 'image/svg+xml' }),
      ]);
      return { rows, pareto, uris: { csv: c.uri, json: j.uri, svg: s.uri } };
    },
  };
}
