/**
 * The registry from the shell: `bin/autopilot` run as a child process against a fresh database and a
 * temp artifact directory, exactly as a person would use it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';

const bin = resolve(__dirname, '..', 'bin', 'autopilot');
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'ap-cli-'));
});
afterAll(async () => {
  await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

function autopilot(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          ...process.env,
          AUTOPILOT_DATABASE_URL: db.url,
          AUTOPILOT_ARTIFACT_URI: `file://${join(dir, 'artifacts')}`,
          AUTOPILOT_DATA_DIR: join(dir, 'data'),
          AUTOPILOT_ACTOR: 'cli:test',
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

it('migrates, registers, deploys, lists, shows and downloads; errors are one clear line', async () => {
  const migrated = await autopilot('db', 'migrate', '--json');
  expect(migrated.stderr).toBe('');
  expect(JSON.parse(migrated.stdout).applied).toContain('001_models.sql');

  const model = join(dir, 'policy.onnx');
  const bytes = randomBytes(20_000);
  writeFileSync(model, bytes);
  writeFileSync(join(dir, 'sig.json'), JSON.stringify({ inputs: [{ name: 'obs', shape: [1, 16] }], outputs: [{ name: 'variant' }] }));

  const r1 = await autopilot('models', 'register', 'rag-policy', '--file', model, '--signature', join(dir, 'sig.json'), '--tag', 'env=dev', '--metric', 'reward_mean=0.61', '--json');
  expect(r1.stderr).toBe('');
  const v1 = JSON.parse(r1.stdout);
  expect(v1).toMatchObject({ model: 'rag-policy', version: 1, format: 'onnx', size: 20_000, tags: { env: 'dev' }, metrics: { reward_mean: 0.61 }, signature: { inputs: [{ name: 'obs', shape: [1, 16] }] }, createdBy: 'cli:test' });

  const r2 = await autopilot('models', 'register', 'rag-policy', '--file', model, '--metric', 'reward_mean=0.72', '--champion');
  expect(r2.stdout).toMatch(/^registered rag-policy v2 \(onnx, 20 KiB, sha256 [0-9a-f]{64}\) as champion\n {2}artifact file:\/\/.*\/models\/rag-policy\/versions\/[0-9a-f-]{36}\/policy\.onnx\n$/);

  const dep = await autopilot('deploy', 'rag-policy', '--canary', '1', '--weight', '25', '--fallback', '{"variant":"A","k":8}');
  expect(dep.stdout).toBe(
    'deployed rag-policy generation 2: champion v2, canary v1 at 25%, fallback {"k":8,"variant":"A"} (policy, exploration ε-greedy, ε = 0.05)\n  status: v1 registered→canary\n',
  );

  const bad = await autopilot('deploy', 'rag-policy', '--canary', '9');
  expect(bad.code).toBe(3);
  expect(bad.stderr).toBe('error: version rag-policy/9 not found (canaryVersion: rag-policy has versions 1..2)\n');

  const list = await autopilot('models', 'list');
  expect(list.stdout.split('\n')[1]).toMatch(/^rag-policy\s+v2\s+v2\s+v1 @ 25%\s+2$/);

  const show = JSON.parse((await autopilot('models', 'show', 'rag-policy', '--json')).stdout);
  expect(show.deployment).toMatchObject({ championVersion: 2, canaryVersion: 1, canaryWeight: 25, generation: 2 });
  expect(show.aliases.map((a: { alias: string; version: number }) => `${a.alias}=${a.version}`)).toEqual(['canary=1', 'champion=2']);
  expect(show.versions.map((v: { version: number; status: string }) => `${v.version}:${v.status}`)).toEqual(['2:champion', '1:canary']);

  const out = join(dir, 'downloaded.onnx');
  const dl = await autopilot('models', 'download', 'rag-policy', 'canary', '--out', out);
  expect(dl.stdout).toMatch(/^downloaded rag-policy v1 to .*downloaded\.onnx \(20 KiB, sha256 [0-9a-f]{64} verified\)\n$/);
  expect(readFileSync(out)).toEqual(bytes);

  // A Hugging Face model folder round-trips as a folder.
  const hf = join(dir, 'hf-model');
  mkdirSync(join(hf, 'tokenizer'), { recursive: true });
  writeFileSync(join(hf, 'config.json'), '{"model_type":"llama"}');
  writeFileSync(join(hf, 'tokenizer', 'tokenizer.json'), '{"vocab":{}}');
  const hfReg = await autopilot('models', 'register', 'approval-policy', '--file', hf);
  expect(hfReg.stdout).toMatch(/^registered approval-policy v1 \(hf folder, 34 B, sha256 [0-9a-f]{64}\)\n {2}artifact file:\/\/.*\/manifest\.json\n$/);
  const hfOut = join(dir, 'hf-out');
  expect((await autopilot('models', 'download', 'approval-policy', 'latest', '--out', hfOut)).code).toBe(0);
  expect(readFileSync(join(hfOut, 'tokenizer', 'tokenizer.json'), 'utf8')).toBe('{"vocab":{}}');

  const badMetric = await autopilot('models', 'register', 'rag-policy', '--file', model, '--metric', 'reward_mean=high');
  expect(badMetric.code).toBe(2);
  expect(badMetric.stderr).toBe('error: --metric reward_mean=high: expected a number after "="\n');

  // Every change left its audit row, with the CLI's actor.
  const { rows } = await db.pool.query("SELECT action, actor FROM audit_log WHERE model = 'rag-policy' ORDER BY id");
  expect(rows.map((r) => r.action)).toEqual(['model.create', 'version.register', 'version.register', 'deployment.set', 'deployment.set']);
  expect(new Set(rows.map((r) => r.actor))).toEqual(new Set(['cli:test']));
});

it('deploy: exploration by default; explicit greedy is served and warned about on stderr', async () => {
  const model = join(dir, 'explore.onnx');
  writeFileSync(model, randomBytes(1000));
  expect((await autopilot('models', 'register', 'explore-policy', '--file', model, '--champion')).code).toBe(0);
  const shown = JSON.parse((await autopilot('models', 'show', 'explore-policy', '--json')).stdout);
  expect(shown.deployment.exploration).toEqual({ mode: 'greedy', epsilon: 0.05 });

  const greedy = await autopilot('deploy', 'explore-policy', '--exploration', 'greedy');
  expect(greedy.code).toBe(0);
  expect(greedy.stderr).toBe(
    'warning: explore-policy serves greedy (argmax, propensity 1): its logged decisions give off-policy evaluation no support for any other policy ' +
      '(the propensity of every other action is 0); give --exploration greedy --epsilon 0.05 (ε-greedy) or --exploration sample\n',
  );
  expect(greedy.stdout).toMatch(/\(policy, exploration greedy \(argmax, propensity 1\)\)\n$/);

  const eps = await autopilot('deploy', 'explore-policy', '--exploration', 'greedy', '--epsilon', '0.1');
  expect(eps.stderr).toBe('');
  expect(eps.stdout).toMatch(/\(policy, exploration ε-greedy, ε = 0\.1\)\n$/);
  const soft = await autopilot('deploy', 'explore-policy', '--exploration', 'sample', '--temperature', '2', '--epsilon', '0.02');
  expect(soft.stdout).toMatch(/\(policy, exploration sample with ε = 0\.02, T = 2\)\n$/);

  expect((await autopilot('deploy', 'explore-policy', '--exploration', 'greedy', '--epsilon', '2')).stderr).toBe('error: --epsilon "2": expected a probability in [0, 1]\n');
  expect((await autopilot('deploy', 'explore-policy', '--epsilon', '0.1')).stderr).toBe('error: --epsilon needs --exploration greedy or sample (the whole rule is replaced, e.g. --exploration greedy --epsilon 0.05)\n');
});

it('models create, then deploy a bandit from the shipped model-selection config (what make demo does); a second create is refused unless --exist-ok', async () => {
  await autopilot('db', 'migrate');
  const created = await autopilot('models', 'create', 'model-router', '--description', 'LLM per request');
  expect(created).toMatchObject({ code: 0, stdout: 'created model model-router\n' });
  const again = await autopilot('models', 'create', 'model-router');
  expect(again.code).not.toBe(0);
  expect(again.stderr).toMatch(/model-router.*already exists/);
  const ok = await autopilot('models', 'create', 'model-router', '--exist-ok', '--json');
  expect(ok.code).toBe(0);
  expect(JSON.parse(ok.stdout)).toMatchObject({ created: false, model: { name: 'model-router', description: 'LLM per request' } });
  const config = resolve(__dirname, '..', 'configs', 'bandits', 'model-selection.yaml');
  const deployed = await autopilot('deploy', 'model-router', '--kind', 'bandit', '--champion', 'none', '--config', config, '--reason', 'demo', '--json');
  expect(deployed.stderr).toBe('');
  const d = JSON.parse(deployed.stdout).deployment;
  expect(d).toMatchObject({ kind: 'bandit', championVersion: null });
  expect(d.config.arms.map((a: { name: string }) => a.name)).toEqual(['cheap', 'mid', 'premium']);
  const bad = await autopilot('models', 'create', 'no spaces allowed');
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/name/);
});
