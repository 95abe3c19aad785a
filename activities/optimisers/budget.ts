/**
 * Activities of budgetAllocation (R-USE-CASES, budget allocation): gather the LP's data — given in the
 * input or read from the decision log (demand = matching decisions in the window × demandScale;
 * quality = the mean logged reward of the decisions each model, as the bandit arm, served in the
 * segment; cost = the mean of a logged reward component) — and solve it with HiGHS (ml/lp),
 * storing every solve in budget_solutions.
 */
import { ApplicationFailure } from '@temporalio/common';
import loadHighs from 'highs';
import type { Pool } from 'pg';
import { AllocationInfeasibleError, banditConstraintsFromAllocation, checkAllocationProblem, solveBudgetAllocation, type AllocationProblem, type LpSolver } from '../../ml/lp';
import { Registry } from '../../registry';
import { Db } from '../../registry/db';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import { saveBudgetSolution } from '../../registry/optimisers';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { JsonObject } from '../../registry/types';
import { chartSvg } from './svg';
import type { BudgetActivities, BudgetAllocationInput, BudgetAllocationResult, BudgetSegmentInput } from '../../contracts/budget-allocation';

function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'BudgetInputError', nonRetryable: true });
}

function applyError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'BudgetApplyError', nonRetryable: true });
}

let highs: Promise<LpSolver> | null = null;
/** HiGHS compiled to WebAssembly, loaded once per process (~60 ms). */
function solver(): Promise<LpSolver> {
  highs ??= loadHighs() as Promise<LpSolver>;
  return highs;
}

interface SegmentStats {
  count: number;
  /** By arm: mean reward, rewarded decisions, mean cost component. */
  arms: Map<string, { reward: number; n: number; cost: number | null; costN: number }>;
}

/** `features->>'k' = v` conditions of a segment match, as SQL with parameters appended to `params`. */
function featureFilter(match: NonNullable<BudgetSegmentInput['match']>, params: unknown[]): string {
  return Object.entries(match.features ?? {})
    .map(([k, v]) => `d.features->>$${params.push(k)} = $${params.push(String(v))}`)
    .map((c) => ` AND ${c}`)
    .join('');
}

