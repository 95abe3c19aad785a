/** Linear programming for budget allocation (R-USE-CASES, budget allocation), solved by HiGHS through a solver seam. */
export { AllocationInfeasibleError, solveBudgetAllocation, allocationProgram, checkAllocationProblem, type Allocation, type AllocationModel, type AllocationProblem, type AllocationSegment, type ShadowPrices } from './budget-allocation';
export { toCplexLp, type LinearProgram, type Row, type Term } from './linear-program';
export { solveLinearProgram, SOLVER_OPTIONS, type LpResult, type LpSolver, type LpSolverSolution } from './solver';
export { banditConstraintsFromAllocation, type BanditConstraintOptions, type BanditConstraintsJson, type BanditSegmentRuleJson } from './bandit-constraints';
