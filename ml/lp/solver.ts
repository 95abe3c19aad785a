/**
 * The solver seam: `ml/` stays free of I/O and WebAssembly loading, so the caller hands in a solver
 * with HiGHS's one-shot interface (`await require('highs')()` satisfies it) and this module reads
 * its answer. Duals follow HiGHS: for each row, ∂(optimal objective)/∂(rhs) in the problem's own
 * sense (a ≤ budget row of a maximisation has a dual ≥ 0).
 */
import { type LinearProgram, toCplexLp } from './linear-program';

/** The part of HiGHS's legacy solution this module reads. */
export interface LpSolverSolution {
  Status: string;
  ObjectiveValue: number;
  Columns: Record<string, { Index: number; Primal?: number; Dual?: number }>;
  Rows: { Index: number; Name?: string; Primal?: number; Dual?: number }[];
}

export interface LpSolver {
  solve(problem: string, options?: Record<string, unknown>): LpSolverSolution;
}

export interface LpResult {
  status: 'optimal' | 'infeasible';
  objective: number;
  /** x_j by variable name. */
  values: Map<string, number>;
  /** Row duals (shadow prices) by row name: ∂objective/∂rhs; absent for a MIP. */
  rowDuals: Map<string, number>;
  /** Row activities Σ_j a_ij x_j by row name. */
  rowActivities: Map<string, number>;
  /** Reduced costs by variable name; absent for a MIP. */
  reducedCosts: Map<string, number>;
}

/** Tight tolerances: allocations are checked to 1e-9 downstream. */
export const SOLVER_OPTIONS = { output_flag: false, primal_feasibility_tolerance: 1e-10, dual_feasibility_tolerance: 1e-10 } as const;

export function solveLinearProgram(solver: LpSolver, lp: LinearProgram): LpResult {
  const solution = solver.solve(toCplexLp(lp), { ...SOLVER_OPTIONS });
  if (solution.Status === 'Infeasible') {
    return { status: 'infeasible', objective: NaN, values: new Map(), rowDuals: new Map(), rowActivities: new Map(), reducedCosts: new Map() };
  }
  if (solution.Status !== 'Optimal') throw new Error(`solveLinearProgram: HiGHS ended with status "${solution.Status}", expected "Optimal" or "Infeasible"`);
  const values = new Map<string, number>();
  const reducedCosts = new Map<string, number>();
  for (const [name, column] of Object.entries(solution.Columns)) {
    values.set(name, column.Primal ?? 0);
    if (column.Dual !== undefined) reducedCosts.set(name, column.Dual);
  }
  const rowDuals = new Map<string, number>();
  const rowActivities = new Map<string, number>();
  for (const [i, row] of solution.Rows.entries()) {
    const name = row.Name ?? lp.rows[i].name;
    rowActivities.set(name, row.Primal ?? NaN);
    if (row.Dual !== undefined) rowDuals.set(name, row.Dual);
  }
  return { status: 'optimal', objective: solution.ObjectiveValue, values, rowDuals, rowActivities, reducedCosts };
}
