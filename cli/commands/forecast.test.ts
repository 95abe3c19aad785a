/** Flag checks of the optimiser commands (`tune`, `experiments`, `budget solve`, `forecast`), in process, no servers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliInProcess } from '../testing/in-process';
import { buildExperimentsInput } from './experiments';
import { buildForecastInput } from './forecast';
import { buildTuneInput } from './tune';

const dir = mkdtempSync(join(tmpdir(), 'ap-optimiser-flags-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('optimiser command flags', () => {
  it('builds the workflow inputs from the flags', () => {
    expect(buildTuneInput({ evaluations: '40', costUsd: '2.5', parallel: '4', seed: '1', applyTo: 'router', as: 'bandit-arm', arm: 'tuned', wait: true })).toEqual({
      budget: { evaluations: 40, costUsd: 2.5 }, parallelism: 4, seed: 1, applyTo: { deployment: 'router', as: 'bandit-arm', arm: 'tuned' },
    });
    expect(buildTuneInput({ space: file('space.json', '[{"name":"k","type":"integer","low":3,"high":12}]'), wait: true })).toEqual({ space: [{ name: 'k', type: 'integer', low: 3, high: 12 }] });
    expect(buildExperimentsInput({ trials: '6', parallel: '2', iterations: '5', objective: 'improvementVsBaseline', stopping: 'none', wait: true })).toEqual({ trials: 6, parallelism: 2, iterations: 5, objective: 'improvementVsBaseline', stopping: { rule: 'none' } });
    expect(buildExperimentsInput({ config: file('p.yaml', 'ppo:\n  num_steps: 32\n'), wait: true }).config).toMatchObject({ ppo: { num_steps: 32 } });
    expect(buildForecastInput({ deployment: ['a', 'b'], granularity: 'minute', horizon: '30', capacityPerReplica: '120', utilisation: '0.7', wait: true })).toEqual({
      deployments: ['a', 'b'], granularity: 'minute', horizon: 30, capacity: { capacityPerReplica: 120, targetUtilisation: 0.7 },
    });
  });

  it.each([
    [['tune', '--objective', 'pigeon'], 'error: --objective must be simulator or http:URL, got "pigeon"\n'],
    [['tune', '--evaluations', '0'], 'error: --evaluations "0": expected an integer ≥ 1\n'],
    [['tune', '--as', 'bandit-arm'], 'error: --as and --arm need --apply-to DEPLOYMENT\n'],
    [['tune', '--cost-usd', 'lots'], 'error: --cost-usd "lots": expected a budget in USD > 0\n'],
    [['tune', '--space', '/nonexistent/space.json'], "error: --space /nonexistent/space.json: ENOENT: no such file or directory, open '/nonexistent/space.json'\n"],
    [['experiments', '--objective', 'vibes'], 'error: --objective must be one of policyReward, improvementVsBaseline, improvementVsBestStatic, got "vibes"\n'],
    [['experiments', '--stopping', 'halving'], 'error: --stopping must be median or none, got "halving"\n'],
    [['forecast', '--granularity', 'day'], 'error: --granularity must be hour or minute, got "day"\n'],
    [['forecast', '--level', '95'], 'error: --level "95": expected a coverage in (0, 1), e.g. 0.95\n'],
    [['forecast', '--utilisation', '0.5'], 'error: --utilisation and --min-replicas need --capacity-per-replica\n'],
    [['forecast', '--every', 'hourly'], 'error: --every "hourly": expected an interval such as 30m, 1h or 1d\n'],
  ])('refuses %p', async (args, message) => {
    const r = await runCliInProcess(...args);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
  });

  it('budget solve refuses a malformed input file by name', async () => {
    const r = await runCliInProcess('budget', 'solve', '--input', file('b.json', '{"segments": [], "models": "large", "budget": 1}'));
    expect(r.stderr).toBe(`error: --input ${join(dir, 'b.json')}: models must be a list, got "large"\n`);
    expect(r.code).toBe(2);
  });
});
