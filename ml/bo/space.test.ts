import { Rng } from '../rng';
import { SearchSpace } from './space';

const llmSpace = () => new SearchSpace([
  { name: 'temperature', type: 'continuous', low: 0, high: 2 },
  { name: 'top_p', type: 'continuous', low: 0.1, high: 1 },
  { name: 'max_tokens', type: 'integer', low: 64, high: 1024 },
  { name: 'model', type: 'categorical', choices: ['small', 'medium', 'large'] },
  { name: 'prompt_id', type: 'categorical', choices: ['p1', 'p2'] },
]);

describe('SearchSpace', () => {
  it('encodes continuous and integer parameters into [0, 1] and categoricals one-hot', () => {
    const space = llmSpace();
    expect(space.dimension).toBe(3 + 3 + 2);
    const u = space.encode({ temperature: 0.5, top_p: 1, max_tokens: 64, model: 'medium', prompt_id: 'p2' });
    expect(Array.from(u)).toEqual([0.25, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('decodes by rounding integers and taking the argmax of a one-hot block', () => {
    const space = llmSpace();
    const config = space.decode([0.25, 0.5, 0.5004, 0.2, 0.1, 0.7, 0.4, 0.3]);
    expect(config).toEqual({ temperature: 0.5, top_p: 0.55, max_tokens: 544, model: 'large', prompt_id: 'p1' });
  });

  it('round maps any point onto a real configuration, and encode(decode(round(u))) = round(u)', () => {
    const space = llmSpace();
    const rng = new Rng(7);
    for (let i = 0; i < 50; i++) {
      const raw = Float64Array.from({ length: space.dimension }, () => rng.uniform() * 1.4 - 0.2);
      const r = space.round(raw);
      const back = space.encode(space.decode(r));
      for (let j = 0; j < r.length; j++) expect(back[j]).toBeCloseTo(r[j], 12);
      expect(r[3] + r[4] + r[5]).toBe(1);
    }
  });

  it('samples every category and the whole integer range', () => {
    const space = llmSpace();
    const rng = new Rng(1);
    const models = new Set<string | number>();
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 2000; i++) {
      const c = space.decode(space.sample(rng));
      models.add(c.model);
      min = Math.min(min, c.max_tokens as number);
      max = Math.max(max, c.max_tokens as number);
      expect(Number.isInteger(c.max_tokens)).toBe(true);
    }
    expect([...models].sort()).toEqual(['large', 'medium', 'small']);
    expect(min).toBeLessThan(70);
    expect(max).toBeGreaterThan(1015);
  });

  it('supports log-scaled parameters', () => {
    const space = new SearchSpace([{ name: 'lr', type: 'continuous', low: 1e-5, high: 1e-1, log: true }]);
    expect(space.encode({ lr: 1e-3 })[0]).toBeCloseTo(0.5, 12);
    expect(space.decode([0.25]).lr).toBeCloseTo(1e-4, 15);
  });

  it.each([
    [[], 'parameters is empty'],
    [[{ name: 'a', type: 'continuous', low: 1, high: 1 }], 'parameter "a" has low 1 and high 1, expected finite numbers with low < high'],
    [[{ name: 'n', type: 'integer', low: 0.5, high: 3 }], 'integer parameter "n" has low 0.5 and high 3, expected integers'],
    [[{ name: 'm', type: 'categorical', choices: [] }], 'categorical parameter "m" has no choices'],
    [[{ name: 'a', type: 'continuous', low: 0, high: 1 }, { name: 'a', type: 'integer', low: 0, high: 1 }], 'parameter name "a" appears twice'],
    [[{ name: 'lr', type: 'continuous', low: 0, high: 1, log: true }], 'parameter "lr" is on a log scale with low 0, expected low > 0'],
    [[{ name: 'x', type: 'ordinal', low: 0, high: 1 }], 'parameters[0].type is "ordinal"'],
  ])('rejects bad parameters %#', (parameters, message) => {
    expect(() => new SearchSpace(parameters as never)).toThrow(message);
  });

  it('rejects configurations outside the space naming the parameter', () => {
    const space = llmSpace();
    const ok = { temperature: 0.5, top_p: 1, max_tokens: 64, model: 'medium', prompt_id: 'p2' };
    expect(() => space.encode({ ...ok, model: 'huge' })).toThrow('"model" is "huge", expected one of ["small","medium","large"]');
    expect(() => space.encode({ ...ok, temperature: 3 })).toThrow('"temperature" is 3, expected a number in [0, 2]');
    expect(() => space.encode({ ...ok, max_tokens: 100.5 })).toThrow('"max_tokens" is 100.5, expected an integer');
    const { top_p: _, ...missing } = ok;
    expect(() => space.encode(missing)).toThrow('config has no value for "top_p"');
  });
});
