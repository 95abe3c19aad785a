/**
 * Activities of parameterTuning (R-USE-CASES, parameter tuning): settle the input, propose configs
 * with ml/bo, evaluate one config on the seed-002 objective (the simulator or `POST /tuner/evaluate`),
 * write the trial history as a run with its convergence and partial-dependence plots, and write the
 * best config to a deployment.
 *
 * The objective of a config is its mean seed-002 reward (envs/reward.ts) over `batchesPerEvaluation`
 * batches whose categories follow the dataset's mix. Every config is evaluated on the same batch seeds
 * (common random numbers), so two configs differ by what they are, not by which questions they drew.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { BayesianOptimizer, ExpectedImprovement, partialDependence, proposeFromHistory, SearchSpace, UpperConfidenceBound, type BayesianOptimizerOptions, type Config, type Parameter } from '../../ml/bo';
import { computeReward, defaultPolicyConfig, evaluatorFromSpec, getDataset, type Evaluator, type PolicyConfig, type RagConfig } from '../../envs';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { JsonObject } from '../../registry/types';
import type { ApplyTarget, ParameterTuningInput, ParameterTuningResult, TuningActivities, TuningReport, TuningSetup, TuningTrial } from '../../contracts/parameter-tuning';
import { chartSvg, type Panel } from './svg';

export const RAG_FIELDS = ['variant', 'k', 'rerank', 'fusion_weight', 'prompt_id'] as const;

function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'TuningInputError', nonRetryable: true });
}

/** The search space over every RAG config field, from the policy config's bounds and choices. */
export function defaultRagSpace(policy: PolicyConfig['policy']): Parameter[] {
  return [
    { name: 'variant', type: 'categorical', choices: [...policy.discrete.variant] },
    { name: 'k', type: 'integer', low: policy.bounds.k.min, high: policy.bounds.k.max },
    { name: 'rerank', type: 'categorical', choices: ['off', 'on'] },
    { name: 'fusion_weight', type: 'continuous', low: policy.bounds.fusion_weight.min, high: policy.bounds.fusion_weight.max },
    { name: 'prompt_id', type: 'categorical', choices: [...policy.discrete.prompt_id] },
  ];
}

/** The policy config's baseline as a point of the space (rerank as 'on'/'off'). */
export function baselinePoint(policy: PolicyConfig['policy'], space: readonly Parameter[]): Config {
  const b = policy.baseline;
  const all: Config = { variant: b.variant, k: b.k, rerank: b.rerank ? 'on' : 'off', fusion_weight: b.fusion_weight, prompt_id: b.prompt_id };
  return Object.fromEntries(space.map((p) => [p.name, all[p.name]]));
}

/** The RAG config a point stands for: the baseline with the point's fields set. */
export function toRagConfig(policy: PolicyConfig['policy'], config: Config): RagConfig {
  const b = policy.baseline;
  const rerank = config.rerank === undefined ? b.rerank : config.rerank === 'on' || config.rerank === 1 || config.rerank === 'true';
  return {
    variant: (config.variant ?? b.variant) as RagConfig['variant'],
    k: Number(config.k ?? b.k),
    rerank,
    fusion_weight: Number(config.fusion_weight ?? b.fusion_weight),
    prompt_id: String(config.prompt_id ?? b.prompt_id),
  };
}

/** Categories of `batches` batches following a mix: batch b takes the category whose cumulative share covers (b + ½)/batches. */
export function batchCategories(mix: Record<string, number>, batches: number): string[] {
  const entries = Object.entries(mix);
  return Array.from({ length: batches }, (_, b) => {
    const u = (b + 0.5) / batches;
    let acc = 0;
    for (const [category, share] of entries) {
      acc += share;
      if (u < acc) return category;
    }
    return entries[entries.length - 1][0];
  });
}

function optimizerOptions(setup: TuningSetup): BayesianOptimizerOptions {
  return {
    space: new SearchSpace(setup.space),
    seed: setup.seed,
    direction: 'maximize',
    acquisition: setup.acquisition === 'ucb' ? new UpperConfidenceBound() : new ExpectedImprovement(),
    initialDesign: setup.initialDesign,
    budget: { evaluations: setup.budget.evaluations, ...(setup.budget.costUsd !== null ? { cost: setup.budget.costUsd } : {}) },
  };
}

