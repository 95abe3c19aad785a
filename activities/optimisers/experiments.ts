/**
 * Activities of experimentDesign (R-USE-CASES, experiment design): settle the input, propose trials
 * with ml/bo (each proposal as a full policy config for a ppoTraining child), read the trials'
 * learning curves (`charts/episodic_return` per iteration, the ppo runs' metrics) and apply the
 * median stopping rule (ml/bo/early-stopping.ts), and write the experiment's report and run.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { MedianStoppingRule, proposeFromHistory, SearchSpace, type Config, type Parameter } from '../../ml/bo';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { JsonObject } from '../../registry/types';
import type { ExperimentActivities, ExperimentDesignInput, ExperimentProposal, ExperimentReport, ExperimentSetup } from '../../contracts/experiment-design';
import { parsePpoTrainingInput, resolveEffectiveConfig } from '../ppo/input';
import { chartSvg, type Series } from './svg';

function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'ExperimentInputError', nonRetryable: true });
}

export const DEFAULT_EXPERIMENT_SPACE: Parameter[] = [
  { name: 'ppo.learning_rate', type: 'continuous', low: 1e-4, high: 3e-3, log: true },
  { name: 'ppo.ent_coef', type: 'continuous', low: 0, high: 0.05 },
  { name: 'ppo.clip_coef', type: 'continuous', low: 0.1, high: 0.3 },
];

const PATH = /^(ppo\.[a-z_]+|policy\.reward_weights\.(alpha|beta|gamma|delta|lambda))$/;

/** A deep copy of `config` with the point's values set at their dotted paths. */
export function withPoint(config: Record<string, unknown>, point: Config): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  for (const [path, value] of Object.entries(point)) {
    const keys = path.split('.');
    let node = out;
    for (const k of keys.slice(0, -1)) {
      const child = node[k];
      node = (node[k] = child !== null && typeof child === 'object' && !Array.isArray(child) ? child : {}) as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value;
  }
  return out;
}

