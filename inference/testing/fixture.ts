/**
 * Integration-test fixture for the inference server: a fresh PostgreSQL database with the registry
 * migrated, an artifact store (filesystem, or the test S3), helpers to register test policies and
 * set deployments, and servers started against all of it. Everything is real; nothing is mocked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionStore } from '../../decision-log';
import { Registry } from '../../registry';
import { FsArtifactStore } from '../../registry/artifacts/fs';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { migrate } from '../../registry/migrate';
import type { Exploration, Json } from '../../registry/types';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { startInferenceServer, withDbRole, type InferenceServer, type InferenceServerOptions } from '../server';
import { buildTestPolicy, type TestPolicy } from './test-policy';
import { installTestKey, TEST_AUTHORIZATION } from './api-key';

export interface ServingFixture {
  db: TestDatabase;
  registry: Registry;
  /** The decision log's store on the same database (what the servers log). */
  decisions: DecisionStore;
  store: ArtifactStore;
  artifactUri: string;
  dir: string;
  policies: Map<string, TestPolicy>;
  register(model: string, seed: number, opts?: { scale?: number }): Promise<{ version: number; policy: TestPolicy; artifactUri: string }>;
  deploy(model: string, d: { champion?: number | null; canary?: number | null; weight?: number; fallback?: Json | null; exploration?: Exploration }): Promise<number>;
  start(opts?: Partial<InferenceServerOptions>): Promise<InferenceServer>;
  close(): Promise<void>;
}

export async function createServingFixture(opts: { store?: { store: ArtifactStore; uri: string }; s3?: InferenceServerOptions['s3'] } = {}): Promise<ServingFixture> {
  const db = await createTestDatabase();
  await migrate(db.pool);
  // Servers run with auth on (the default, as in production); the test clients send this key.
  await installTestKey(db.pool);
  const dir = mkdtempSync(join(tmpdir(), 'ap-inference-'));
  let store: ArtifactStore;
  let artifactUri: string;
  if (opts.store) {
    store = opts.store.store;
    artifactUri = opts.store.uri;
  } else {
    artifactUri = `file://${join(dir, 'artifacts')}`;
    store = FsArtifactStore.fromUri(artifactUri);
  }
  const registry = new Registry({ pool: db.pool, store });
  const servers: InferenceServer[] = [];
  const policies = new Map<string, TestPolicy>();
  let serverCount = 0;
  return {
    db,
    registry,
    decisions: new DecisionStore({ pool: db.pool }),
    store,
    artifactUri,
    dir,
    policies,
    async register(model, seed, o = {}) {
      const policy = buildTestPolicy(seed, o);
      const v = await registry.registerVersion({
        model,
        artifact: { buffer: policy.bytes },
        format: 'onnx',
        signature: policy.signature as never,
        createModel: true,
        actor: 'test',
      });
      policies.set(`${model}@${v.version}`, policy);
      return { version: v.version, policy, artifactUri: v.artifactUri };
    },
    async deploy(model, d) {
      // A deployment this helper creates serves greedily unless the test says otherwise: the serving
      // tests compare answers with the policy's argmax. What a user's new deployment gets (exploration
      // by default) is what `registry.setDeployment` does without `exploration` (registry/exploration-defaults.int.test.ts).
      const created = d.exploration === undefined && (await registry.findDeployment(model)) === null;
      const r = await registry.setDeployment({
        model,
        ...(d.champion !== undefined ? { championVersion: d.champion } : {}),
        ...(d.canary !== undefined ? { canaryVersion: d.canary } : {}),
        ...(d.weight !== undefined ? { canaryWeight: d.weight } : {}),
        ...(d.fallback !== undefined ? { fallback: d.fallback } : {}),
        ...(d.exploration !== undefined ? { exploration: d.exploration } : created ? { exploration: { mode: 'greedy' } as Exploration } : {}),
        actor: 'test',
      });
      return r.deployment.generation;
    },
    async start(o = {}) {
      const s = await startInferenceServer({
        port: 0,
        // As in production: the least-privilege role of migration 011 (a test's own databaseUrl, e.g. through a proxy, gets it too).
        databaseUrl: withDbRole(o.databaseUrl ?? db.url, 'autopilot_inference'),
        redisUrl: 'redis://127.0.0.1:6379',
        artifactUri,
        s3: opts.s3,
        cacheDir: join(dir, `server-${serverCount++}`),
        defaultMetrics: false,
        reconcileIntervalMs: 10_000,
        log: (l, m) => {
          if (l !== 'info' || process.env.AP_TEST_LOG) process.stderr.write(`inference ${l}: ${m}\n`);
        },
        ...o,
        ...(o.databaseUrl !== undefined ? { databaseUrl: withDbRole(o.databaseUrl, 'autopilot_inference') } : {}),
      });
      servers.push(s);
      return s;
    },
    async close() {
      await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `Authorization` of the test key (./api-key.ts) unless `apiKey` names another token, or null for none. */
function authHeaders(apiKey: string | null | undefined): Record<string, string> {
  if (apiKey === null) return {};
  return { authorization: apiKey === undefined ? TEST_AUTHORIZATION : `Bearer ${apiKey}` };
}

/** POSTs JSON and returns status and parsed body (never throws on HTTP errors); with the test key unless `opts.apiKey` says otherwise. */
export async function postJson(url: string, body: unknown, opts: { apiKey?: string | null } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(opts.apiKey) }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

export async function getJson(url: string, opts: { apiKey?: string | null } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers: authHeaders(opts.apiKey) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Polls `fn` until it returns true or `timeoutMs` passes; returns the elapsed ms (throws on timeout). */
export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await fn()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
