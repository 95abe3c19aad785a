import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../../errors';
import { buildTrainPpoInput } from './ppo';

const dir = mkdtempSync(join(tmpdir(), 'train-ppo-cli-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('autopilot train ppo options', () => {
  it('reads and validates the config here and sends it inline with the overrides', () => {
    const cfg = file('ok.yaml', 'ppo:\n  num_steps: 32\n');
    const input = buildTrainPpoInput({ config: 'ok.yaml', env: 'replay:logs/x.jsonl', model: 'tuner', iterations: '5', seed: '3', workers: '2', wait: true }, dir);
    expect(input).toMatchObject({ configPath: 'ok.yaml', env: 'replay:logs/x.jsonl', model: 'tuner', iterations: 5, seed: 3, workers: 2 });
    expect((input.config as any).ppo.num_steps).toBe(32);
    expect(cfg).toContain(dir);
  });

  it('uses the defaults file without --config', () => {
    const input = buildTrainPpoInput({ env: 'simulator', wait: true }, dir);
    expect(input.configPath).toMatch(/configs\/rl\/policy\.defaults\.yaml$/);
    expect(input).not.toHaveProperty('iterations');
  });

  it.each([
    [{ config: 'missing.yaml' }, /--config missing\.yaml: no such file/],
    [{ config: file('bad.yaml', 'ppo:\n  clip_coef: -1\n') }, /bad\.yaml:2:\d+: ppo\.clip_coef: got -1/],
    [{ env: 'pigeon' }, /--env must be simulator, replay:FILE or http:URL, got "pigeon"/],
    [{ workers: '0' }, /--workers "0": expected an integer ≥ 1/],
    [{ iterations: 'ten' }, /--iterations "ten": expected an integer ≥ 1/],
    [{ config: file('mb.yaml', 'ppo:\n  num_steps: 2\n  num_minibatches: 16\n'), workers: '1' }, /num_minibatches/],
  ])('rejects %p', (opts, message) => {
    const run = () => buildTrainPpoInput({ env: 'simulator', wait: true, ...opts }, dir);
    expect(run).toThrow(CliError);
    expect(run).toThrow(message);
  });
});
