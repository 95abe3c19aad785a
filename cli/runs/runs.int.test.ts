/**
 * `autopilot runs list|show|compare|export` and `reports fetch` against a real registry database and
 * artifact store, and the MLflow export against a real MLflow tracking server (`mlflow server` from the
 * project's .venv-mlflow, built by `make setup-mlflow`), read back through MLflow's REST API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from '../dev/free-ports';
import { runCliInProcess } from '../testing/in-process';
import { createRegistryFixture, type RegistryFixture } from '../../registry/test-helpers';
import { describeWithTool } from '../../test/support/tools';
import { MlflowClient } from '../mlflow/client';

const mlflowBin = resolve(__dirname, '..', '..', '.venv-mlflow', 'bin', 'mlflow');
const describeMlflow = describeWithTool('cli/runs/runs.int.test.ts', existsSync(mlflowBin), '.venv-mlflow/bin/mlflow is absent; build it with `make setup-mlflow`');

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n';

describeMlflow('runs from the shell and into MLflow', () => {
  let fx: RegistryFixture;
  let tmp: string;
  let mlflow: ChildProcess;
  let mlflowUrl: string;
  const saved = { ...process.env };
  const runA = `ppo-a-${Date.now()}`;
  const runB = `ppo-b-${Date.now()}`;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'ap-runs-'));
    const [port] = await freePorts(1);
    mlflowUrl = `http://127.0.0.1:${port}`;
    mlflow = spawn(mlflowBin, ['server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1',
      '--backend-store-uri', `sqlite:///${join(tmp, 'mlflow.db')}`, '--artifacts-destination', join(tmp, 'mlflow-artifacts')], { stdio: 'ignore', detached: true });

    fx = await createRegistryFixture();
    Object.assign(process.env, { AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: `file://${fx.artifactDir}` });
    const r = fx.registry;
    for (const [id, lr, seed] of [[runA, 0.0003, 1], [runB, 0.001, 2]] as const) {
      await r.recordRun({ id, kind: 'ppo', model: 'rag-tuner', workflowId: `ppo/${id}`, config: { ppo: { learning_rate: lr, clip_coef: 0.2 }, seed } });
      for (let step = 0; step < 5; step++) await r.appendRunMetrics(id, step, { 'charts/episodic_return': seed * step, 'losses/value_loss': 1 / (step + 1) });
    }
    const svg = await fx.store.put(`runs/${runA}/report/report.svg`, SVG, { contentType: 'image/svg+xml' });
    const csv = await fx.store.put(`runs/${runA}/report/summary.csv`, 'iteration,reward\n0,0.1\n', { contentType: 'text/csv' });
    await r.registerVersion({
      model: 'rag-tuner', artifact: { buffer: Buffer.from('onnx bytes') }, fileName: 'policy.onnx', format: 'onnx', createModel: true, actor: 'test',
      tags: { run_id: runA, report_svg: svg.uri, summary_csv: csv.uri }, metrics: { reward_mean: 0.7 }, lineage: { runId: runA },
    });
    await r.finishRun(runA, { status: 'succeeded', summary: { iterations: 5, report: { svg: svg.uri } } });
    await r.finishRun(runB, { status: 'failed', error: 'diverged' });
  }, 60_000);

  afterAll(async () => {
    if (mlflow?.pid && mlflow.exitCode === null) {
      const exited = new Promise((r) => mlflow.once('exit', r));
      try { process.kill(-mlflow.pid, 'SIGTERM'); } catch { /* gone */ }
      await exited;
    }
    process.env = { ...saved };
    await fx?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists, shows and compares runs', async () => {
    const list = await runCliInProcess('runs', 'list', '--model', 'rag-tuner', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((x: { id: string }) => x.id).sort()).toEqual([runA, runB].sort());

    const show = await runCliInProcess('runs', 'show', runA, '--json');
    expect(show.code).toBe(0);
    const d = JSON.parse(show.stdout);
    expect(d.metrics).toContainEqual({ name: 'charts/episodic_return', last: 4, lastStep: 4, min: 0, max: 4, count: 5 });
    expect(d.versions).toEqual([expect.objectContaining({ model: 'rag-tuner', version: 1 })]);
    expect(d.reports.map((x: { name: string }) => x.name).sort()).toEqual(['report.svg', 'summary.csv']);
    expect(d.metricsByStep).toHaveLength(10);
    const human = await runCliInProcess('runs', 'show', runA);
    expect(human.stdout).toMatch(/charts\/episodic_return\s+4\s+4\s+0\s+4\s+5/);

    const cmp = await runCliInProcess('runs', 'compare', runA, runB, '--json');
    const c = JSON.parse(cmp.stdout);
    expect(c.params).toEqual([{ name: 'ppo.learning_rate', values: ['0.0003', '0.001'] }, { name: 'seed', values: ['1', '2'] }]);
    expect(c.metrics).toContainEqual({ name: 'charts/episodic_return', values: [4, 8] });

    const missing = await runCliInProcess('runs', 'show', 'no-such-run');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/no-such-run/);
  });

  it('fetches a run\'s report files byte for byte', async () => {
    const out = join(tmp, 'reports');
    const res = await runCliInProcess('reports', 'fetch', runA, '--out', out, '--json');
    expect(res.code).toBe(0);
    expect(readFileSync(join(out, 'report.svg'), 'utf8')).toBe(SVG);
    expect(readFileSync(join(out, 'summary.csv'), 'utf8')).toBe('iteration,reward\n0,0.1\n');
    const none = await runCliInProcess('reports', 'fetch', runB, '--out', out);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/has no report files/);
  });

  it('exports runs, metrics by step, params and artifacts to MLflow, once', async () => {
    const client = new MlflowClient(mlflowUrl);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const up = await fetch(`${mlflowUrl}/health`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error('mlflow server did not answer /health within 120 s');
      await new Promise((r) => setTimeout(r, 500));
    }

    const res = await runCliInProcess('runs', 'export', '--mlflow', mlflowUrl, '--model', 'rag-tuner', '--json');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const exported = JSON.parse(res.stdout) as { runId: string; mlflowRunId: string; experimentId: string; artifacts: string[] }[];
    expect(exported).toHaveLength(2);

    const a = exported.find((e) => e.runId === runA)!;
    const run = await client.getRun(a.mlflowRunId);
    expect(run.info.status).toBe('FINISHED');
    expect(run.data.params).toEqual(expect.arrayContaining([{ key: 'ppo.learning_rate', value: '0.0003' }, { key: 'seed', value: '1' }]));
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'autopilot.run_id', value: runA }, { key: 'autopilot.versions', value: 'rag-tuner:v1' }]));
    const history = await client.metricHistory(a.mlflowRunId, 'charts/episodic_return');
    expect(history.map((m) => [m.step, m.value]).sort((x, y) => x[0] - y[0])).toEqual([[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]]);
    const top = (await client.listArtifacts(a.mlflowRunId)).map((f) => f.path).sort();
    expect(top).toEqual(['config.json', 'metrics.csv', 'reports', 'summary.json']);
    const reports = (await client.listArtifacts(a.mlflowRunId, 'reports')).map((f) => f.path).sort();
    expect(reports).toEqual(['reports/report.svg', 'reports/summary.csv']);
    const svg = await fetch(`${mlflowUrl}/get-artifact?path=reports/report.svg&run_uuid=${a.mlflowRunId}`).then((r) => r.text());
    expect(svg).toBe(SVG);

    const b = exported.find((e) => e.runId === runB)!;
    expect((await client.getRun(b.mlflowRunId)).info.status).toBe('FAILED');

    const again = await runCliInProcess('runs', 'export', runA, '--mlflow', mlflowUrl, '--json');
    const second = JSON.parse(again.stdout);
    expect(second).toEqual([expect.objectContaining({ runId: runA, mlflowRunId: a.mlflowRunId, alreadyExported: true })]);

    const bad = await runCliInProcess('runs', 'export', runA, '--mlflow', 'ftp://x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/expected an http\(s\) URL/);
  }, 180_000);
});