export function createExperimentActivities(deps: { pool: Pool; store: ArtifactStore }): ExperimentActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });

  /** Checks a trial's config the way ppoTraining's startRun will (so a bad proposal fails here, by name). */
  function checkTrialConfig(setup: Pick<ExperimentSetup, 'env' | 'iterations' | 'workers'>, config: Record<string, unknown>, what: string): void {
    try {
      resolveEffectiveConfig(parsePpoTrainingInput({ config, env: setup.env, iterations: setup.iterations, workers: setup.workers }));
    } catch (err) {
      throw inputError(`${what}: ${(err as Error).message}`);
    }
  }

  async function curves(runIds: string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const runId of runIds) {
      const rows = await registry.readRunMetrics(runId, ['charts/episodic_return']);
      out.set(runId, rows.sort((a, b) => a.step - b.step).map((r) => r.value));
    }
    return out;
  }

  return {
    async expStart({ input, workflowId }: { input: ExperimentDesignInput; workflowId: string }): Promise<ExperimentSetup> {
      const space = input.space ?? DEFAULT_EXPERIMENT_SPACE;
      if (!Array.isArray(space) || space.length === 0) throw inputError(`space: got ${JSON.stringify(input.space)}, expected a non-empty list of parameters`);
      for (const [i, p] of space.entries()) {
        if (typeof p?.name !== 'string' || !PATH.test(p.name)) throw inputError(`space[${i}].name: got ${JSON.stringify(p?.name)}, expected a policy config path: ppo.<hyperparameter> or policy.reward_weights.<alpha|beta|gamma|delta|lambda>`);
      }
      try {
        new SearchSpace(space);
      } catch (err) {
        throw inputError(`space: ${(err as Error).message}`);
      }
      const int = (field: string, v: unknown, fallback: number, min: number): number => {
        if (v === undefined || v === null) return fallback;
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw inputError(`${field}: got ${JSON.stringify(v)}, expected an integer >= ${min}`);
        return v;
      };
      const objective = input.objective ?? 'policyReward';
      if (!['policyReward', 'improvementVsBaseline', 'improvementVsBestStatic'].includes(objective)) throw inputError(`objective: got ${JSON.stringify(objective)}, expected policyReward, improvementVsBaseline or improvementVsBestStatic`);
      const rule = input.stopping?.rule ?? 'median';
      if (rule !== 'median' && rule !== 'none') throw inputError(`stopping.rule: got ${JSON.stringify(rule)}, expected "median" or "none"`);
      const config = input.config ?? {};
      if (config === null || typeof config !== 'object' || Array.isArray(config)) throw inputError(`config: got ${JSON.stringify(config)}, expected a policy config object`);
      const setup: ExperimentSetup = {
        runId: `experiment-design:${workflowId}`,
        workflowId,
        space,
        config,
        env: input.env ?? 'simulator',
        iterations: int('iterations', input.iterations, 10, 1),
        workers: int('workers', input.workers, 2, 1),
        trials: int('trials', input.trials, 12, 1),
        parallelism: int('parallelism', input.parallelism, 3, 1),
        seed: int('seed', input.seed, 0, 0),
        objective,
        stopping: {
          rule,
          gracePeriod: int('stopping.gracePeriod', input.stopping?.gracePeriod, 2, 1),
          minCompletedTrials: int('stopping.minCompletedTrials', input.stopping?.minCompletedTrials, 2, 1),
          checkSeconds: int('stopping.checkSeconds', input.stopping?.checkSeconds, 5, 1),
        },
        model: input.model ?? 'experiment',
        evaluation: input.evaluation ?? {},
        actor: input.actor ?? `workflow:${workflowId}`,
      };
      checkTrialConfig(setup, config, 'config');
      await registry.recordRun({ id: setup.runId, kind: 'experiment-design', model: setup.model, workflowId, config: setup as unknown as JsonObject });
      return setup;
    },

    async expPropose({ setup, trials, running, q }): Promise<ExperimentProposal[]> {
      const told = trials.filter((t) => t.value !== null).map((t) => ({ config: t.config, value: t.value as number, cost: 0 }));
      const configs = proposeFromHistory({ space: new SearchSpace(setup.space), seed: setup.seed, direction: 'maximize', initialDesign: Math.min(setup.trials, Math.max(3, setup.parallelism)) }, told, running, q);
      return configs.map((config) => {
        const policyConfig = withPoint(setup.config, config);
        checkTrialConfig(setup, policyConfig, `proposal ${JSON.stringify(config)}`);
        return { config, policyConfig };
      });
    },

    async expCheck({ setup, running, finished }): Promise<{ stop: number[] }> {
      const rule = new MedianStoppingRule({ direction: 'maximize', gracePeriod: setup.stopping.gracePeriod, minCompletedTrials: setup.stopping.minCompletedTrials });
      const all = await curves([...running, ...finished].map((t) => t.runId));
      const completed = finished.map((t) => all.get(t.runId)!).filter((c) => c.length > 0);
      return { stop: running.filter((t) => rule.shouldStop(all.get(t.runId)!, completed)).map((t) => t.index) };
    },

    async expReport({ setup, trials }): Promise<ExperimentReport> {
      const ordered = [...trials].sort((a, b) => a.index - b.index);
      const told = ordered.filter((t) => t.value !== null);
      let best = told[0];
      for (const t of told) if ((t.value as number) > (best.value as number)) best = t;
      const all = await curves(ordered.map((t) => t.runId));
      await registry.appendRunMetricRows(setup.runId, told.map((t) => ({ step: t.index, name: `experiment/${setup.objective}`, value: t.value as number })));
      const bestSoFar: number[] = [];
      for (const t of told) bestSoFar.push(Math.max(t.value as number, bestSoFar.length ? bestSoFar[bestSoFar.length - 1] : -Infinity));
      const x = told.map((t) => t.index + 1);
      const palette = ['#0969da', '#8250df', '#1a7f37', '#9a6700', '#cf222e', '#bf3989', '#0a3069', '#57606a'];
      const curveSeries: Series[] = ordered.map((t, i) => {
        const c = all.get(t.runId) ?? [];
        return { label: `trial ${t.index} (${t.status})`, x: c.map((_, k) => k + 1), y: c, color: palette[i % palette.length], dashed: t.status !== 'succeeded' };
      });
      const title = `experimentDesign ${setup.workflowId}`;
      const base = `experiments/${setup.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
      const [trialsPut, convergencePut, curvesPut] = await Promise.all([
        deps.store.put(`${base}/trials.json`, `${JSON.stringify({ setup, trials: ordered, curves: Object.fromEntries(all) }, null, 2)}\n`, { contentType: 'application/json' }),
        deps.store.put(`${base}/convergence.svg`, chartSvg(title, [{
          title: `best ${setup.objective} so far vs trials`, xLabel: 'trial', yLabel: setup.objective,
          series: [
            { label: 'best so far', x, y: bestSoFar, color: '#0969da', kind: 'step' },
            { label: 'each trial', x, y: told.map((t) => t.value as number), color: '#8250df', kind: 'points' },
          ],
        }]), { contentType: 'image/svg+xml' }),
        deps.store.put(`${base}/learning-curves.svg`, chartSvg(`${title}: learning curves (dashed: stopped early or failed)`, [{
          title: 'episodic return per iteration', xLabel: 'iteration', yLabel: 'charts/episodic_return', series: curveSeries,
        }]), { contentType: 'image/svg+xml' }),
      ]);
      const report: ExperimentReport = { best, trialsUri: trialsPut.uri, convergenceSvg: convergencePut.uri, learningCurvesSvg: curvesPut.uri };
      await registry.finishRun(setup.runId, {
        status: 'succeeded',
        summary: {
          best: { index: best.index, config: best.config, value: best.value, model: best.model, version: best.version },
          trials: ordered.length,
          stopped: ordered.filter((t) => t.status === 'stopped').length,
          failed: ordered.filter((t) => t.status === 'failed').length,
          trialsUri: report.trialsUri, convergenceSvg: report.convergenceSvg, learningCurvesSvg: report.learningCurvesSvg,
        } as JsonObject,
      });
      return report;
    },

    async expFail({ runId, error }): Promise<void> {
      await registry.finishRun(runId, { status: 'failed', error });
    },
  };
}
