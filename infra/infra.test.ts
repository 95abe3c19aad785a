/**
 * scripts/check-infra.sh (make infra-check) on copies of infra/: the clean tree passes, and one planted
 * error in each kind of file fails it with a message naming that file. Uses the tools `make test`'s
 * infra-check step installed (.venv-infra): without them the suite is skipped with a warning, except in CI
 * (`CI` set) where a missing tool fails it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeWithTool } from '../test/support/tools';

const root = resolve(__dirname, '..');
const script = join(root, 'scripts', 'check-infra.sh');

const describeWithInfraTools = (): jest.Describe =>
  describeWithTool('infra/infra.test.ts', existsSync(join(root, '.venv-infra', '.requirements.sha256')), '.venv-infra is absent; build it with scripts/check-infra.sh (make infra-check)');

/** A copy of infra/ in a fresh directory, with `plant` applied to one file (path relative to the copy). */
function copyWith(plant?: { file: string; edit: (text: string) => string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ap-infra-check-'));
  cpSync(join(root, 'infra'), join(dir, 'infra'), { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
  if (plant) {
    const file = join(dir, plant.file);
    const before = readFileSync(file, 'utf8');
    const after = plant.edit(before);
    if (after === before) throw new Error(`planting in ${plant.file}: the edit changed nothing`);
    writeFileSync(file, after);
  }
  return dir;
}

function check(dir: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(script, ['--root', dir], { encoding: 'utf8', env: { ...process.env, CHECK_INFRA_NO_INSTALL: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describeWithInfraTools()('scripts/check-infra.sh', () => {
  it('passes the committed infra/ tree', () => {
    const dir = copyWith();
    dirs.push(dir);
    const r = check(dir);
    expect(r.stderr).not.toContain('FAIL');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('check-infra: all infra checks passed');
    expect(r.stdout).toContain('ok infra/k8s/overlays/prod (rendered)');
    expect(r.stdout).toContain('ok infra/k8s/overlays/dev (rendered)');
    expect(r.stdout).toContain('ok infra/k8s/base/prometheus-rules.yaml (generated from infra/prometheus/rules/*.yml)');
    expect(r.stdout).toContain('ok infra/grafana/dashboards/autopilot-serving.json (dashboard JSON with a uid)');
  });

  it.each([
    {
      what: 'an unknown field in a Deployment spec',
      file: 'infra/k8s/base/inference.yaml',
      edit: (t: string) => t.replace('  replicas: 2\n', '  replicas: 2\n  replicaz: 2\n'),
      message: /FAIL infra\/k8s\/base\/inference\.yaml: Kubernetes [\d.]+ schemas/,
      detail: "'replicaz' was unexpected",
    },
    {
      what: 'a Compose service with an unknown key',
      file: 'infra/compose/compose.yaml',
      edit: (t: string) => t.replace('  redis:\n    image:', '  redis:\n    imagee: redis:7\n    image:'),
      message: /FAIL infra\/compose\/compose\.yaml: Compose specification schema/,
      detail: "'imagee' was unexpected",
    },
    {
      what: 'a Dockerfile apt-get install without --no-install-recommends and USER root last',
      file: 'infra/Dockerfile',
      edit: (t: string) => `${t}USER root\n# hadolint shell=bash\nRUN apt-get update && apt-get install -y curl\n`,
      message: /FAIL infra\/Dockerfile: hadolint/,
      detail: 'DL3015',
    },
    {
      what: 'a kustomization that includes the example Secret',
      file: 'infra/k8s/base/kustomization.yaml',
      edit: (t: string) => t.replace('  - configmap.yaml\n', '  - configmap.yaml\n  - secret.example.yaml\n'),
      message: /FAIL infra\/k8s\/base: renders a Secret/,
      detail: 'never commit them',
    },
    {
      what: 'a rule changed without regenerating the PrometheusRule',
      file: 'infra/prometheus/rules/workers.yml',
      edit: (t: string) => t.replace('for: 2m', 'for: 3m'),
      message: /FAIL infra\/k8s\/base\/prometheus-rules\.yaml: not what infra\/prometheus\/rules\/\*\.yml generate/,
      detail: '+          for: 3m',
    },
  ])('fails on $what, naming $file', ({ file, edit, message, detail }) => {
    const dir = copyWith({ file, edit });
    dirs.push(dir);
    const r = check(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(detail);
  });
});
