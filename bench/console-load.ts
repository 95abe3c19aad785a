/**
 * The web console's first load on loopback. Run: node -r ./scripts/register-ts.js bench/console-load.ts [versions, default 500] [loads, default 7]
 *
 * A model with `versions` versions (each with 8 metrics and 2 tags) in a fresh PostgreSQL database, the
 * API (auth on, no Temporal) serving console/dist (build it first: make console), Debian's Chromium
 * through playwright-core. One load: a new browser context (empty cache, the key already in its
 * sessionStorage), goto /console/#/models/<model>, until the versions table shows its last row (v1).
 * Baseline in the same run: the API's own GET /v1/models/<model>/versions from Node (what the page
 * waits for at the least). Also the bundle's size: console/dist's JS and CSS, raw and gzip -9.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../api/testing/chromium';
import { DEFAULT_CONSOLE_DIR, startApiServer } from '../api/server';
import { TEST_AUTHORIZATION } from '../inference/testing/api-key';
import { createServingFixture } from '../inference/testing/fixture';

const VERSIONS = Number(process.argv[2] ?? 500);
const LOADS = Number(process.argv[3] ?? 7);
const MODEL = 'big';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function bundle(): { js: number; css: number; jsGz: number; cssGz: number } {
  const dir = join(DEFAULT_CONSOLE_DIR, 'assets');
  const out = { js: 0, css: 0, jsGz: 0, cssGz: 0 };
  for (const f of readdirSync(dir)) {
    const kind = f.endsWith('.js') ? 'js' : f.endsWith('.css') ? 'css' : null;
    if (kind === null) continue;
    const bytes = readFileSync(join(dir, f));
    out[kind] += statSync(join(dir, f)).size;
    out[`${kind}Gz`] += gzipSync(bytes, { level: 9 }).length;
  }
  return out;
}

async function main(): Promise<void> {
  const b = bundle();
  const fx = await createServingFixture();
  const t0 = Date.now();
  for (let v = 1; v <= VERSIONS; v++) {
    const metrics: Record<string, number> = {};
    for (let m = 0; m < 8; m++) metrics[`eval/metric_${m}`] = Math.sin(v * (m + 1));
    await fx.registry.registerVersion({ model: MODEL, artifact: { buffer: Buffer.from(`{"v":${v}}`) }, fileName: 'policy.json', format: 'json', metrics, tags: { variant: `v${v % 4}`, seed: String(v) }, createModel: true, actor: 'bench' });
  }
  const registerMs = Date.now() - t0;
  await fx.deploy(MODEL, { champion: 1 });
  const api = await startApiServer({ pool: fx.db.pool, databaseUrl: fx.db.url, temporal: null, port: 0, log: () => undefined });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const apiMs: number[] = [];
  const loadMs: number[] = [];
  const versionsBytes = (await (await fetch(`${api.url}/v1/models/${MODEL}/versions`, { headers: { authorization: TEST_AUTHORIZATION } })).text()).length;
  try {
    for (let i = 0; i < LOADS; i++) {
      const a0 = performance.now();
      const res = await fetch(`${api.url}/v1/models/${MODEL}/versions`, { headers: { authorization: TEST_AUTHORIZATION } });
      await res.json();
      apiMs.push(performance.now() - a0);

      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript((key) => (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem('autopilot.apiKey', key), TEST_AUTHORIZATION);
      const page = await context.newPage();
      const l0 = performance.now();
      await page.goto(`${api.url}/console/#/models/${MODEL}`);
      await page.getByRole('table', { name: 'Versions' }).getByRole('rowheader', { name: 'v1', exact: true }).waitFor();
      loadMs.push(performance.now() - l0);
      const rows = await page.getByRole('table', { name: 'Versions' }).getByRole('row').count();
      if (rows !== VERSIONS + 1) throw new Error(`the versions table has ${rows} rows; expected ${VERSIONS + 1}`);
      await context.close();
    }
  } finally {
    await browser.close();
    await api.close();
    await fx.close();
  }
  const r = (x: number) => x.toFixed(0);
  process.stdout.write(
    [
      `registered ${VERSIONS} versions in ${registerMs} ms; GET versions answers ${versionsBytes} bytes`,
      `first load (new context, until the table shows v1), ${LOADS} loads: median ${r(median(loadMs))} ms, min ${r(Math.min(...loadMs))}, max ${r(Math.max(...loadMs))} (all: ${loadMs.map(r).join(' ')})`,
      `baseline GET /v1/models/${MODEL}/versions from Node: median ${r(median(apiMs))} ms (ratio ${(median(loadMs) / median(apiMs)).toFixed(1)}×)`,
      `bundle: JS ${b.js} B (gzip ${b.jsGz} B), CSS ${b.css} B (gzip ${b.cssGz} B), total ${b.js + b.css} B (gzip ${b.jsGz + b.cssGz} B)`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
