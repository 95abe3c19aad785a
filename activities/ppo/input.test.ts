import { canonicalJson, configHash, parsePpoTrainingInput, resolveEffectiveConfig } from './input';

describe('ppoTraining input', () => {
  it('fills every default from {}', () => {
    const input = parsePpoTrainingInput({});
    expect(input).toMatchObject({ model: 'rag-tuner', env: 'simulator', continueAsNewEvery: 50, startCanary: false });
    expect(input.evaluation).toEqual({ episodes: 32, screeningEpisodes: 2, shortlist: 5, kStep: 4, fusionStep: 0.25 });
  });

  it('names each bad field, its value and what was expected', () => {
    const msg = (() => {
      try {
        parsePpoTrainingInput({ workers: 0, iterations: 1.5, model: '../x', evaluation: { episodes: -1 }, colour: 'red' });
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(msg).toContain('workers must be an integer ≥ 1, got 0');
    expect(msg).toContain('iterations must be an integer ≥ 1, got 1.5');
    expect(msg).toContain('model must be 1-128 letters');
    expect(msg).toContain('evaluation.episodes must be an integer ≥ 1, got -1');
    expect(msg).toContain('unknown field colour in the input');
    expect(() => parsePpoTrainingInput({ env: 'pigeon' })).toThrow('env must be simulator, replay:FILE or http:URL, got "pigeon"');
  });

  it('applies seed, workers and iterations to the policy config (total_timesteps follows iterations)', () => {
    const eff = resolveEffectiveConfig(parsePpoTrainingInput({ config: { ppo: { num_steps: 32 } }, workers: 3, iterations: 7, seed: 9 }));
    expect(eff).toMatchObject({ iterations: 7, workers: 3, seed: 9, source: 'inline', env: 'simulator' });
    expect(eff.config.ppo).toMatchObject({ num_envs: 3, seed: 9, num_steps: 32, total_timesteps: 7 * 3 * 32 });
  });

  it('derives iterations from total_timesteps when not given, and reads the defaults file', () => {
    const eff = resolveEffectiveConfig(parsePpoTrainingInput({}));
    expect(eff.source).toBe('configs/rl/policy.defaults.yaml');
    expect(eff.iterations).toBe(Math.floor(100_000 / (4 * 128)));
  });

  it('rejects an inline config with the policy config messages', () => {
    expect(() => resolveEffectiveConfig(parsePpoTrainingInput({ config: { policy: { bounds: { k: { min: 0 } } } } }))).toThrow(/policy\.bounds\.k\.min/);
    expect(() => resolveEffectiveConfig(parsePpoTrainingInput({ config: { ppo: { num_steps: 2, num_minibatches: 8 } }, workers: 1 }))).toThrow(/num_minibatches/);
  });

  it('hashes configs by content, not key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
    const a = resolveEffectiveConfig(parsePpoTrainingInput({ seed: 1 })).config;
    const b = resolveEffectiveConfig(parsePpoTrainingInput({ seed: 2 })).config;
    expect(configHash(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(configHash(a)).toBe(configHash(JSON.parse(JSON.stringify(a))));
    expect(configHash(a)).not.toBe(configHash(b));
  });
});