export function createBudgetActivities(deps: { pool: Pool; store: ArtifactStore }): BudgetActivities {
  const db = Db.fromPool(deps.pool);
  const registry = new Registry({ pool: deps.pool });

  async function segmentStats(seg: BudgetSegmentInput, from: Date, to: Date, costComponent: string): Promise<SegmentStats> {
    const match = seg.match!;
    const params: unknown[] = [match.deployment, from.toISOString(), to.toISOString(), costComponent];
    const filter = featureFilter(match, params);
    const { rows } = await deps.pool.query(
      `SELECT d.arm, count(*)::bigint AS n, avg(r.reward) AS reward, count(r.reward)::bigint AS rewarded,
              avg((r.components->>$4)::double precision) AS cost, count(r.components->>$4)::bigint AS costs
         FROM decisions d LEFT JOIN rewards r USING (decision_id)
        WHERE d.deployment = $1 AND d.time >= $2 AND d.time < $3${filter}
        GROUP BY d.arm`,
      params,
    );
    const arms = new Map<string, { reward: number; n: number; cost: number | null; costN: number }>();
    let count = 0;
    for (const r of rows) {
      count += Number(r.n);
      arms.set(r.arm, { reward: r.reward === null ? NaN : Number(r.reward), n: Number(r.rewarded), cost: r.cost === null ? null : Number(r.cost), costN: Number(r.costs) });
    }
    return { count, arms };
  }

  return {
    async budgetPrepare({ input }: { input: BudgetAllocationInput }) {
      if (!input || !Array.isArray(input.segments) || !Array.isArray(input.models)) throw inputError(`input: got ${JSON.stringify(input)?.slice(0, 200)}, expected { segments: [...], models: [...], budget }`);
      const needsLog = input.segments.some((s) => s.demand === undefined) || input.quality === undefined || input.costPerRequest === undefined;
      const to = input.logged?.to ? new Date(input.logged.to) : new Date();
      const from = input.logged?.from ? new Date(input.logged.from) : new Date(to.getTime() - 86_400_000);
      if (Number.isNaN(to.getTime())) throw inputError(`logged.to: got ${JSON.stringify(input.logged?.to)}, expected an ISO 8601 time`);
      if (Number.isNaN(from.getTime()) || from >= to) throw inputError(`logged.from: got ${JSON.stringify(input.logged?.from)}, expected an ISO 8601 time before logged.to (${to.toISOString()})`);
      const scale = input.logged?.demandScale ?? 1;
      if (!(scale > 0 && Number.isFinite(scale))) throw inputError(`logged.demandScale: got ${JSON.stringify(scale)}, expected a number > 0`);
      const costComponent = input.logged?.costComponent ?? 'cost_usd';
      const minRewards = input.logged?.minRewards ?? 1;
      const window = `decision log [${from.toISOString()}, ${to.toISOString()})`;
      const stats: SegmentStats[] = [];
      if (needsLog) {
        for (const [i, seg] of input.segments.entries()) {
          if (!seg.match || typeof seg.match.deployment !== 'string') throw inputError(`segments[${i}].match: got ${JSON.stringify(seg.match)}, expected { deployment, features? } to read the segment's ${seg.demand === undefined ? 'demand' : 'quality and cost'} from the decision log (or give them)`);
          stats.push(await segmentStats(seg, from, to, costComponent));
        }
      }
      const fromLog = (what: 'reward' | 'cost', s: number, m: number): number => {
        const arm = stats[s].arms.get(input.models[m].name);
        const seg = input.segments[s].name;
        const model = input.models[m].name;
        if (what === 'reward') {
          if (!arm || arm.n < minRewards) throw inputError(`quality[${s}][${m}]: segment "${seg}" has ${arm?.n ?? 0} rewarded decisions served by "${model}" in the ${window}, expected at least ${minRewards} (give quality, or mark the model unavailable there)`);
          return arm.reward;
        }
        if (!arm || arm.cost === null) throw inputError(`costPerRequest[${s}][${m}]: segment "${seg}" has no reward component "${costComponent}" for "${model}" in the ${window} (give costPerRequest)`);
        return arm.cost;
      };
      const S = input.segments.length, M = input.models.length;
      const unavailable = (s: number, m: number) => input.available !== undefined && input.available[s]?.[m] === false;
      const quality = input.quality ?? Array.from({ length: S }, (_, s) => Array.from({ length: M }, (_, m) => (unavailable(s, m) ? 0 : fromLog('reward', s, m))));
      const costPerRequest = input.costPerRequest ?? Array.from({ length: S }, (_, s) => Array.from({ length: M }, (_, m) => (unavailable(s, m) ? 0 : fromLog('cost', s, m))));
      const problem: AllocationProblem = {
        segments: input.segments.map((seg, s) => ({ name: seg.name, demand: seg.demand ?? stats[s].count * scale, ...(seg.qualityFloor !== undefined ? { qualityFloor: seg.qualityFloor } : {}) })),
        models: input.models.map((m) => ({ name: m.name, ...(m.fixedCost !== undefined ? { fixedCost: m.fixedCost } : {}) })),
        quality,
        costPerRequest,
        budget: input.budget,
        ...(input.available ? { available: input.available } : {}),
        ...(input.minShare !== undefined ? { minShare: input.minShare } : {}),
        ...(input.maxActiveModels !== undefined ? { maxActiveModels: input.maxActiveModels } : {}),
      };
      try {
        checkAllocationProblem(problem);
      } catch (err) {
        throw inputError((err as Error).message);
      }
      const sources: BudgetAllocationResult['sources'] = {
        demand: input.segments.every((s) => s.demand !== undefined) ? 'given' : `${window} × ${scale}`,
        quality: input.quality ? 'given' : window,
        cost: input.costPerRequest ? 'given' : `${window}, reward component ${costComponent}`,
      };
      return { problem, sources };
    },

    async budgetSolve({ name, problem, workflowId, runId }) {
      const runKey = `${workflowId}/${runId}`;
      let allocation;
      try {
        allocation = solveBudgetAllocation(problem, await solver());
      } catch (err) {
        if (!(err instanceof AllocationInfeasibleError)) throw err;
        const message = err.message;
        await saveBudgetSolution(db, { name, runKey, workflowId, status: 'infeasible', problem: problem as unknown as JsonObject, error: message });
        throw ApplicationFailure.create({ message, type: 'BudgetInfeasible', nonRetryable: true });
      }
      // The shares per segment (x) and model (one series each), next to the stored row.
      const segments = problem.segments.map((s) => s.name);
      const palette = ['#0969da', '#8250df', '#1a7f37', '#9a6700', '#cf222e', '#bf3989', '#0a3069', '#57606a'];
      const svg = chartSvg(`budgetAllocation "${name}": expected quality ${allocation.expectedQuality.toPrecision(5)}, cost ${allocation.cost.toPrecision(5)} of ${problem.budget}; +1 budget buys ${allocation.shadowPrices.budget.toPrecision(3)}`, [{
        title: 'traffic share per segment and model', xLabel: 'segment', yLabel: 'share of the segment', categories: segments,
        series: problem.models.map((m, j) => ({ label: m.name, x: segments.map((_, i) => i), y: segments.map((s) => allocation.shares[s]?.[m.name] ?? 0), color: palette[j % palette.length], kind: 'points' as const })),
      }], 1, Math.max(760, 120 * segments.length));
      const plot = await deps.store.put(`budgets/${name.replace(/[^A-Za-z0-9_.-]/g, '_')}/${runKey.replace(/[^A-Za-z0-9_.-]/g, '_')}.svg`, svg, { contentType: 'image/svg+xml' });
      const row = await saveBudgetSolution(db, { name, runKey, workflowId, status: 'optimal', problem: problem as unknown as JsonObject, solution: allocation as unknown as JsonObject, plotUri: plot.uri });
      return { solutionId: row.id, allocation, plotUri: plot.uri };
    },

    async budgetApply({ name, workflowId, solutionId, problem, allocation, applyTo, actor }) {
      const target = applyTo.deployment;
      const current = await registry.findDeployment(target);
      if (current === null) throw applyError(`applyTo.deployment: got "${target}", expected a bandit deployment (there is none by that name)`);
      if (current.kind !== 'bandit') throw applyError(`applyTo.deployment: "${target}" is of kind "${current.kind}", expected a bandit deployment`);
      let arms: string[];
      try {
        arms = parseDeploymentConfig('bandit', current.config, target).arms.map((a) => a.name);
      } catch (err) {
        throw applyError(`applyTo.deployment: the current config of "${target}" is not valid: ${(err as Error).message}`);
      }
      const missing = problem.models.map((m) => m.name).filter((m) => !arms.includes(m));
      if (missing.length > 0) throw applyError(`applyTo.deployment: the plan's models ${missing.map((m) => `"${m}"`).join(', ')} are not arms of "${target}" (its arms: ${arms.join(', ')}); expected every model of the plan to be an arm`);
      let constraints;
      try {
        constraints = banditConstraintsFromAllocation(problem, allocation, {
          segmentField: applyTo.segmentField ?? 'segment',
          headroom: applyTo.headroom ?? 0.05,
          priorStrength: applyTo.priorStrength ?? 10,
          unlisted: applyTo.unlisted ?? 'refuse',
        });
      } catch (err) {
        throw applyError(`applyTo.${(err as Error).message}`);
      }
      const previousPriors = (current.config.priors ?? {}) as JsonObject;
      const config = { ...current.config, priors: { ...previousPriors, ...constraints.priors }, segments: constraints.segments } as unknown as JsonObject;
      try {
        parseDeploymentConfig('bandit', config, target);
      } catch (err) {
        throw applyError(`the config of "${target}" with solution ${solutionId} of "${name}" applied is not valid: ${(err as Error).message}`);
      }
      const r = await registry.setDeployment({
        model: current.model,
        config,
        expectedGeneration: current.generation,
        actor,
        reason: `budgetAllocation ${workflowId}: solution ${solutionId} of "${name}" (per-segment constraints and priors)`,
      });
      return { deployment: target, generation: r.deployment.generation, changed: r.changed };
    },
  };
}
