/**
 * Bayesian optimisation with an ask/tell interface (the loop of Snoek et al. 2012, Shahriari et al.,
 * "Taking the Human Out of the Loop", Proc. IEEE 2016):
 *
 *   while budget left:
 *     fit the GP to the observations D (hyperparameters by marginal likelihood)
 *     x_next = argmax_x α(x; D)            (ml/bo/maximise-acquisition.ts)
 *     y_next = f(x_next) + ε;  D ← D ∪ {(x_next, y_next)}
 *
 * The first `initialDesign` points are drawn uniformly. Batches (q > 1) and evaluations still
 * running (asked, not told) are filled in by a fantasy per point (Ginsbourger, Le Riche & Carraro,
 * "Kriging is well-suited to parallelize optimization", 2010):
 *   Kriging believer  y_fantasy = μ(x)          constant liar  y_fantasy = L ∈ {min y, mean y, max y}
 * and the GP is conditioned on the fantasy (same θ) before the next point of the batch is chosen.
 *
 * The budget counts evaluations (asked points, running ones included) and cost (what `tell`
 * reports); `ask` returns fewer points near the evaluation budget and none once either is spent.
 * Without `estimatedCost` a batch started below the cost budget can overshoot it by at most its own
 * cost; with it, a proposal is only returned when its estimate fits in what is left.
 */
import { Rng } from '../rng';
import { type AcquisitionFunction, ExpectedImprovement } from './acquisition';
import { GaussianProcess, type GpHyperparameters } from './gp';
import { type AcquisitionSearchOptions, maximiseAcquisition } from './maximise-acquisition';
import type { Config, SearchSpace } from './space';

// Module-level alias: no global `Math` lookup per call (slow inside Jest's vm context).
const sqrtOf = Math.sqrt;

export type Direction = 'maximize' | 'minimize';
export type BatchStrategy = 'kriging-believer' | 'constant-liar-min' | 'constant-liar-mean' | 'constant-liar-max';

export interface Budget {
  /** Most evaluations (asked points). */
  evaluations?: number;
  /** Most total cost, in the units `tell` reports. */
  cost?: number;
}

export interface BayesianOptimizerOptions {
  space: SearchSpace;
  seed: number;
  direction?: Direction;
  acquisition?: AcquisitionFunction;
  batchStrategy?: BatchStrategy;
  /** Points drawn uniformly before the GP takes over (default max(5, dimension + 1)). */
  initialDesign?: number;
  budget?: Budget;
  /** GP fitting: L-BFGS starts and iterations per start. */
  gp?: { restarts?: number; maxIterations?: number };
  acquisitionSearch?: AcquisitionSearchOptions;
  /**
   * The expected cost of evaluating a configuration (e.g. from the model's price and max_tokens).
   * With a cost budget, a proposal whose estimate does not fit in what is left (after the estimates
   * of the running evaluations) is not returned, and once nothing is running the search ends.
   */
  estimatedCost?: (config: Config) => number;
}

export interface Trial {
  config: Config;
  value: number;
  cost: number;
}

/** The constant-liar value from the observed (internal, maximised) y. */
const LIARS: Record<Exclude<BatchStrategy, 'kriging-believer'>, (y: readonly number[]) => number> = {
  'constant-liar-min': (y) => Math.min(...y),
  'constant-liar-mean': (y) => y.reduce((a, b) => a + b, 0) / y.length,
  'constant-liar-max': (y) => Math.max(...y),
};

export class BayesianOptimizer {
  readonly space: SearchSpace;
  readonly direction: Direction;
  readonly acquisition: AcquisitionFunction;
  readonly batchStrategy: BatchStrategy;
  readonly initialDesign: number;
  readonly budget: Required<Budget>;
  private readonly rng: Rng;
  private readonly gpOptions: { restarts: number; maxIterations: number };
  private readonly searchOptions: AcquisitionSearchOptions;
  private readonly history: Trial[] = [];
  private readonly x: Float64Array[] = [];
  /** Observations in the maximised sign: y = value (maximize) or −value (minimize). */
  private readonly y: number[] = [];
  /** Asked and not yet told (encoded). */
  private readonly pending: Float64Array[] = [];
  /** estimatedCost of each pending evaluation. */
  private readonly pendingCost: number[] = [];
  private readonly estimatedCost: ((config: Config) => number) | undefined;
  /** Set when the next proposal's estimated cost no longer fits the cost budget. */
  private costExhausted = false;
  private spentCost = 0;
  private hyperparameters: GpHyperparameters | undefined;

