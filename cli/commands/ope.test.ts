/** `autopilot ope` and `autopilot ope power`, run as child processes through bin/autopilot. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePolicy } from '../../ml/ope';
import { makeSyntheticBandit, sampleLoggedData } from '../../ml/ope/synthetic';

const bin = join(__dirname, '..', '..', 'bin', 'autopilot');
let dir: string;

function autopilot(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

const fixture = {
  reward: [1, 1, 2],
  action: [0, 1, 1],
  pscore: [0.5, 0.25, 0.8],
  action_dist: [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]],
  estimated_rewards_by_reg_model: [[0.3, 0.7], [0.1, 0.5], [1.0, 1.5]],
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autopilot-ope-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('autopilot ope', () => {
  it('prints n_rounds and value/lower/upper for each estimator', () => {
    // --min-ess 1: three rounds are below the default threshold of 100 (that warning has its own test).
    const r = autopilot('ope', '--input', file('f.json', fixture), '--estimators', 'ipw,dm,dr,switch-dr', '--n-bootstrap', '500', '--seed', '3', '--lambda', '1', '--min-ess', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.n_rounds).toBe(3);
    expect(Object.keys(out.estimates)).toEqual(['ipw', 'dm', 'dr', 'switch-dr']);
    expect(out.estimates.ipw.value).toBeCloseTo(3.25 / 3, 12);
    expect(out.estimates.dm.value).toBeCloseTo(0.71, 12);
    expect(out.estimates['switch-dr'].value).toBeCloseTo(2.7225 / 3, 12);
    for (const e of Object.values(out.estimates) as { value: number; lower: number; upper: number }[]) {
      expect(e.lower).toBeLessThanOrEqual(e.value);
      expect(e.upper).toBeGreaterThanOrEqual(e.value);
    }
  });

  it('fits the cross-fitted reward model from context, matching the library call', () => {
    const { inputs, context } = sampleLoggedData(makeSyntheticBandit(1), 400, 2);
    const json = {
      reward: Array.from(inputs.reward!),
      action: Array.from(inputs.action!),
      pscore: Array.from(inputs.pscore!),
      action_dist: Array.from({ length: 400 }, (_, i) => Array.from(inputs.actionDist.data.subarray(i * 4, i * 4 + 4))),
      context: Array.from({ length: 400 }, (_, i) => Array.from(context.data.subarray(i * 3, i * 3 + 3))),
    };
    const r = autopilot('ope', '--input', file('s.json', json), '--n-bootstrap', '300', '--seed', '5');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.fitted_reward_model).toBe(true);
    expect(Object.keys(out.estimates)).toEqual(['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);
    const lib = evaluatePolicy(inputs, { context, nBootstrapSamples: 300, randomState: 5 });
    expect(out.estimates.dr).toEqual(lib.estimates.dr);
  });

  it.each([
    ['a zero pscore', { ...fixture, pscore: [0.5, 0, 0.8] }, [], 'pscore[1]: got 0, expected a propensity in (0, 1]'],
    ['an action out of range', { ...fixture, action: [0, 2, 1] }, [], 'action[1]: got 2, expected an integer in [0, n_actions = 2)'],
    ['a fractional action', { ...fixture, action: [0, 1.5, 1] }, [], 'action[1]: got 1.5, expected an integer'],
    ['action_dist rows not summing to 1', { ...fixture, action_dist: [[0.2, 0.7], [0.6, 0.4], [0.5, 0.5]] }, [], 'action_dist[0, :, 0]: got a sum of 0.8999999999999999, expected probabilities over actions summing to 1'],
    ['a ragged action_dist', { ...fixture, action_dist: [[0.2, 0.8], [1], [0.5, 0.5]] }, [], 'action_dist[1]: got an array of length 1, expected an array over n_actions = 2 actions'],
    ['DR without a reward model or context', { ...fixture, estimated_rewards_by_reg_model: undefined }, ['--estimators', 'dr'], 'estimated_rewards_by_reg_model: got nothing, expected an n_rounds × n_actions × len_list array of predicted rewards (or `context` to fit the reward model) (required by dr)'],
    ['an unknown estimator', fixture, ['--estimators', 'ipw,magic'], 'estimators: got "magic", expected one of ipw, snipw, dm, dr, sndr, switch-dr, dr-os'],
  ])('refuses %s, naming field, value and expectation (exit code 2)', (_name, json, extra, message) => {
    const p = file('bad.json', json);
    const r = autopilot('ope', '--input', p, ...(extra as string[]));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${p}: ${message}\n`);
  });

  it('refuses bad flags by name', () => {
    const p = file('g.json', fixture);
    expect(autopilot('ope', '--input', p, '--alpha', '1.5').stderr).toBe('error: --alpha: got "1.5", expected a number in (0, 1)\n');
    expect(autopilot('ope', '--input', p, '--n-bootstrap', '10.5').stderr).toBe('error: --n-bootstrap: got "10.5", expected an integer ≥ 1\n');
    expect(autopilot('ope', '--input', p, '--lambda', '-1').stderr).toBe('error: --lambda: got "-1", expected a number ≥ 0 (or Infinity)\n');
    expect(autopilot('ope').stderr).toBe('error: --input: got nothing, expected a JSON file of logged bandit feedback (or - for standard input)\n');
    const missing = join(dir, 'nope.json');
    expect(autopilot('ope', '--input', missing).stderr).toMatch(/^error: --input: got ".*nope\.json", expected a readable file/);
  });
});

describe('autopilot ope: NDJSON input and threads', () => {
  const ndjson = (rows: typeof fixture) => rows.reward.map((_, i) => JSON.stringify({
    reward: rows.reward[i], action: rows.action[i], pscore: rows.pscore[i],
    action_dist: rows.action_dist[i], estimated_rewards_by_reg_model: rows.estimated_rewards_by_reg_model[i],
  })).join('\n') + '\n';

  it('warns on stderr and in diagnostics when the effective sample size is below --min-ess', () => {
    const r = autopilot('ope', '--input', file('w.json', fixture), '--estimators', 'ipw', '--n-bootstrap', '100');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: ipw: effective sample size 2\.2 of 3 rounds \(< 100; largest weight 1\.60\)/);
    const out = JSON.parse(r.stdout);
    expect(out.diagnostics.ipw).toMatchObject({ effectiveSampleSize: expect.any(Number), warnings: [{ code: 'low_effective_sample_size' }] });
  });

  it('reports the same for the NDJSON file as for the JSON file, and the same on 1 and 2 threads', () => {
    const args = ['--n-bootstrap', '700', '--seed', '9', '--lambda', '1', '--min-ess', '1'];
    const fromJson = autopilot('ope', '--input', file('t.json', fixture), ...args, '--threads', '1');
    const fromNdjson = autopilot('ope', '--input', file('t.ndjson', ndjson(fixture)), ...args, '--threads', '2');
    const forced = autopilot('ope', '--input', file('t.txt', ndjson(fixture)), '--format', 'ndjson', ...args);
    expect(fromJson.code).toBe(0);
    expect(fromNdjson.stderr).toBe('');
    expect(fromNdjson.stdout).toBe(fromJson.stdout);
    expect(forced.stdout).toBe(fromJson.stdout);
    expect(Object.keys(JSON.parse(fromJson.stdout).estimates)).toEqual(['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);
  });

  it('refuses a bad NDJSON line by line number, field and expectation, and bad --threads or --format', () => {
    const p = file('bad.ndjson', ndjson(fixture).replace('"action":1,', '"action":"one",'));
    const r = autopilot('ope', '--input', p);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${p}: line 2: action: got "one", expected an integer\n`);
    expect(autopilot('ope', '--input', p, '--threads', '0').stderr).toBe('error: --threads: got "0", expected an integer in [1, 256]\n');
    expect(autopilot('ope', '--input', p, '--format', 'csv').stderr).toBe('error: --format: got "csv", expected one of json, ndjson\n');
  });
});

describe('autopilot ope power', () => {
  it('answers R-STATS-POWER: +0.03 at 80% power', () => {
    const r = autopilot('ope', 'power', '--delta', '0.03', '--sd', '0.1');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rounds: 88, total_rounds: 88, delta: 0.03, sd: 0.1, alpha: 0.05, power: 0.8, sides: 2, design: 'paired' });
    const two = JSON.parse(autopilot('ope', 'power', '--delta', '0.03', '--sd', '0.1', '--design', 'two-sample').stdout);
    expect(two).toMatchObject({ rounds: 175, total_rounds: 350 });
  });

  it('estimates sd from a pilot file', () => {
    const pilot = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1]; // sample sd = sqrt(0.06/5) = 0.10954
    const r = autopilot('ope', 'power', '--delta', '0.03', '--pilot', file('pilot.json', pilot));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.sd).toBeCloseTo(Math.sqrt(0.06 / 5), 12);
    expect(out.rounds).toBe(Math.ceil(((1.959963984540054 + 0.8416212335729143) * out.sd / 0.03) ** 2));
  });

  it('refuses missing or bad flags by name', () => {
    expect(autopilot('ope', 'power', '--sd', '0.1').stderr).toBe('error: --delta: got nothing, expected the difference to detect, e.g. 0.03\n');
    expect(autopilot('ope', 'power', '--delta', '0.03').stderr).toBe('error: --sd: got nothing, expected the per-round standard deviation (or --pilot FILE to estimate it)\n');
    expect(autopilot('ope', 'power', '--delta', '0.03', '--sd', '0.1', '--power', '80').stderr).toBe('error: --power: got "80", expected a number in (0, 1)\n');
    expect(autopilot('ope', 'power', '--delta', '0.03', '--sd', '0.1', '--design', 'ab').stderr).toBe('error: --design: got "ab", expected paired or two-sample\n');
  });
});
