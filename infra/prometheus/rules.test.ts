/**
 * `make rules-check` (scripts/prometheus-tools.sh check) on the real rules passes, and on copies with a
 * planted error fails the way it should: a YAML syntax error (promtool check rules names the file), a
 * test expecting an alert that does not fire and a rule that can never fire (promtool test rules), and
 * an alert no test sees firing (the script's coverage check). Needs promtool (Debian's `prometheus`
 * package, `scripts/prometheus-tools.sh install`); outside CI the suite is skipped without it, in CI
 * (`CI` set) a missing promtool fails it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeWithTool } from '../../test/support/tools';

const root = resolve(__dirname, '..', '..');
const script = join(root, 'scripts', 'prometheus-tools.sh');
const hasPromtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

const describeWithPromtool = (): jest.Describe =>
  describeWithTool('infra/prometheus/rules.test.ts', hasPromtool, 'promtool is not on PATH; install it with scripts/prometheus-tools.sh install (Debian package prometheus)');

/** Runs the Makefile target's check on `dir`; exit status and stdout+stderr. */
function check(dir: string): { status: number | null; output: string } {
  const r = spawnSync('bash', [script, 'check', dir], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

/** Replaces exactly one occurrence of `from` in `file` (so a planted error can't silently miss). */
function plant(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`${file}: expected exactly one ${JSON.stringify(from)} to replace`);
  writeFileSync(file, text.slice(0, at) + to + text.slice(at + from.length));
}

describeWithPromtool()('infra/prometheus rules check (make rules-check)', () => {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'autopilot-prom-'));
    cpSync(__dirname, dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on the real rules, rule tests and config', () => {
    const r = check(dir);
    expect(r.output).toContain('is valid prometheus config file syntax');
    expect(r.output).toContain('alerts is tested firing and silent');
    expect(r.status).toBe(0);
  });

  it('fails on a rule file with a syntax error, naming the file', () => {
    const file = join(dir, 'rules', 'serving.yml');
    plant(file, '      - alert: AutopilotInferenceDown\n', '      - alert: AutopilotInferenceDown\n     broken: [\n');
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(new RegExp(`FAILED:[\\s\\S]*${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });

  it('fails when a rule test expects an alert that does not fire', () => {
    plant(join(dir, 'tests', 'serving.test.yml'), '      - eval_time: 12m\n        alertname: AutopilotCanaryEjected\n', '      - eval_time: 12m\n        alertname: AutopilotCanaryStuck\n');
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('alertname: AutopilotCanaryStuck');
    expect(r.output).toContain('FAILED');
  });

  it('fails when a rule can never fire (its firing test breaks)', () => {
    plant(join(dir, 'rules', 'serving.yml'), 'expr: deployment:autopilot_fallbacks:ratio_rate5m > 0.01', 'expr: deployment:autopilot_fallbacks:ratio_rate5m > 1');
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('alertname: AutopilotFallbacksServed');
  });

  it('fails when an alert has no test where it fires', () => {
    const file = join(dir, 'rules', 'serving.yml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}      - alert: AutopilotUntested\n        expr: vector(1) > 2\n`);
    const r = check(dir);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('alert AutopilotUntested has no test in');
  });
});