  constructor(options: BayesianOptimizerOptions) {
    this.space = options.space;
    this.direction = options.direction ?? 'maximize';
    if (this.direction !== 'maximize' && this.direction !== 'minimize') throw new Error(`BayesianOptimizer: direction is ${JSON.stringify(this.direction)}, expected "maximize" or "minimize"`);
    this.acquisition = options.acquisition ?? new ExpectedImprovement();
    this.batchStrategy = options.batchStrategy ?? 'kriging-believer';
    if (this.batchStrategy !== 'kriging-believer' && !(this.batchStrategy in LIARS)) throw new Error(`BayesianOptimizer: batchStrategy is ${JSON.stringify(this.batchStrategy)}, expected "kriging-believer" or one of ${Object.keys(LIARS).join(', ')}`);
    this.initialDesign = options.initialDesign ?? Math.max(5, this.space.dimension + 1);
    if (!(Number.isInteger(this.initialDesign) && this.initialDesign >= 1)) throw new Error(`BayesianOptimizer: initialDesign is ${this.initialDesign}, expected an integer >= 1`);
    const evaluations = options.budget?.evaluations ?? Infinity;
    const cost = options.budget?.cost ?? Infinity;
    if (!(evaluations >= 1) || (Number.isFinite(evaluations) && !Number.isInteger(evaluations))) throw new Error(`BayesianOptimizer: budget.evaluations is ${evaluations}, expected an integer >= 1`);
    if (!(cost > 0)) throw new Error(`BayesianOptimizer: budget.cost is ${cost}, expected a number > 0`);
    this.budget = { evaluations, cost };
    this.rng = new Rng(options.seed);
    this.gpOptions = { restarts: options.gp?.restarts ?? 3, maxIterations: options.gp?.maxIterations ?? 60 };
    this.searchOptions = options.acquisitionSearch ?? {};
    this.estimatedCost = options.estimatedCost;
  }

  /** Evaluations and cost still available (running evaluations count as used, at their estimated cost). */
  budgetLeft(): { evaluations: number; cost: number } {
    const committed = this.pendingCost.reduce((a, b) => a + b, 0);
    return { evaluations: this.budget.evaluations - this.history.length - this.pending.length, cost: this.budget.cost - this.spentCost - committed };
  }

  /** Whether the budget is spent (no more points will be asked). */
  isDone(): boolean {
    const left = this.budgetLeft();
    return left.evaluations <= 0 || left.cost <= 0 || this.costExhausted;
  }

  /** Proposes up to q configurations to evaluate next (in parallel); [] when the budget is spent. */
  ask(q = 1): Config[] {
    if (!(Number.isInteger(q) && q >= 1)) throw new Error(`BayesianOptimizer.ask: q is ${q}, expected an integer >= 1`);
    if (this.isDone()) return [];
    const count = Math.min(q, this.budgetLeft().evaluations);
    const chosen: Float64Array[] = [];
    let gp: GaussianProcess | null = null;
    for (let j = 0; j < count; j++) {
      let u: Float64Array;
      if (this.history.length + this.pending.length < this.initialDesign || this.history.length < 2) {
        u = this.space.sample(this.rng);
      } else {
        if (!gp) gp = this.fitWithFantasies(this.pending);
        u = this.propose(gp);
      }
      const estimate = this.estimate(this.space.decode(u));
      if (estimate > this.budgetLeft().cost) {
        if (this.pending.length === 0) this.costExhausted = true;
        break;
      }
      if (gp) gp = gp.withObservation(u, this.fantasy(gp, u));
      chosen.push(u);
      this.pending.push(u);
      this.pendingCost.push(estimate);
    }
    return chosen.map((u) => this.space.decode(u));
  }

