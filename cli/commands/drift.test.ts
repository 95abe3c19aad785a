/** `autopilot drift`, run as a child process through bin/autopilot. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../ml/rng';
import { ADWIN, detectAll, PageHinkley } from '../../ml/drift';
import { runCliInProcess } from '../testing/in-process';

const bin = join(__dirname, '..', '..', 'bin', 'autopilot');
let dir: string;

function autopilot(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** 1,500 values of N(0, 0.1²), then 1,500 of N(0.5, 0.1²) (a shift at index 1500). */
const rng = new Rng(42);
const series = Array.from({ length: 3000 }, (_, i) => (i >= 1500 ? 0.5 : 0) + 0.1 * rng.normal());

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'autopilot-drift-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('autopilot drift', () => {
  it('prints ADWIN detection indices as JSON, honouring --delta and --clock', () => {
    const input = file('s.json', JSON.stringify(series));
    const r = autopilot('drift', '--detector', 'adwin', '--input', input, '--delta', '0.01', '--clock', '1');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const indices = JSON.parse(r.stdout) as number[];
    expect(indices).toEqual(detectAll(new ADWIN({ delta: 0.01, clock: 1 }), series));
    expect(indices.length).toBeGreaterThan(0);
    expect(indices[0]).toBeGreaterThanOrEqual(1500);
    expect(indices[0]).toBeLessThan(1520);
  });

  it('runs Page-Hinkley with --kebab-case and --name=value parameters; refuses unknown ones with exit code 2', () => {
    const input = file('s2.json', JSON.stringify(series));
    const r = autopilot('drift', '--detector', 'page-hinkley', '--input', input, '--min-instances=10', '--threshold', '5', '--mode', 'up', '--grace_period', '1');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: unknown parameter --grace_period for detector page-hinkley (expected one of --min-instances, --delta, --threshold, --alpha, --mode)\n');
    const ok = autopilot('drift', '--detector', 'page-hinkley', '--input', input, '--min-instances=10', '--threshold', '5', '--mode', 'up');
    expect(ok.code).toBe(0);
    const indices = JSON.parse(ok.stdout) as number[];
    expect(indices).toEqual(detectAll(new PageHinkley({ min_instances: 10, threshold: 5, mode: 'up' }), series));
    expect(indices.some((i) => i >= 1500 && i < 1600)).toBe(true);
  });

  it('accepts snake_case parameter names like River', async () => {
    const input = file('s3.json', JSON.stringify(series));
    const r = await runCliInProcess('drift', '--detector', 'adwin', '--input', input, '--min_window_length', '10', '--max_buckets', '3');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(detectAll(new ADWIN({ min_window_length: 10, max_buckets: 3 }), series));
  });

  it('refuses bad values, bad detectors and bad input files by name', async () => {
    const good = file('g.json', '[1, 2, 3]');
    const cases: [string[], string][] = [
      [['--detector', 'adwin', '--input', good, '--delta', 'abc'], 'error: --delta must be a number, got "abc"\n'],
      [['--detector', 'adwin', '--input', good, '--clock', '2.5'], 'error: --clock must be an integer, got "2.5"\n'],
      [['--detector', 'adwin', '--input', good, '--clock'], 'error: parameter --clock needs a value (default 32)\n'],
      [['--detector', 'page-hinkley', '--input', good, '--mode', 'sideways'], `error: page-hinkley: --mode must be one of 'up', 'down', 'both', got "sideways"\n`],
      [['--detector', 'adwin', '--input', join(dir, 'missing.json')], `error: cannot read --input ${join(dir, 'missing.json')}: ENOENT: no such file or directory, open '${join(dir, 'missing.json')}'\n`],
      [['--detector', 'adwin', '--input', good, '--delta', '2'], 'error: adwin: --delta must be a number in (0, 1), got 2\n'],
      [['--detector', 'kswin', '--input', good], 'error: --detector must be one of adwin, page-hinkley; got "kswin"\n'],
      [['--detector', 'adwin', '--input', file('b.json', '[1, "x"]')], `error: --input ${join(dir, 'b.json')}: element [1] must be a finite number, got "x"\n`],
      [['--detector', 'adwin', '--input', file('o.json', '{"a": 1}')], `error: --input ${join(dir, 'o.json')} must hold a JSON array of numbers, got object\n`],
    ];
    for (const [args, message] of cases) {
      const r = await runCliInProcess('drift', ...args);
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ args, code: 2, stdout: '', stderr: message });
    }
  });
});
