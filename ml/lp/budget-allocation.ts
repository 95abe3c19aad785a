/**
 * Budget allocation across models (R-USE-CASES, budget allocation): traffic shares x_sm of segment s (tenant × task
 * category) sent to model m, maximising expected quality within a budget and per-segment floors.
 *
 *   maximise   Σ_s Σ_m D_s q_sm x_sm                                  (expected quality delivered)
 *   subject to Σ_m x_sm = 1                              ∀s   [π_s]  (every request is served)
 *              Σ_m q_sm x_sm ≥ F_s                       ∀s   [μ_s]  (segment quality floor)
 *              Σ_s Σ_m D_s c_sm x_sm + Σ_m f_m z_m ≤ B        [λ]    (budget)
 *              x_sm ≥ 0,  x_sm = 0 where model m is not available for s
 *
 * D_s demand (requests in the period), q_sm expected quality per request, c_sm cost per request,
 * F_s the floor on the segment's mean quality, B the budget. λ = ∂(optimal quality)/∂B is what one
 * more unit of budget buys; μ_s = −∂(optimal quality)/∂F_s what raising a floor costs.
 *
 * The MIP variant (`minShare`, `maxActiveModels`, `fixedCost`) adds binaries
 *   y_sm ∈ {0,1}: m serves s         minShare·y_sm ≤ x_sm ≤ y_sm
 *   z_m  ∈ {0,1}: m is switched on   y_sm ≤ z_m,   Σ_m z_m ≤ K,   f_m z_m charged to the budget
 * and reports the duals of the LP with those binaries fixed at the MIP optimum (the usual
 * sensitivity for a MIP: prices given the chosen on/off pattern).
 */
import type { LinearProgram, Row, Term } from './linear-program';
import { type LpResult, type LpSolver, solveLinearProgram } from './solver';

export interface AllocationSegment {
  name: string;
  /** D_s: requests expected in the period (≥ 0). */
  demand: number;
  /** F_s: the least mean quality the segment accepts (optional). */
  qualityFloor?: number;
}

export interface AllocationModel {
  name: string;
  /** f_m: a fixed cost charged when the model serves any traffic (MIP only; default 0). */
  fixedCost?: number;
}

export interface AllocationProblem {
  segments: AllocationSegment[];
  models: AllocationModel[];
  /** q_sm: expected quality per request, [segment][model]. */
  quality: number[][];
  /** c_sm: cost per request, [segment][model]. */
  costPerRequest: number[][];
  /** B: the budget for the period, in the units of costPerRequest. */
  budget: number;
  /** available[s][m] false forbids model m in segment s (default all available). */
  available?: boolean[][];
  /** MIP: a model serving a segment takes at least this share of it (0 < minShare ≤ 1). */
  minShare?: number;
  /** MIP: at most this many models switched on across all segments. */
  maxActiveModels?: number;
}

export interface ShadowPrices {
  /** λ: expected quality gained per extra unit of budget. */
  budget: number;
  /** μ_s: expected quality lost per unit the segment's floor is raised (0 when the floor is slack). */
  floors: Record<string, number>;
  /** π_s: expected quality gained per extra unit of share in segment s (the value of serving it). */
  segments: Record<string, number>;
}

export interface Allocation {
  /** x_sm by segment then model name (only models with a positive share are listed). */
  shares: Record<string, Record<string, number>>;
  /** Σ D_s q_sm x_sm. */
  expectedQuality: number;
  /** Mean quality per segment, Σ_m q_sm x_sm. */
  segmentQuality: Record<string, number>;
  /** Budget used, including fixed costs. */
  cost: number;
  shadowPrices: ShadowPrices;
  /** Models serving any traffic. */
  activeModels: string[];
  kind: 'lp' | 'mip';
}

const x = (s: number, m: number) => `x_${s}_${m}`;
const y = (s: number, m: number) => `y_${s}_${m}`;
const z = (m: number) => `z_${m}`;
const shareRow = (s: number) => `share_${s}`;
const floorRow = (s: number) => `floor_${s}`;

/** No allocation meets the floors (and MIP limits) within the budget; the message names the binding floors. */
export class AllocationInfeasibleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllocationInfeasibleError';
  }
}

