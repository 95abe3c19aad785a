import { UpperConfidenceBound } from './acquisition';
import { BRANIN_MINIMUM, HARTMANN6_MINIMUM, branin, braninSpace, hartmann6, hartmann6Space } from './benchmarks';
import { BayesianOptimizer, proposeFromHistory, type Trial } from './optimizer';
import { partialDependence } from './partial-dependence';
import { bestSoFar, randomSearchConfigs } from './random-search';
import { type Config, SearchSpace } from './space';

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const braninOf = (c: Config) => branin(c.x1 as number, c.x2 as number);
const hartmannOf = (c: Config) => hartmann6([1, 2, 3, 4, 5, 6].map((j) => c[`x${j}`] as number));

function runBo(space: SearchSpace, f: (c: Config) => number, evaluations: number, seed: number, q = 1): number[] {
  const bo = new BayesianOptimizer({ space, seed, direction: 'minimize', budget: { evaluations } });
  const values: number[] = [];
  while (!bo.isDone()) {
    for (const c of bo.ask(q)) {
      const v = f(c);
      values.push(v);
      bo.tell(c, v);
    }
  }
  return values;
}

const SEEDS = Array.from({ length: 10 }, (_, s) => s);

describe('BayesianOptimizer on the standard test functions (10 seeds, minimising)', () => {
  it('Branin: within 25 evaluations the median simple regret is below 0.05 and ≥ 9 of 10 seeds are within 0.2 of f*; random search of 25 is far worse', () => {
    const bo = SEEDS.map((s) => Math.min(...runBo(braninSpace, braninOf, 25, s)) - BRANIN_MINIMUM);
    const rs = SEEDS.map((s) => Math.min(...randomSearchConfigs(braninSpace, 25, s).map(braninOf)) - BRANIN_MINIMUM);
    expect(median(bo)).toBeLessThan(0.05);
    expect(bo.filter((r) => r < 0.2).length).toBeGreaterThanOrEqual(9);
    expect(median(bo)).toBeLessThan(median(rs) / 10);
  });

  it('Hartmann-6: within 50 evaluations the median simple regret is below 0.15 and ≥ 8 of 10 seeds are within 0.5 of f*; random search of 50 is worse', () => {
    const bo = SEEDS.map((s) => Math.min(...runBo(hartmann6Space, hartmannOf, 50, s)) - HARTMANN6_MINIMUM);
    const rs = SEEDS.map((s) => Math.min(...randomSearchConfigs(hartmann6Space, 50, s).map(hartmannOf)) - HARTMANN6_MINIMUM);
    expect(median(bo)).toBeLessThan(0.15);
    expect(bo.filter((r) => r < 0.5).length).toBeGreaterThanOrEqual(8);
    expect(median(bo)).toBeLessThan(median(rs) / 4);
  });
});

