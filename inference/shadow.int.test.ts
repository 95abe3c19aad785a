/**
 * Request mirroring to a deployment's shadow version (`config.shadowVersion`) against the real
 * registry (PostgreSQL + NOTIFY), filesystem artifact store and onnxruntime-node: one mirrored
 * `shadow` row per champion-served decision, responses identical to those without a shadow, and a
 * broken shadow (cannot load, or fails at run time) never fails a request.
 */
import { JsonClient } from './testing/client';
import { createServingFixture, waitFor, type ServingFixture } from './testing/fixture';
import type { InferenceServer } from './server';

const N = 60;
const featuresOf = (i: number) => Array.from({ length: 16 }, (_, j) => Math.cos(i * 0.37 + j));

describe('shadow mirroring', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let client: JsonClient;
  let champion: number;
  let shadow: number;
  let baseline: unknown[];

  const setShadow = async (version: number | null): Promise<number> => {
    const r = await fx.registry.setDeployment({ model: 'ranker', config: version === null ? {} : { shadowVersion: version }, actor: 'test' });
    await waitFor(() => server.manager.get('ranker')?.generation === r.deployment.generation, 15_000, `generation ${r.deployment.generation}`);
    return r.deployment.generation;
  };
  /** N decisions; the answers without their (random) decision ids. */
  const serve = async (tag: string) => {
    const answers = await Promise.all(Array.from({ length: N }, (_, i) => client.post('/v1/decide', { deployment: 'ranker', features: featuresOf(i), unit: `${tag}${i}` })));
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    return { ids: answers.map((a) => a.body.decisionId as string), bodies: answers.map(({ body: { decisionId: _id, ...rest } }) => rest) };
  };
  const settle = async () => {
    await server.mirror.drain();
    await server.decisionLog.drain();
  };
  const shadowRows = async (ids: string[]) =>
    (await fx.db.pool.query(`SELECT decision_id, version, action, propensity, metadata, features FROM decisions WHERE arm = 'shadow' AND metadata ->> 'mirrorOf' = ANY($1)`, [ids])).rows;

  beforeAll(async () => {
    fx = await createServingFixture();
    champion = (await fx.register('ranker', 1)).version;
    shadow = (await fx.register('ranker', 2)).version;
    await fx.deploy('ranker', { champion });
    server = await fx.start();
    client = new JsonClient(server.url);
    baseline = (await serve('u')).bodies;
    await settle();
  });
  afterAll(async () => {
    client?.close();
    await fx?.close();
  });

  it('logs exactly one shadow row per served decision, referencing it, and serves the same answers', async () => {
    await setShadow(shadow);
    expect(server.manager.get('ranker')!.shadow!.info.version).toBe(shadow);
    const { ids, bodies } = await serve('u');
    expect(bodies).toEqual(baseline);
    expect(new Set(bodies.map((b: any) => `${b.arm}:${b.version}`))).toEqual(new Set([`champion:${champion}`]));
    await settle();
    const rows = await shadowRows(ids);
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.metadata.mirrorOf))).toEqual(new Set(ids));
    for (const r of rows) {
      expect(r.version).toBe(shadow);
      expect(r.propensity).toBeGreaterThan(0);
      expect(r.propensity).toBeLessThanOrEqual(1);
      const served = await fx.decisions.getDecision(r.metadata.mirrorOf);
      expect(served).toMatchObject({ arm: 'champion', version: champion });
      expect(r.features).toEqual(served!.features);
    }
    // A different policy disagrees with the champion somewhere: the rows carry the shadow's own action.
    const served = await Promise.all(rows.map((r) => fx.decisions.getDecision(r.metadata.mirrorOf)));
    expect(rows.some((r, i) => JSON.stringify(r.action) !== JSON.stringify(served[i]!.action))).toBe(true);
    expect((await client.get('/metrics')).body).toMatch(new RegExp(`autopilot_shadow_decisions_total\\{deployment="ranker",version="${shadow}",outcome="logged"\\} ${N}`));
    // Clearing the shadow stops mirroring.
    await setShadow(null);
    const after = await serve('u');
    expect(after.bodies).toEqual(baseline);
    await settle();
    expect(await shadowRows(after.ids)).toHaveLength(0);
  });

  it('drops a shadow that cannot load (metric, audit row) and serves every request as before', async () => {
    const sig = fx.policies.get(`ranker@${champion}`)!.signature;
    const broken = await fx.registry.registerVersion({
      model: 'ranker',
      artifact: { buffer: fx.policies.get(`ranker@${champion}`)!.bytes },
      format: 'onnx',
      signature: { ...sig, heads: sig.heads.map((h, i) => (i === 0 ? { ...h, output: 'no_such_output' } : h)) } as never,
      actor: 'test',
    });
    await setShadow(broken.version);
    const state = server.manager.get('ranker')!;
    expect(state.shadow).toBeNull();
    expect(state.shadowEjected).toMatch(/failed to load/);
    const { ids, bodies } = await serve('u');
    expect(bodies).toEqual(baseline);
    await settle();
    expect(await shadowRows(ids)).toHaveLength(0);
    await waitFor(async () => (await fx.registry.listAudit({ model: 'ranker', action: 'shadow.ejected' })).length > 0, 15_000, 'the audit row');
    expect((await client.get('/metrics')).body).toMatch(/autopilot_shadow_ejections_total\{deployment="ranker",reason="load_failed"\} 1/);
  });

  it('drops a shadow that errors at run time without failing or changing any request', async () => {
    await setShadow(shadow);
    const model = server.manager.get('ranker')!.shadow!;
    expect(model.info.version).toBe(shadow);
    // Break the shadow's onnxruntime session underneath the server: every run on it now fails.
    await model.session.release();
    const { ids, bodies } = await serve('u');
    expect(bodies).toEqual(baseline);
    await settle();
    expect(await shadowRows(ids)).toHaveLength(0);
    const state = server.manager.get('ranker')!;
    expect(state.shadow).toBeNull();
    expect(state.shadowEjected).toMatch(/^run-time error: /);
    await waitFor(
      async () => (await fx.registry.listAudit({ model: 'ranker', action: 'shadow.ejected' })).some((a) => String((a.after as any)?.reason).startsWith('run-time error')),
      2000,
      'the audit row',
    );
    expect((await client.get('/metrics')).body).toMatch(/autopilot_shadow_ejections_total\{deployment="ranker",reason="runtime_error"\} 1/);
    // Serving goes on after the drop.
    expect((await serve('u')).bodies).toEqual(baseline);
  });
});