/** Solves the allocation; throws naming the binding floors when no allocation meets them within the budget. */
export function solveBudgetAllocation(problem: AllocationProblem, solver: LpSolver): Allocation {
  checkAllocationProblem(problem);
  const mip = problem.minShare !== undefined || problem.maxActiveModels !== undefined || problem.models.some((m) => (m.fixedCost ?? 0) > 0);
  let result = solveLinearProgram(solver, allocationProgram(problem, mip));
  if (result.status === 'infeasible') throw infeasibleError(problem, solver, mip);
  let fixed: Record<string, { lower: number; upper: number }> | undefined;
  if (mip) {
    fixed = {};
    for (const [name, v] of result.values) if (name.startsWith('y_') || name.startsWith('z_')) fixed[name] = { lower: Math.round(v), upper: Math.round(v) };
    result = solveLinearProgram(solver, allocationProgram(problem, true, fixed));
    if (result.status !== 'optimal') throw new Error('solveBudgetAllocation: the LP with the MIP\'s on/off pattern fixed is infeasible; this is a solver tolerance problem, not an input error');
  }
  return readAllocation(problem, result, mip, fixed);
}

/** The program of the header comment; binaries fixed by `fixed` turn the MIP into its pricing LP. */
export function allocationProgram(problem: AllocationProblem, mip: boolean, fixed?: Record<string, { lower: number; upper: number }>): LinearProgram {
  const { segments, models, quality, costPerRequest, budget } = problem;
  const objective: Term[] = [];
  const rows: Row[] = [];
  const bounds: LinearProgram['bounds'] = {};
  const budgetTerms: Term[] = [];
  const binaries: string[] = [];
  for (const [s, seg] of segments.entries()) {
    const share: Term[] = [];
    const floor: Term[] = [];
    for (let m = 0; m < models.length; m++) {
      share.push({ variable: x(s, m), coefficient: 1 });
      floor.push({ variable: x(s, m), coefficient: quality[s][m] });
      objective.push({ variable: x(s, m), coefficient: seg.demand * quality[s][m] });
      budgetTerms.push({ variable: x(s, m), coefficient: seg.demand * costPerRequest[s][m] });
      if (problem.available && !problem.available[s][m]) bounds[x(s, m)] = { lower: 0, upper: 0 };
    }
    rows.push({ name: shareRow(s), terms: share, sense: '=', rhs: 1 });
    if (seg.qualityFloor !== undefined) rows.push({ name: floorRow(s), terms: floor, sense: '>=', rhs: seg.qualityFloor });
  }
  if (mip) {
    const minShare = problem.minShare ?? 0;
    for (let m = 0; m < models.length; m++) {
      for (let s = 0; s < segments.length; s++) {
        rows.push({ name: `use_${s}_${m}`, terms: [{ variable: x(s, m), coefficient: 1 }, { variable: y(s, m), coefficient: -1 }], sense: '<=', rhs: 0 });
        if (minShare > 0) rows.push({ name: `min_${s}_${m}`, terms: [{ variable: x(s, m), coefficient: 1 }, { variable: y(s, m), coefficient: -minShare }], sense: '>=', rhs: 0 });
        rows.push({ name: `on_${s}_${m}`, terms: [{ variable: y(s, m), coefficient: 1 }, { variable: z(m), coefficient: -1 }], sense: '<=', rhs: 0 });
        binaries.push(y(s, m));
      }
      binaries.push(z(m));
      const f = models[m].fixedCost ?? 0;
      if (f > 0) budgetTerms.push({ variable: z(m), coefficient: f });
    }
    if (problem.maxActiveModels !== undefined) rows.push({ name: 'active_models', terms: models.map((_, m) => ({ variable: z(m), coefficient: 1 })), sense: '<=', rhs: problem.maxActiveModels });
  }
  rows.push({ name: 'budget', terms: budgetTerms, sense: '<=', rhs: budget });
  if (fixed) {
    Object.assign(bounds, fixed);
    return { sense: 'maximize', objective, rows, bounds };
  }
  return { sense: 'maximize', objective, rows, bounds, binaries };
}