  /** Reports the value (and cost) of an evaluated configuration. */
  tell(config: Config, value: number, cost = 0): void {
    if (!Number.isFinite(value)) throw new Error(`BayesianOptimizer.tell: value is ${value}, expected a finite number`);
    if (!(cost >= 0 && Number.isFinite(cost))) throw new Error(`BayesianOptimizer.tell: cost is ${cost}, expected a finite number >= 0`);
    const u = this.space.round(this.space.encode(config));
    const waiting = this.pending.findIndex((p) => maxAbsDifference(p, u) < 1e-9);
    if (waiting >= 0) {
      this.pending.splice(waiting, 1);
      this.pendingCost.splice(waiting, 1);
    }
    this.history.push({ config: this.space.decode(u), value, cost });
    this.x.push(u);
    this.y.push(this.direction === 'maximize' ? value : -value);
    this.spentCost += cost;
  }

  /** Registers an evaluation started elsewhere (asked in an earlier process) as running. */
  markRunning(config: Config): void {
    const u = this.space.round(this.space.encode(config));
    this.pending.push(u);
    this.pendingCost.push(this.estimate(this.space.decode(u)));
  }

  private estimate(config: Config): number {
    if (!this.estimatedCost) return 0;
    const c = this.estimatedCost(config);
    if (!(Number.isFinite(c) && c >= 0)) throw new Error(`BayesianOptimizer: estimatedCost(${JSON.stringify(config)}) is ${c}, expected a finite number >= 0`);
    return c;
  }

  /** Every told trial, in the order told. */
  get trials(): readonly Trial[] {
    return this.history;
  }

  /** The best observed trial (by value in the optimiser's direction), or null before any. */
  best(): Trial | null {
    let best: Trial | null = null;
    for (const t of this.history) if (!best || (this.direction === 'maximize' ? t.value > best.value : t.value < best.value)) best = t;
    return best;
  }

  /** Evaluations asked and not yet told. */
  get running(): number {
    return this.pending.length;
  }

  /**
   * The GP fitted to the told observations, in the optimiser's maximised sign (−value when
   * minimising), for partial dependence and diagnostics. One L-BFGS start from the last θ: it does
   * not draw from the optimiser's random stream, so calling it does not change later proposals.
   */
  surrogate(): GaussianProcess {
    if (this.history.length === 0) throw new Error('BayesianOptimizer.surrogate: no trials told yet');
    return new GaussianProcess(this.space.dimension).fit(this.x, this.y, { restarts: 1, maxIterations: this.gpOptions.maxIterations, hyperparameters: this.hyperparameters });
  }

  /** The encoded told configurations (reference points for partial dependence). */
  get encodedTrials(): readonly Float64Array[] {
    return this.x;
  }

  private fitWithFantasies(pending: Float64Array[]): GaussianProcess {
    let gp = new GaussianProcess(this.space.dimension).fit(this.x, this.y, {
      rng: this.rng,
      restarts: this.gpOptions.restarts,
      maxIterations: this.gpOptions.maxIterations,
      hyperparameters: this.hyperparameters,
    });
    this.hyperparameters = gp.hyperparameters;
    for (const u of pending) gp = gp.withObservation(u, this.fantasy(gp, u));
    return gp;
  }

  private fantasy(gp: GaussianProcess, u: Float64Array): number {
    if (this.batchStrategy === 'kriging-believer') return gp.predict(u).mean;
    return LIARS[this.batchStrategy](this.y);
  }

  private propose(gp: GaussianProcess): Float64Array {
    // f⁺: the largest posterior mean at a told point (robust to observation noise).
    let incumbent = -Infinity;
    for (const u of this.x) incumbent = Math.max(incumbent, gp.predict(u).mean);
    const score = (u: Float64Array): number => {
      const { mean, variance } = gp.predict(u);
      return this.acquisition.value(mean, sqrtOf(variance), incumbent);
    };
    return maximiseAcquisition(score, this.space, this.rng, this.searchOptions).u;
  }
}

function maxAbsDifference(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * One stateless proposal step, for a caller that keeps the trial history itself (an activity):
 * rebuilds the optimiser from the told trials and the running evaluations and asks for q more.
 * The random stream is seeded from (seed, number of trials told), so the same history and seed
 * always give the same proposals.
 */
export function proposeFromHistory(options: BayesianOptimizerOptions, trials: readonly Trial[], running: readonly Config[], q: number): Config[] {
  const bo = new BayesianOptimizer({ ...options, seed: (Math.imul(options.seed | 0, 0x9e3779b1) ^ trials.length) >>> 0 });
  for (const t of trials) bo.tell(t.config, t.value, t.cost);
  for (const c of running) bo.markRunning(c);
  return bo.ask(q);
}
