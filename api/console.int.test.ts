/**
 * The web console (console/, built into console/dist by `make console`) in Debian's Chromium driven by
 * playwright-core, against the API process's server with real PostgreSQL and a Temporal dev server
 * running the real canaryPromotion workflow (stand-in activities, api/testing/canary-stand-in.ts).
 * Screenshots of every page go to .data/console-screenshots/ (a test artifact; docs/console.png is one
 * of them, copied by hand). Without Chromium the suite is skipped, and fails under CI=true.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { CanaryPlanInput } from '../canary/plan';
import { canaryWorkflowId, statusQuery, type RollbackInput } from '../contracts/canary';
import { DecisionStore } from '../decision-log';
import { newDecisionId } from '../inference/decisions/id';
import { TEST_AUTHORIZATION } from '../inference/testing/api-key';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { runShortPpo } from '../activities/ppo/testing/short-run';
import { createKey } from '../registry/keys';
import { startDevServer } from '../test/support/temporal';
import { describeWithTool } from '../test/support/tools';
import { DEFAULT_CONSOLE_DIR, startApiServer, type ApiServer } from './server';
import { standInCanaryActivities, standInCheck } from './testing/canary-stand-in';
import { CHROMIUM, CHROMIUM_ARGS } from './testing/chromium';

const SHOTS = join(__dirname, '..', '.data', 'console-screenshots');
const MODEL = 'ranker';
const TEMPORAL_UI = 'http://127.0.0.1:8233/namespaces/default';
/** No check within the test: the canary stays at 5%. */
const PLAN: CanaryPlanInput = { stepWeights: [5, 25, 50, 100], interval: '1h', checkInterval: '1h', threshold: 2 };
/** A check every second, a decision look every 3 s: the step advances when the test lets the check pass. */
const FAST_PLAN: CanaryPlanInput = { stepWeights: [5, 25, 50, 100], interval: '3s', checkInterval: '1s', threshold: 2, maxInconclusive: 1000 };

const describeConsole = describeWithTool('api/console.int.test.ts', existsSync(CHROMIUM), `${CHROMIUM} is absent; install Debian's chromium package (apt-get install chromium)`);