/** Whether a point lies in the space (the baseline may lie outside a narrowed space). */
function inSpace(space: readonly Parameter[], config: Config): boolean {
  return space.every((p) => {
    const v = config[p.name];
    if (p.type === 'categorical') return p.choices.includes(v);
    return typeof v === 'number' && v >= p.low && v <= p.high;
  });
}

export function createTuningActivities(deps: { pool: Pool; store: ArtifactStore }): TuningActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  const policyConfig = defaultPolicyConfig();
  const evaluators = new Map<string, Evaluator>();
  const evaluatorFor = (spec: string) => {
    let e = evaluators.get(spec);
    if (!e) evaluators.set(spec, (e = evaluatorFromSpec(spec)));
    return e;
  };
  const prefix = (setup: TuningSetup) => `tuning/${setup.workflowId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;

  return {
    async tuningStart({ input, workflowId }: { input: ParameterTuningInput; workflowId: string }): Promise<TuningSetup> {
      const policy = policyConfig.policy;
      const space = input.space ?? defaultRagSpace(policy);
      if (!Array.isArray(space) || space.length === 0) throw inputError(`space: got ${JSON.stringify(input.space)}, expected a non-empty list of parameters`);
      for (const [i, p] of space.entries()) {
        if (!(RAG_FIELDS as readonly string[]).includes(p?.name)) throw inputError(`space[${i}].name: got ${JSON.stringify(p?.name)}, expected one of ${RAG_FIELDS.join(', ')} (the fields the evaluator sets)`);
      }
      let searchSpace: SearchSpace;
      try {
        searchSpace = new SearchSpace(space);
      } catch (err) {
        throw inputError(`space: ${(err as Error).message}`);
      }
      const objective = input.objective ?? 'simulator';
      try {
        evaluatorFor(objective);
      } catch (err) {
        throw inputError(`objective: ${(err as Error).message}`);
      }
      const dataset = input.dataset ?? policyConfig.environment.datasets[0];
      try {
        getDataset(dataset);
      } catch (err) {
        throw inputError(`dataset: ${(err as Error).message}`);
      }
      const int = (field: string, v: unknown, fallback: number, min: number): number => {
        if (v === undefined || v === null) return fallback;
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw inputError(`${field}: got ${JSON.stringify(v)}, expected an integer >= ${min}`);
        return v;
      };
      const costUsd = input.budget?.costUsd ?? null;
      if (costUsd !== null && !(typeof costUsd === 'number' && costUsd > 0)) throw inputError(`budget.costUsd: got ${JSON.stringify(costUsd)}, expected a number > 0 (USD)`);
      const acquisition = input.acquisition ?? 'ei';
      if (acquisition !== 'ei' && acquisition !== 'ucb') throw inputError(`acquisition: got ${JSON.stringify(acquisition)}, expected "ei" or "ucb"`);
      const applyTo = input.applyTo ?? null;
      if (applyTo) {
        if (typeof applyTo.deployment !== 'string' || applyTo.deployment === '') throw inputError(`applyTo.deployment: got ${JSON.stringify(applyTo.deployment)}, expected a deployment name`);
        if (applyTo.as !== undefined && applyTo.as !== 'fallback' && applyTo.as !== 'bandit-arm') throw inputError(`applyTo.as: got ${JSON.stringify(applyTo.as)}, expected "fallback" or "bandit-arm"`);
        await registry.getDeployment(applyTo.deployment).catch((err: Error) => { throw inputError(`applyTo.deployment: ${err.message}`); });
      }
      const setup: TuningSetup = {
        runId: `tuning:${workflowId}`,
        workflowId,
        space,
        objective,
        dataset,
        batchesPerEvaluation: int('batchesPerEvaluation', input.batchesPerEvaluation, 6, 1),
        batchSize: int('batchSize', input.batchSize, policyConfig.environment.batch_size, 1),
        budget: { evaluations: int('budget.evaluations', input.budget?.evaluations, 30, 1), costUsd },
        parallelism: int('parallelism', input.parallelism, 4, 1),
        seed: int('seed', input.seed, 0, 0),
        initialDesign: int('initialDesign', input.initialDesign, Math.max(5, searchSpace.dimension + 1), 1),
        acquisition,
        evaluateBaseline: input.evaluateBaseline ?? true,
        baseline: baselinePoint(policy, space),
        applyTo,
        actor: input.actor ?? 'workflow:parameterTuning',
      };
      await registry.recordRun({ id: setup.runId, kind: 'tuning', workflowId, config: setup as unknown as JsonObject });
      return setup;
    },

    async tuningPropose({ setup, trials, running, q }): Promise<Config[]> {
      const space = setup.space;
      const told = trials.filter((t) => inSpace(space, t.config)).map((t) => ({ config: t.config, value: t.value, cost: t.cost }));
      // A baseline outside a narrowed space is not told, but its evaluation still counts against the budget.
      const outside = trials.length - told.length + running.filter((c) => !inSpace(space, c)).length;
      const options = optimizerOptions(setup);
      options.budget = { ...options.budget, evaluations: setup.budget.evaluations - outside };
      if (options.budget.evaluations! < 1) return [];
      return proposeFromHistory(options, told, running.filter((c) => inSpace(space, c)), q);
    },

    async tuningEvaluate({ setup, index, config, baseline }): Promise<TuningTrial> {
      const policy = policyConfig.policy;
      const rag = toRagConfig(policy, config);
      const evaluator = evaluatorFor(setup.objective);
      const categories = batchCategories(getDataset(setup.dataset).categoryMix, setup.batchesPerEvaluation);
      let reward = 0, cost = 0, faithfulness = 0, relevancy = 0, p95 = 0, passed = 0;
      for (const [b, category] of categories.entries()) {
        const e = await evaluator.evaluate(rag, category, setup.batchSize, setup.seed * 100_003 + b);
        const r = computeReward(e, policy);
        reward += r.reward;
        cost += e.cost_usd * setup.batchSize;
        faithfulness += e.faithfulness;
        relevancy += e.relevancy;
        p95 += e.latency_ms.p95;
        passed += r.gates.passed ? 1 : 0;
      }
      const n = categories.length;
      const trial: TuningTrial = {
        index, config, baseline, value: reward / n, cost,
        metrics: { faithfulness: faithfulness / n, relevancy: relevancy / n, p95_latency_ms: p95 / n, gates_passed: passed / n },
      };
      await registry.appendRunMetrics(setup.runId, index, {
        'tuning/reward': trial.value,
        'tuning/cost_usd': cost,
        'tuning/faithfulness': trial.metrics.faithfulness,
        'tuning/relevancy': trial.metrics.relevancy,
        'tuning/p95_latency_ms': trial.metrics.p95_latency_ms,
      });
      return trial;
    },

    async tuningReport({ setup, trials }): Promise<TuningReport> {
      const ordered = [...trials].sort((a, b) => a.index - b.index);
      const baseline = ordered.find((t) => t.baseline) ?? null;
      // Partial dependence from the GP fitted to every trial in the space.
      const options = optimizerOptions(setup);
      const bo = new BayesianOptimizer({ ...options, budget: {} });
      const told = ordered.filter((t) => inSpace(setup.space, t.config));
      for (const t of told) bo.tell(t.config, t.value, t.cost);
      const gp = bo.surrogate();
      // The recommendation under noisy observations: the evaluated configuration with the highest GP
      // posterior mean (in the optimiser's maximised sign), not the highest single noisy value — the largest
      // of 40 noisy values is biased upward (the winner's curse) and picked a config worse than the baseline.
      let best = told.length > 0 ? told[0] : ordered[0];
      let bestMean = -Infinity;
      told.forEach((t, i) => {
        const m = gp.predict(bo.encodedTrials[i]).mean;
        if (m > bestMean) {
          bestMean = m;
          best = t;
        }
      });
      const pd = setup.space.map((p) => partialDependence(gp, bo.space, p.name, bo.encodedTrials));

      const x = ordered.map((_, i) => i + 1);
      const bestSoFar: number[] = [];
      for (const t of ordered) bestSoFar.push(Math.max(t.value, bestSoFar.length ? bestSoFar[bestSoFar.length - 1] : -Infinity));
      const convergence: Panel = {
        title: `best so far vs evaluations (${setup.objective}, dataset ${setup.dataset}, q = ${setup.parallelism})`,
        xLabel: 'evaluations', yLabel: 'mean reward per batch',
        series: [
          { label: 'best so far', x, y: bestSoFar, color: '#0969da', kind: 'step' },
          { label: 'each evaluation', x, y: ordered.map((t) => t.value), color: '#8250df', kind: 'points' },
        ],
        hlines: baseline ? [{ y: baseline.value, label: `baseline ${baseline.value.toFixed(4)}`, color: '#cf222e' }] : [],
      };
      const pdPanels: Panel[] = pd.map((d) => {
        const categorical = d.values.some((v) => typeof v === 'string');
        const xs = categorical ? d.values.map((_, i) => i) : (d.values as number[]);
        return {
          title: d.parameter, xLabel: d.parameter, yLabel: 'GP mean reward',
          categories: categorical ? d.values.map(String) : undefined,
          series: [{ label: 'partial dependence', x: xs, y: d.mean, color: '#0969da', kind: categorical ? 'points' : 'line' }],
          bands: [{ x: xs, lower: d.mean.map((m, i) => m - d.sd[i]), upper: d.mean.map((m, i) => m + d.sd[i]), color: '#0969da' }],
        };
      });
      const base = prefix(setup);
      const title = `parameterTuning ${setup.workflowId}`;
      const [trialsPut, convergencePut, pdPut] = await Promise.all([
        deps.store.put(`${base}/trials.json`, `${JSON.stringify({ setup, trials: ordered, partialDependence: pd }, null, 2)}\n`, { contentType: 'application/json' }),
        deps.store.put(`${base}/convergence.svg`, chartSvg(title, [convergence]), { contentType: 'image/svg+xml' }),
        deps.store.put(`${base}/partial-dependence.svg`, chartSvg(`${title}: partial dependence of the GP mean (±1 sd)`, pdPanels, 2, 480, 280), { contentType: 'image/svg+xml' }),
      ]);
      const report: TuningReport = { best, baseline, trialsUri: trialsPut.uri, convergenceSvg: convergencePut.uri, partialDependenceSvg: pdPut.uri, partialDependence: pd };
      await registry.finishRun(setup.runId, {
        status: 'succeeded',
        summary: {
          best: { index: best.index, config: best.config, value: best.value },
          baseline: baseline ? { config: baseline.config, value: baseline.value } : null,
          improvement: baseline ? best.value - baseline.value : null,
          evaluations: ordered.length,
          costUsd: ordered.reduce((s, t) => s + t.cost, 0),
          trialsUri: report.trialsUri, convergenceSvg: report.convergenceSvg, partialDependenceSvg: report.partialDependenceSvg,
        } as JsonObject,
      });
      return report;
    },

    async tuningApply({ setup, config }): Promise<NonNullable<ParameterTuningResult['applied']>> {
      const target = setup.applyTo as ApplyTarget;
      const as = target.as ?? 'fallback';
      const rag = toRagConfig(policyConfig.policy, config) as unknown as JsonObject;
      const current = await registry.getDeployment(target.deployment);
      const reason = `parameterTuning ${setup.workflowId}: best config of ${setup.budget.evaluations} evaluations`;
      if (as === 'fallback') {
        const r = await registry.setDeployment({ model: current.model, fallback: rag, actor: setup.actor, reason });
        return { deployment: target.deployment, as, arm: null, generation: r.deployment.generation };
      }
      if (current.kind !== 'bandit') {
        throw ApplicationFailure.create({ type: 'ApplyError', nonRetryable: true, message: `applyTo.as: got "bandit-arm" but deployment "${target.deployment}" is of kind "${current.kind}", expected a bandit deployment (or as: "fallback")` });
      }
      const arm = target.arm ?? `tuned-${setup.workflowId.replace(/[^A-Za-z0-9]/g, '').slice(-8)}`;
      const arms = Array.isArray(current.config.arms) ? [...(current.config.arms as JsonObject[])] : [];
      const existing = arms.findIndex((a) => (typeof a === 'string' ? a : a.name) === arm);
      if (existing >= 0) arms[existing] = { name: arm, payload: rag };
      else arms.push({ name: arm, payload: rag });
      const banditConfig = { ...current.config, arms } as JsonObject;
      try {
        parseDeploymentConfig('bandit', banditConfig, target.deployment);
      } catch (err) {
        throw ApplicationFailure.create({ type: 'ApplyError', nonRetryable: true, message: `the bandit config with arm "${arm}" added is not valid: ${(err as Error).message}` });
      }
      const r = await registry.setDeployment({ model: current.model, config: banditConfig, actor: setup.actor, reason });
      return { deployment: target.deployment, as, arm, generation: r.deployment.generation };
    },

    async tuningFail({ runId, error }): Promise<void> {
      await registry.finishRun(runId, { status: 'failed', error });
    },
  };
}