function readAllocation(problem: AllocationProblem, result: LpResult, mip: boolean, fixed?: Record<string, { lower: number; upper: number }>): Allocation {
  const { segments, models, quality, costPerRequest } = problem;
  const shares: Allocation['shares'] = {};
  const segmentQuality: Record<string, number> = {};
  const floors: Record<string, number> = {};
  const segmentPrices: Record<string, number> = {};
  const active = new Set<string>();
  let expectedQuality = 0;
  let cost = 0;
  for (const [s, seg] of segments.entries()) {
    shares[seg.name] = {};
    let q = 0;
    for (let m = 0; m < models.length; m++) {
      const share = result.values.get(x(s, m)) ?? 0;
      if (share > 0) {
        shares[seg.name][models[m].name] = share;
        active.add(models[m].name);
      }
      q += quality[s][m] * share;
      cost += seg.demand * costPerRequest[s][m] * share;
    }
    segmentQuality[seg.name] = q;
    expectedQuality += seg.demand * q;
    segmentPrices[seg.name] = result.rowDuals.get(shareRow(s)) ?? 0;
    if (seg.qualityFloor !== undefined) floors[seg.name] = -(result.rowDuals.get(floorRow(s)) ?? 0);
  }
  if (mip && fixed) {
    for (let m = 0; m < models.length; m++) {
      if ((fixed[z(m)]?.lower ?? 0) === 1) cost += models[m].fixedCost ?? 0;
    }
  }
  return {
    shares,
    expectedQuality,
    segmentQuality,
    cost,
    shadowPrices: { budget: result.rowDuals.get('budget') ?? 0, floors, segments: segmentPrices },
    activeModels: models.map((m) => m.name).filter((n) => active.has(n)),
    kind: mip ? 'mip' : 'lp',
  };
}

/**
 * Why no allocation exists, for a person: floors above the best available model's quality, or
 * floors whose cheapest fulfilment exceeds the budget (found by minimising cost subject to the
 * floors alone: the floors with a non-zero dual there are the binding ones).
 */
function infeasibleError(problem: AllocationProblem, solver: LpSolver, mip: boolean): AllocationInfeasibleError {
  const { segments, models, quality, costPerRequest } = problem;
  const unreachable: string[] = [];
  for (const [s, seg] of segments.entries()) {
    if (seg.qualityFloor === undefined) continue;
    let best = -Infinity;
    for (let m = 0; m < models.length; m++) if (!problem.available || problem.available[s][m]) best = Math.max(best, quality[s][m]);
    if (seg.qualityFloor > best) unreachable.push(`segment "${seg.name}" floor ${seg.qualityFloor} > best available quality ${best}`);
  }
  if (unreachable.length > 0) return new AllocationInfeasibleError(`solveBudgetAllocation: quality floors no model can meet: ${unreachable.join('; ')}`);
  const costProgram = allocationProgram({ ...problem, minShare: undefined, maxActiveModels: undefined, models: models.map((m) => ({ name: m.name })) }, false);
  costProgram.sense = 'minimize';
  costProgram.objective = [];
  for (const [s, seg] of segments.entries()) for (let m = 0; m < models.length; m++) costProgram.objective.push({ variable: x(s, m), coefficient: seg.demand * costPerRequest[s][m] });
  costProgram.rows = costProgram.rows.filter((r) => r.name !== 'budget');
  const cheapest = solveLinearProgram(solver, costProgram);
  if (cheapest.status === 'optimal' && cheapest.objective > problem.budget) {
    const binding = segments
      .map((seg, s) => ({ seg, dual: cheapest.rowDuals.get(floorRow(s)) ?? 0 }))
      .filter(({ seg, dual }) => seg.qualityFloor !== undefined && Math.abs(dual) > 1e-9)
      .map(({ seg, dual }) => `"${seg.name}" (floor ${seg.qualityFloor}, each +0.01 of floor costs ${fmt(Math.abs(dual) * 0.01)})`);
    return new AllocationInfeasibleError(`solveBudgetAllocation: budget ${problem.budget} is below ${fmt(cheapest.objective)}, the cheapest allocation that meets the quality floors; binding floors: ${binding.length > 0 ? binding.join(', ') : 'none (the demand alone costs more than the budget)'}. Raise the budget to at least ${fmt(cheapest.objective)} or lower those floors`);
  }
  if (mip) return new AllocationInfeasibleError(`solveBudgetAllocation: no allocation satisfies minShare ${problem.minShare ?? 'unset'} and maxActiveModels ${problem.maxActiveModels ?? 'unset'} together with the floors, fixed costs and budget ${problem.budget} (the LP without those limits is feasible); relax minShare or maxActiveModels`);
  return new AllocationInfeasibleError(`solveBudgetAllocation: HiGHS reports the allocation infeasible although the floors are reachable within budget ${problem.budget}; check availability and inputs`);
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}