describeConsole('web console in Chromium (API + PostgreSQL + Temporal dev server)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let browser: Browser;
  let readKey: string;
  let runId: string;
  const rollbacks: RollbackInput[] = [];
  /** Whether the stand-in check passes (a passing decision look advances the step). */
  let checksPass = false;
  const taskQueue = `rollout-console-${randomUUID()}`;

  beforeAll(async () => {
    if (!existsSync(join(DEFAULT_CONSOLE_DIR, 'index.html'))) throw new Error(`${DEFAULT_CONSOLE_DIR}/index.html is absent: build the console first (make console)`);
    mkdirSync(SHOTS, { recursive: true });
    [env, fx, browser] = await Promise.all([startDevServer(), createServingFixture(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    for (const seed of [1, 2]) await fx.register(MODEL, seed);
    await fx.registry.registerVersion({ model: MODEL, artifact: { buffer: Buffer.from('{}') }, fileName: 'policy.json', format: 'json', metrics: { 'ope/dr': 0.64, 'eval/reward': 1.9 }, tags: { variant: 'b' }, actor: 'test' });
    await fx.deploy(MODEL, { champion: 1 });
    readKey = (await createKey(fx.registry.db, { name: 'console read-only', scopes: ['read'] })).token;
    const run = await fx.registry.recordRun({ kind: 'ppo', model: MODEL, config: { lr: 0.0003 } });
    runId = run.id;
    for (let step = 0; step < 20; step++) {
      await fx.registry.appendRunMetrics(runId, step, {
        'charts/episodic_return': Math.log1p(step) + (step % 3) * 0.1,
        'eval/gate_violations': step % 7 === 0 ? 1 : 0,
        latency_p50_ms: 120 - step,
        latency_p95_ms: 300 - 2 * step,
        'variant/A/share': 0.5 + step / 50,
        'variant/A/return': 0.6,
        'variant/B/share': 0.5 - step / 50,
        'variant/B/return': 0.4 + step / 100,
      });
    }
    // a sweep's cells: quality vs cost of each run's version (c2 is dominated by c1)
    for (const [i, metrics] of [{ quality: 0.6, cost_usd: 0.01 }, { quality: 0.7, cost_usd: 0.02 }, { quality: 0.65, cost_usd: 0.03 }, { quality: 0.8, cost_usd: 0.05 }].entries()) {
      const cell = await fx.registry.recordRun({ kind: 'ppo', model: `sweep-c${i}`, workflowId: `sweep-console/cell-${i}` });
      await fx.registry.registerVersion({ model: `sweep-c${i}`, artifact: { buffer: Buffer.from('{}') }, fileName: 'policy.json', format: 'json', metrics: { ...metrics, eval_reward: 0.1 * i }, lineage: { runId: cell.id }, createModel: true, actor: 'test' });
    }
    const estimates = { dr: { value: 0.61, lower: 0.55, upper: 0.67 }, ips: { value: 0.6, lower: 0.5, upper: 0.7 } };
    await fx.registry.recordEvaluation({ model: MODEL, version: 3, kind: 'ope', verdict: 'pass', summary: { estimates, gate: { estimator: 'dr', value: 0.04, lower: 0.01, upper: 0.07 } }, actor: 'test' });
    const drift = await fx.registry.recordRun({ id: `drift-monitor:${randomUUID()}`, kind: 'drift-monitor', model: MODEL, workflowId: `drift/${MODEL}` });
    await fx.registry.appendRunMetrics(drift.id, 0, { 'drift/detected': 0 });
    await fx.registry.appendRunMetrics(drift.id, 1, { 'drift/detected': 1, 'drift/feature/x/psi': 0.4 });

    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('../workflows/canaryPromotion'), activities: standInCanaryActivities(rollbacks, (input) => standInCheck(input, checksPass)) });
    running = worker.run();
    api = await startApiServer({ pool: fx.db.pool, databaseUrl: fx.db.url, temporal: env.client, port: 0, canaryTaskQueue: taskQueue, temporalUi: TEMPORAL_UI, log: () => undefined });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await fx?.close();
  });

  /** A fresh tab (its own sessionStorage) that entered `key` in the console's key form. */
  async function signedIn(key: string): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${api.url}/console/`);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('heading', { name: 'Models' }).waitFor();
    return page;
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  async function adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${api.url}${path}`, { method, headers: { authorization: TEST_AUTHORIZATION, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  }

  let admin: Page;

  it('asks for a key when the API answers 401, then lists the models; a wrong key is refused with the reason', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${api.url}/console/`);
    await page.getByLabel('API key').fill('apk_aaaaaaaaaaaa_nope');
    await shot(page, '0-key-form');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused this key' }).waitFor();
    await page.close();

    admin = await signedIn(TEST_AUTHORIZATION);
    const row = admin.getByRole('row', { name: new RegExp(`^${MODEL} 3 1`) });
    await row.waitFor();
    await shot(admin, '1-models');
  });

  it('opens a model: its versions with metrics, aliases and lineage; compares two versions side by side', async () => {
    await admin.getByRole('link', { name: MODEL, exact: true }).click();
    await admin.getByRole('heading', { name: `Model ${MODEL}` }).waitFor();
    const versions = admin.getByRole('table', { name: 'Versions' });
    await versions.getByRole('row', { name: /^v1 champion champion/ }).waitFor();
    expect(await versions.getByRole('rowheader').allTextContents()).toEqual(['v3', 'v2', 'v1']);
    expect(await versions.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining(['eval/reward', 'ope/dr']));

    await admin.getByLabel('Version A').selectOption('1');
    await admin.getByLabel('Version B').selectOption('3');
    const compare = admin.getByRole('table', { name: 'Compare version 1 and version 3' });
    await compare.getByRole('row', { name: /metric ope\/dr — 0.64/ }).waitFor();
    await compare.getByRole('row', { name: /tag variant — b/ }).waitFor();
    const evaluations = admin.getByRole('table', { name: 'Evaluations' });
    await evaluations.getByRole('row', { name: /v3 ope pass/ }).getByText('dr 0.61 [0.55, 0.67]').waitFor();
    await evaluations.getByText('gate (dr vs champion): Δ 0.04 [0.01, 0.07]').waitFor();
    await shot(admin, '2-model');
  });

  it('shows the deployment and rolls back from the page (admin key)', async () => {
    expect((await adminCall('POST', `/v1/deployments/${MODEL}`, { championVersion: 2, reason: 'console test' })).status).toBe(200);
    await admin.goto(`${api.url}/console/#/deployments/${MODEL}`);
    const state = admin.getByRole('definition').filter({ hasText: /^v2$/ });
    await state.waitFor();
    await admin.getByLabel('Reason').fill('console rollback');
    await admin.getByRole('button', { name: 'Roll back' }).click();
    await admin.getByRole('status').filter({ hasText: 'champion v2 → v1' }).waitFor();
    await admin.getByRole('cell', { name: 'deployment.rollback' }).waitFor();
    expect((await adminCall('GET', `/v1/deployments/${MODEL}`)).body.championVersion).toBe(1);

    // requests and reward per arm from the decision log, refreshed by the page's polling
    const store = new DecisionStore({ pool: fx.db.pool });
    const log = async (arm: string, version: number, reward: number | null, ago: number) => {
      const decisionId = newDecisionId(Date.now() - ago);
      await store.insertDecisions([{ decisionId, time: new Date(Date.now() - ago), deployment: MODEL, model: MODEL, version, arm, features: [0], action: 0, propensity: 1, latencyMs: 12 }]);
      if (reward !== null) await store.insertRewards([{ decisionId, reward }]);
    };
    for (const [i, r] of [0.2, 0.4, 0.6, 0.8].entries()) await log('champion', 1, r, 60_000 * (i + 1));
    for (const [i, r] of [1, 1.2].entries()) await log('canary', 2, r, 90_000 * (i + 1));
    await log('shadow', 2, null, 30_000);
    const arms = admin.getByRole('table', { name: 'Arms' });
    // champion: mean 0.5, s = 0.2582, t(0.975, 3) = 3.1824: [0.08915, 0.9109]; canary: 1.1 ± 12.706 · 0.1
    await arms.getByRole('row', { name: /^champion v1 4 57\.1% 4 0\.5 \[0\.08915, 0\.9109\] 12$/ }).waitFor({ timeout: 15_000 });
    await arms.getByRole('row', { name: /^canary v2 2 28\.6% 2 1\.1 \[-0\.1706, 2\.371\] 12$/ }).waitFor();
    await arms.getByRole('row', { name: /^shadow v2 1 .* 0 — \(not served\)/ }).waitFor();
    await log('canary', 2, 1.1, 10_000);
    await arms.getByRole('row', { name: /^canary v2 3 .* 3 1\.1 \[/ }).waitFor({ timeout: 15_000 });
    await shot(admin, '3-deployment');
  });

  it('shows a canary’s timeline advance with its gate values, pauses it (Temporal query) and aborts it (rollback, Failed)', async () => {
    expect((await adminCall('POST', `/v1/canaries/${MODEL}`, { version: 3, plan: FAST_PLAN })).status).toBe(201);
    await admin.goto(`${api.url}/console/#/canaries/${MODEL}`);
    // the 5% step becomes the current one as the workflow sets the weight (the page polls every 2 s);
    // its checks (inconclusive: the decision looks extend the step) show their gate values
    const step5 = admin.getByTestId('step-5');
    await admin.locator('[data-testid="step-5"][aria-current="step"]').waitFor({ timeout: 30_000 });
    await step5.getByText('error_rate = 0.002 (≤ 0.01)').first().waitFor({ timeout: 30_000 });
    await step5.getByRole('cell', { name: /^0\.031 \[0\.004, 0\.058\]/ }).first().waitFor();
    expect(await admin.locator('[data-testid="step-25"] .state').textContent()).toBe('pending');
    const canaryRunId = (await env.client.workflow.getHandle(canaryWorkflowId(MODEL)).describe()).runId;
    expect(await admin.getByRole('link', { name: 'open in the Temporal UI' }).getAttribute('href')).toBe(`${TEMPORAL_UI}/workflows/canary%2F${MODEL}/${canaryRunId}/history`);
    await shot(admin, '4-canary-progressing');

    // let the next decision look pass: the timeline moves on to 25%; then hold it there
    const handle = env.client.workflow.getHandle(canaryWorkflowId(MODEL));
    checksPass = true;
    await waitFor(async () => (await handle.query(statusQuery)).canaryWeight === 25, 30_000, 'the canary at 25%');
    checksPass = false;
    await admin.locator('[data-testid="step-25"][aria-current="step"]').waitFor({ timeout: 10_000 });
    expect(await admin.locator('[data-testid="step-5"] .state').textContent()).toBe('done');
    expect(await admin.getByTestId('weight').textContent()).toContain('25%');

    // from the keyboard: Tab from the Reason field reaches Pause, Enter presses it
    await admin.getByLabel('Reason').focus();
    await admin.keyboard.press('Tab');
    expect(await admin.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string } | null } }).document.activeElement?.textContent)).toBe('Pause');
    await admin.keyboard.press('Enter');
    await waitFor(async () => (await handle.query(statusQuery)).paused, 10_000, 'the workflow to report paused');
    await admin.getByRole('button', { name: 'Resume' }).waitFor();
    await admin.getByTestId('phase').filter({ hasText: '(paused)' }).waitFor();
    await shot(admin, '5-canary-paused');

    await admin.getByLabel('Reason').fill('console test abort');
    await admin.getByRole('button', { name: 'Abort' }).click();
    await admin.getByTestId('phase').filter({ hasText: 'Failed' }).waitFor({ timeout: 30_000 });
    await admin.getByTestId('execution').filter({ hasText: 'COMPLETED' }).waitFor();
    expect(await admin.getByRole('button', { name: 'Pause' }).count()).toBe(0); // no actions on an ended canary
    expect(rollbacks).toEqual([expect.objectContaining({ model: MODEL, version: 3, reason: expect.stringContaining('console test abort') })]);
    await shot(admin, '6-canary-aborted');
  });

  it('shows the audit log with the key of every change', async () => {
    await admin.goto(`${api.url}/console/#/audit?model=${MODEL}`);
    const table = admin.getByRole('table', { name: 'Audit log' });
    for (const action of ['canary.start', 'canary.pause', 'canary.abort', 'deployment.rollback']) await table.getByRole('cell', { name: action, exact: true }).first().waitFor();
    await admin.getByLabel('Action').fill('canary.pause');
    await waitFor(async () => (await table.getByRole('row').count()) === 2, 10_000, 'the filtered audit log (header + 1 row)');
    await admin.getByLabel('Action').fill('');
    await shot(admin, '7-audit');
  });

  it('lists drift found by driftMonitor runs', async () => {
    await admin.getByRole('link', { name: 'Drift', exact: true }).click();
    await admin.getByRole('table', { name: 'Drift events' }).getByRole('row', { name: /feature\/x\/psi = 0\.4/ }).waitFor();
    await shot(admin, '8-drift');
  });

  it('charts quality vs cost across runs with the Pareto frontier (uPlot)', async () => {
    await admin.goto(`${api.url}/console/#/runs`);
    const chart = admin.getByRole('img', { name: 'Quality vs cost per request across runs, Pareto frontier' });
    await chart.locator('canvas').waitFor();
    expect(await chart.locator('.u-legend .u-label').allTextContents()).toEqual(['cost per request (USD)', 'runs', 'Pareto frontier']);
    const front = admin.getByRole('table', { name: 'Pareto-optimal runs' });
    await front.getByText('Pareto-optimal: 3 of 4 runs').waitFor();
    for (const row of [/ sweep-c0 v1 0\.6 0\.01 0$/, / sweep-c1 v1 0\.7 0\.02 0\.1$/, / sweep-c3 v1 0\.8 0\.05 0\.3$/]) await front.getByRole('row', { name: row }).waitFor();
    expect(await front.getByRole('row').count()).toBe(4); // the header and the three
    expect(await front.getByText('sweep-c2').count()).toBe(0); // dominated by sweep-c1
    await shot(admin, '9-runs-pareto');
  });

  it('charts a run’s metrics by step (uPlot): policy performance, latency, variant breakdown, any metric', async () => {
    await admin.goto(`${api.url}/console/#/runs?model=${MODEL}`);
    await admin.getByRole('link', { name: runId }).click();
    const perf = admin.getByRole('img', { name: 'charts/episodic_return by step, moving average, gate breaches' });
    await perf.locator('canvas').waitFor();
    expect(await perf.locator('.u-legend .u-label').allTextContents()).toEqual(['step', 'charts/episodic_return', 'moving average (10)', 'eval/gate_violations']);
    // the legend shows the values under the cursor: hover the plot's right end (step 19)
    const over = perf.locator('.u-over');
    const box = (await over.boundingBox())!;
    await admin.mouse.move(box.x + box.width - 1, box.y + box.height / 2);
    const values = perf.locator('.u-legend .u-value');
    await waitFor(async () => (await values.first().textContent()) === '19', 10_000, 'the legend at step 19');
    expect(Number(await values.nth(1).textContent())).toBeCloseTo(Math.log1p(19) + 0.1, 2);
    await admin.getByRole('img', { name: 'latency percentiles by step' }).locator('canvas').waitFor();
    await admin.getByRole('img', { name: 'share of actions by variant and step' }).locator('canvas').waitFor();
    const variants = admin.getByRole('table', { name: 'Variant breakdown' });
    await variants.getByRole('row', { name: 'A 0.88 0.6' }).waitFor();
    await variants.getByRole('row', { name: 'B 0.12 0.59' }).waitFor();
    await admin.getByRole('img', { name: 'charts/episodic_return by step', exact: true }).locator('canvas').waitFor();
    await shot(admin, '9-run');
  });

  it('charts a real short PPO run: latency p50/p95, gate breaches and the variant breakdown the trainer recorded', async () => {
    const ppoRun = await runShortPpo({ pool: fx.db.pool, store: fx.store }, MODEL);
    const last = Object.fromEntries((await fx.registry.readRunMetrics(ppoRun)).filter((m) => m.step === 3).map((m) => [m.name, m.value]));
    await admin.goto(`${api.url}/console/#/runs/${encodeURIComponent(ppoRun)}`);
    const perf = admin.getByRole('img', { name: 'charts/episodic_return by step, moving average, gate breaches' });
    await perf.locator('canvas').waitFor();
    expect(await perf.locator('.u-legend .u-label').allTextContents()).toEqual(['step', 'charts/episodic_return', 'moving average (10)', 'charts/gate_breach_rate', 'charts/gate_breaches']);
    const latency = admin.getByRole('img', { name: 'latency percentiles by step' });
    await latency.locator('canvas').waitFor();
    expect(await latency.locator('.u-legend .u-label').allTextContents()).toEqual(['step', 'charts/latency_p50_ms', 'charts/latency_p95_ms']);
    await admin.getByRole('img', { name: 'share of actions by variant and step' }).locator('canvas').waitFor();
    // the table at the last step shows the recorded share and conditional return (the console's number format)
    const fmt = (v: number | undefined) => (v === undefined ? '—' : Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e6 || Math.abs(v) < 0.001 ? v.toExponential(3) : String(Number(v.toPrecision(4))));
    const variants = admin.getByRole('table', { name: 'Variant breakdown' });
    for (const v of ['A', 'B']) await variants.getByRole('row', { name: `${v} ${fmt(last[`variant/${v}/share`])} ${fmt(last[`variant/${v}/return`])}`, exact: true }).waitFor();
    await shot(admin, '9-run-ppo');
  });

  it('with --auth off there is no key form: the console opens on the models and may change everything', async () => {
    const open = await startApiServer({ pool: fx.db.pool, databaseUrl: fx.db.url, temporal: null, port: 0, auth: false, log: () => undefined });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${open.url}/console/#/deployments/${MODEL}`);
      await page.getByLabel('Signed in as').filter({ hasText: 'auth off (local)' }).waitFor();
      await page.getByRole('button', { name: 'Roll back' }).waitFor();
      expect(await page.getByLabel('API key').count()).toBe(0);
      await page.close();
    } finally {
      await open.close();
    }
  });

  it('a read-only key sees no mutation buttons, and the API refuses the mutation (403)', async () => {
    expect((await adminCall('POST', `/v1/canaries/${MODEL}`, { version: 3, plan: PLAN })).status).toBe(201);
    const reader = await signedIn(readKey);
    await reader.getByText('(read-only)').waitFor();
    await reader.goto(`${api.url}/console/#/canaries/${MODEL}`);
    await reader.locator('[data-testid="step-5"][aria-current="step"]').waitFor({ timeout: 30_000 });
    expect(await reader.getByRole('button').allTextContents()).toEqual(['Forget key']);
    await reader.goto(`${api.url}/console/#/deployments/${MODEL}`);
    await reader.getByRole('heading', { name: 'Generation history' }).waitFor();
    expect(await reader.getByRole('button', { name: 'Roll back' }).count()).toBe(0);
    await shot(reader, '10-read-only');

    // the same call the Pause button makes, with this key, from the page
    const status = await reader.evaluate(async (m) => {
      const key = (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('autopilot.apiKey');
      const res = await fetch(`/v1/canaries/${m}/pause`, { method: 'POST', headers: { authorization: `Bearer ${key ?? ''}`, 'content-type': 'application/json' }, body: '{}' });
      return res.status;
    }, MODEL);
    expect(status).toBe(403);
    expect((await env.client.workflow.getHandle(canaryWorkflowId(MODEL)).query(statusQuery)).paused).toBe(false);

    // the admin promotes it from the page
    await admin.goto(`${api.url}/console/#/canaries/${MODEL}`);
    await admin.getByRole('button', { name: 'Promote' }).click();
    await admin.getByTestId('phase').filter({ hasText: '(promoted)' }).waitFor({ timeout: 30_000 });
  });
});