describe('BayesianOptimizer ask/tell', () => {
  it('replays exactly from the same seed', () => {
    expect(runBo(braninSpace, braninOf, 12, 42)).toEqual(runBo(braninSpace, braninOf, 12, 42));
    expect(runBo(braninSpace, braninOf, 12, 42)).not.toEqual(runBo(braninSpace, braninOf, 12, 43));
  });

  it('proposes q distinct points per batch (Kriging believer and constant liar) and still finds the Branin optimum region', () => {
    for (const batchStrategy of ['kriging-believer', 'constant-liar-min'] as const) {
      const bo = new BayesianOptimizer({ space: braninSpace, seed: 1, direction: 'minimize', budget: { evaluations: 32 }, batchStrategy });
      const values: number[] = [];
      while (!bo.isDone()) {
        const batch = bo.ask(4);
        expect(batch).toHaveLength(4);
        expect(new Set(batch.map((c) => JSON.stringify(c))).size).toBe(4);
        for (const c of batch) { const v = braninOf(c); values.push(v); bo.tell(c, v); }
      }
      expect(Math.min(...values) - BRANIN_MINIMUM).toBeLessThan(0.2);
    }
  });

  it('counts running evaluations against the budget and stops at the evaluation budget', () => {
    const bo = new BayesianOptimizer({ space: braninSpace, seed: 1, budget: { evaluations: 5 } });
    expect(bo.ask(3)).toHaveLength(3);
    expect(bo.budgetLeft().evaluations).toBe(2);
    const more = bo.ask(3);
    expect(more).toHaveLength(2);
    expect(bo.ask(1)).toEqual([]);
    expect(bo.running).toBe(5);
    for (const c of more) bo.tell(c, 1);
    expect(bo.running).toBe(3);
    expect(bo.budgetLeft().evaluations).toBe(0);
    expect(bo.isDone()).toBe(true);
  });

  it('stops asking once the cost budget is spent', () => {
    const bo = new BayesianOptimizer({ space: braninSpace, seed: 1, budget: { cost: 10 } });
    let asked = 0;
    while (!bo.isDone()) {
      for (const c of bo.ask(1)) { asked++; bo.tell(c, -braninOf(c), 3); }
    }
    expect(asked).toBe(4); // 3 + 3 + 3 < 10, the 4th takes the spend to 12
    expect(bo.budgetLeft().cost).toBe(-2);
  });

  it('with estimatedCost, only proposes what fits in the cost budget and then ends', () => {
    const space = new SearchSpace([
      { name: 'temperature', type: 'continuous', low: 0, high: 1 },
      { name: 'model', type: 'categorical', choices: ['cheap', 'dear'] },
    ]);
    const price = (c: Config) => (c.model === 'dear' ? 4 : 1);
    const bo = new BayesianOptimizer({ space, seed: 2, budget: { cost: 20 }, estimatedCost: price });
    let spent = 0;
    let rounds = 0;
    while (!bo.isDone() && rounds++ < 100) {
      const batch = bo.ask(3);
      for (const c of batch) { spent += price(c); bo.tell(c, (c.model === 'dear' ? 1 : 0) - ((c.temperature as number) - 0.5) ** 2, price(c)); }
    }
    expect(bo.isDone()).toBe(true);
    expect(spent).toBeLessThanOrEqual(20);
    expect(spent).toBeGreaterThan(20 - 4); // stopped only when the next proposal would not fit
    expect(() => new BayesianOptimizer({ space, seed: 1, estimatedCost: () => -1 }).ask(1)).toThrow('is -1, expected a finite number >= 0');
  });

  it('optimises a mixed LLM space (continuous, integer, categorical) under observation noise, with UCB too', () => {
    const space = new SearchSpace([
      { name: 'temperature', type: 'continuous', low: 0, high: 2 },
      { name: 'top_p', type: 'continuous', low: 0.1, high: 1 },
      { name: 'max_tokens', type: 'integer', low: 64, high: 1024 },
      { name: 'model', type: 'categorical', choices: ['small', 'medium', 'large'] },
      { name: 'prompt_id', type: 'categorical', choices: ['p1', 'p2', 'p3'] },
    ]);
    // A reward peaked at temperature 0.7, top_p 0.9, 512 tokens, on the medium model with prompt p3.
    const bonus: Record<string, number> = { small: 0, medium: 0.3, large: 0.15, p1: 0, p2: 0.05, p3: 0.2 };
    const reward = (c: Config) => 1 - ((c.temperature as number) - 0.7) ** 2 - 2 * ((c.top_p as number) - 0.9) ** 2
      - ((((c.max_tokens as number) - 512) / 512) ** 2) + bonus[c.model as string] + bonus[c.prompt_id as string];
    for (const acquisition of [undefined, new UpperConfidenceBound({ beta: 2 })]) {
      let noise = 12345;
      const eps = () => { noise = (noise * 1103515245 + 12345) % 2147483648; return (noise / 2147483648 - 0.5) * 0.04; };
      const bo = new BayesianOptimizer({ space, seed: 3, budget: { evaluations: 40 }, acquisition });
      while (!bo.isDone()) for (const c of bo.ask(2)) bo.tell(c, reward(c) + eps());
      const best = bo.best()!.config;
      expect(best.model).toBe('medium');
      expect(best.prompt_id).toBe('p3');
      expect(reward(best)).toBeGreaterThan(1.5 - 0.1); // the optimum is 1.5
      expect(Number.isInteger(best.max_tokens)).toBe(true);
    }
  });

  it('partial dependence follows the effect of each parameter, and surrogate() does not change later proposals', () => {
    const space = new SearchSpace([
      { name: 'temperature', type: 'continuous', low: 0, high: 2 },
      { name: 'max_tokens', type: 'integer', low: 1, high: 4 },
      { name: 'model', type: 'categorical', choices: ['a', 'b'] },
    ]);
    const f = (c: Config) => -(((c.temperature as number) - 1) ** 2) + (c.model === 'b' ? 0.5 : 0); // max_tokens irrelevant
    const run = (peek: boolean) => {
      const bo = new BayesianOptimizer({ space, seed: 9, budget: { evaluations: 30 } });
      const asked: Config[] = [];
      while (!bo.isDone()) for (const c of bo.ask(1)) { asked.push(c); bo.tell(c, f(c)); if (peek && bo.trials.length > 8) bo.surrogate(); }
      return { bo, asked };
    };
    const { bo, asked } = run(false);
    expect(run(true).asked).toEqual(asked);
    const gp = bo.surrogate();
    const temperature = partialDependence(gp, space, 'temperature', bo.encodedTrials, 21);
    const peak = temperature.values[temperature.mean.indexOf(Math.max(...temperature.mean))] as number;
    expect(Math.abs(peak - 1)).toBeLessThanOrEqual(0.2);
    const model = partialDependence(gp, space, 'model', bo.encodedTrials);
    expect(model.values).toEqual(['a', 'b']);
    expect(model.mean[1] - model.mean[0]).toBeCloseTo(0.5, 1);
    const tokens = partialDependence(gp, space, 'max_tokens', bo.encodedTrials);
    expect(tokens.values).toEqual([1, 2, 3, 4]);
    expect(Math.max(...tokens.mean) - Math.min(...tokens.mean)).toBeLessThan(0.1);
    expect(() => partialDependence(gp, space, 'top_k', bo.encodedTrials)).toThrow('parameter is "top_k", expected one of "temperature", "max_tokens", "model"');
  });

  it('proposeFromHistory: a stateless step that replays, respects running evaluations and the budget', () => {
    const options = { space: braninSpace, seed: 5, direction: 'minimize' as const, budget: { evaluations: 20 } };
    const trials: Trial[] = [];
    let running: Config[] = [];
    while (trials.length < 20) {
      // keep 3 evaluations running; the oldest finishes each round
      const batch = proposeFromHistory(options, trials, running, 3 - running.length);
      if (trials.length + running.length < 20) {
        expect(batch.length).toBeGreaterThan(0);
        expect(proposeFromHistory(options, trials, running, 3 - running.length)).toEqual(batch); // same history, same answer
      } else {
        expect(batch).toEqual([]);
      }
      running = [...running, ...batch];
      const done = running.shift()!;
      trials.push({ config: done, value: braninOf(done), cost: 0 });
    }
    expect(running).toEqual([]);
    const all = [...trials.map((t) => t.config), ...running].map((c) => JSON.stringify(c));
    expect(new Set(all).size).toBe(all.length);
    expect(Math.min(...trials.map((t) => t.value)) - BRANIN_MINIMUM).toBeLessThan(1);
  });

  it('best-so-far curves are monotone', () => {
    expect(bestSoFar([3, 1, 2, 0.5], 'minimize')).toEqual([3, 1, 1, 0.5]);
    expect(bestSoFar([3, 1, 4], 'maximize')).toEqual([3, 3, 4]);
  });

  it('rejects bad options and values naming the field', () => {
    expect(() => new BayesianOptimizer({ space: braninSpace, seed: 1, direction: 'up' as never })).toThrow('direction is "up", expected "maximize" or "minimize"');
    expect(() => new BayesianOptimizer({ space: braninSpace, seed: 1, budget: { evaluations: 0 } })).toThrow('budget.evaluations is 0, expected an integer >= 1');
    expect(() => new BayesianOptimizer({ space: braninSpace, seed: 1, budget: { cost: -1 } })).toThrow('budget.cost is -1, expected a number > 0');
    expect(() => new BayesianOptimizer({ space: braninSpace, seed: 1, batchStrategy: 'liar' as never })).toThrow('batchStrategy is "liar"');
    const bo = new BayesianOptimizer({ space: braninSpace, seed: 1 });
    expect(() => bo.ask(0)).toThrow('q is 0, expected an integer >= 1');
    expect(() => bo.tell({ x1: 0, x2: 0 }, Number.NaN)).toThrow('value is NaN, expected a finite number');
    expect(() => bo.tell({ x1: 0, x2: 0 }, 1, -1)).toThrow('cost is -1, expected a finite number >= 0');
  });
});