/** Validates shapes and ranges, naming the field, the value and what was expected. */
export function checkAllocationProblem(p: AllocationProblem): void {
  const S = p.segments.length;
  const M = p.models.length;
  if (S === 0) throw new Error('budget allocation: segments is empty, expected at least one segment');
  if (M === 0) throw new Error('budget allocation: models is empty, expected at least one model');
  const names = (list: { name: string }[], what: string) => {
    const seen = new Set<string>();
    for (const { name } of list) {
      if (!name) throw new Error(`budget allocation: a ${what} has name ${JSON.stringify(name)}, expected a non-empty string`);
      if (seen.has(name)) throw new Error(`budget allocation: ${what} name "${name}" appears twice, expected unique names`);
      seen.add(name);
    }
  };
  names(p.segments, 'segment');
  names(p.models, 'model');
  if (!(Number.isFinite(p.budget) && p.budget >= 0)) throw new Error(`budget allocation: budget is ${p.budget}, expected a finite number >= 0`);
  for (const seg of p.segments) {
    if (!(Number.isFinite(seg.demand) && seg.demand >= 0)) throw new Error(`budget allocation: segments["${seg.name}"].demand is ${seg.demand}, expected a finite number >= 0`);
    if (seg.qualityFloor !== undefined && !Number.isFinite(seg.qualityFloor)) throw new Error(`budget allocation: segments["${seg.name}"].qualityFloor is ${seg.qualityFloor}, expected a finite number`);
  }
  const matrix = (m: number[][] | boolean[][] | undefined, field: string, finite: boolean) => {
    if (m === undefined) return;
    if (m.length !== S) throw new Error(`budget allocation: ${field} has ${m.length} rows, expected ${S} (one per segment)`);
    for (const [s, row] of m.entries()) {
      if (row.length !== M) throw new Error(`budget allocation: ${field}[${s}] has ${row.length} entries, expected ${M} (one per model)`);
      if (finite) for (const [j, v] of (row as number[]).entries()) if (!(Number.isFinite(v) && v >= 0)) throw new Error(`budget allocation: ${field}[${s}][${j}] (segment "${p.segments[s].name}", model "${p.models[j].name}") is ${v}, expected a finite number >= 0`);
    }
  };
  matrix(p.quality, 'quality', true);
  matrix(p.costPerRequest, 'costPerRequest', true);
  matrix(p.available, 'available', false);
  if (p.available) for (const [s, row] of p.available.entries()) if (!row.some(Boolean)) throw new Error(`budget allocation: available[${s}] (segment "${p.segments[s].name}") allows no model, expected at least one`);
  if (p.minShare !== undefined && !(p.minShare > 0 && p.minShare <= 1)) throw new Error(`budget allocation: minShare is ${p.minShare}, expected a number in (0, 1]`);
  if (p.maxActiveModels !== undefined && !(Number.isInteger(p.maxActiveModels) && p.maxActiveModels >= 1)) throw new Error(`budget allocation: maxActiveModels is ${p.maxActiveModels}, expected an integer >= 1`);
  for (const m of p.models) if (m.fixedCost !== undefined && !(Number.isFinite(m.fixedCost) && m.fixedCost >= 0)) throw new Error(`budget allocation: models["${m.name}"].fixedCost is ${m.fixedCost}, expected a finite number >= 0`);
}
