import { ConflictError, NotFoundError, ValidationError, type RegistryNotification } from './index';
import { ACTOR, auditCount, createRegistryFixture, listenRegistry, type RegistryFixture } from './test-helpers';

let fx: RegistryFixture;
beforeAll(async () => {
  fx = await createRegistryFixture();
});
afterAll(async () => {
  await fx.close();
});

let n = 0;
/** A model with `count` registered versions. */
async function modelWithVersions(count: number): Promise<string> {
  const model = `dep-${++n}`;
  await fx.registry.createModel({ name: model, actor: ACTOR });
  for (let i = 1; i <= count; i++) {
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from(`${model} v${i}`) }, format: 'onnx', actor: ACTOR });
  }
  return model;
}
const statuses = async (model: string) => Object.fromEntries((await fx.registry.listVersions(model)).map((v) => [v.version, v.status]));
const aliases = async (model: string) => Object.fromEntries((await fx.registry.listAliases(model)).map((a) => [a.alias, a.version]));

describe('setDeployment', () => {
  it('creates, canaries, promotes and rolls back, keeping statuses, aliases and generation in step', async () => {
    const model = await modelWithVersions(3);
    const r1 = await fx.registry.setDeployment({ model, championVersion: 1, fallback: { k: 5 }, actor: ACTOR });
    expect(r1).toMatchObject({ changed: true, previous: null });
    expect(r1.deployment).toMatchObject({ deployment: model, model, kind: 'policy', championVersion: 1, canaryVersion: null, canaryWeight: 0, generation: 1, fallback: { k: 5 }, exploration: { mode: 'greedy' } });
    expect(await statuses(model)).toEqual({ 1: 'champion', 2: 'registered', 3: 'registered' });
    expect(await aliases(model)).toEqual({ champion: 1 });

    const r2 = await fx.registry.setDeployment({ model, canaryVersion: 2, canaryWeight: 5, actor: ACTOR });
    expect(r2.deployment).toMatchObject({ championVersion: 1, canaryVersion: 2, canaryWeight: 5, generation: 2, fallback: { k: 5 } });
    expect(await statuses(model)).toEqual({ 1: 'champion', 2: 'canary', 3: 'registered' });
    expect(await aliases(model)).toEqual({ champion: 1, canary: 2 });

    const r3 = await fx.registry.setDeployment({ model, canaryWeight: 25, actor: ACTOR });
    expect(r3.deployment).toMatchObject({ canaryVersion: 2, canaryWeight: 25, generation: 3 });

    // Promotion: the canary becomes champion; the old champion stays registered for a rollback.
    const r4 = await fx.registry.setDeployment({ model, championVersion: 2, canaryVersion: null, actor: ACTOR });
    expect(r4.deployment).toMatchObject({ championVersion: 2, canaryVersion: null, canaryWeight: 0, generation: 4 });
    expect(r4.statusChanges).toEqual([
      { version: 1, from: 'champion', to: 'registered' },
      { version: 2, from: 'canary', to: 'champion' },
    ]);
    expect(await statuses(model)).toEqual({ 1: 'registered', 2: 'champion', 3: 'registered' });
    expect(await aliases(model)).toEqual({ champion: 2 });

    // A bad canary rolled back and rejected in one change.
    await fx.registry.setDeployment({ model, canaryVersion: 3, canaryWeight: 50, actor: ACTOR });
    const r6 = await fx.registry.setDeployment({ model, canaryVersion: null, demotedStatus: 'rejected', actor: ACTOR, reason: 'error rate' });
    expect(r6.deployment).toMatchObject({ championVersion: 2, canaryVersion: null, canaryWeight: 0, generation: 6 });
    expect(await statuses(model)).toEqual({ 1: 'registered', 2: 'champion', 3: 'rejected' });
    expect(await aliases(model)).toEqual({ champion: 2 });

    // The way back after a promotion: the previous champion, from the audit trail.
    expect(await fx.registry.findPreviousChampion(model)).toBe(1);
    await fx.registry.setDeployment({ model, championVersion: 1, demotedStatus: 'rejected', actor: ACTOR, reason: 'rollback' });
    expect(await statuses(model)).toEqual({ 1: 'champion', 2: 'rejected', 3: 'rejected' });
    expect(await fx.registry.findPreviousChampion(model)).toBe(2);
  });

  it('changes nothing (no generation, no audit) when the input matches the current state', async () => {
    const model = await modelWithVersions(2);
    const fallback = { variant: 'A', k: 8, rerank: { on: true, depth: 20 } };
    await fx.registry.setDeployment({ model, championVersion: 1, canaryVersion: 2, canaryWeight: 10, fallback, exploration: { mode: 'sample', temperature: 0.5, epsilon: 0.1 }, actor: ACTOR });
    const audits = await auditCount(fx.registry, 'deployment.set');
    // jsonb stores keys in its own order: the same values in another order are still "no change".
    const again = await fx.registry.setDeployment({
      model, championVersion: 1, canaryVersion: 2, canaryWeight: 10,
      fallback: { rerank: { depth: 20, on: true }, k: 8, variant: 'A' }, exploration: { epsilon: 0.1, mode: 'sample', temperature: 0.5 }, actor: ACTOR,
    });
    expect(again.changed).toBe(false);
    expect(again.deployment.generation).toBe(1);
    expect(await auditCount(fx.registry, 'deployment.set')).toBe(audits);
  });

  it('rejects bad deployments with errors naming the field, the value and the expectation', async () => {
    const model = await modelWithVersions(3);
    await expect(fx.registry.setDeployment({ model, canaryVersion: 2, actor: ACTOR })).rejects.toThrow(
      `championVersion: got undefined; expected a version number: ${model} has no deployment yet, so its champion must be given`,
    );
    await expect(fx.registry.setDeployment({ model, championVersion: 7, actor: ACTOR })).rejects.toThrow(
      `version ${model}/7 not found (championVersion: ${model} has versions 1..3)`,
    );
    await expect(fx.registry.setDeployment({ model, championVersion: 7, actor: ACTOR })).rejects.toBeInstanceOf(NotFoundError);
    await expect(fx.registry.setDeployment({ model: 'ghost', championVersion: 1, actor: ACTOR })).rejects.toThrow('model ghost not found');
    await fx.registry.setVersionStatus({ model, version: 3, status: 'rejected', actor: ACTOR });
    await expect(fx.registry.setDeployment({ model, championVersion: 3, actor: ACTOR })).rejects.toThrow(
      `championVersion: got 3; expected a version that is not rejected or archived (${model}/3 is rejected)`,
    );
    await fx.registry.setDeployment({ model, championVersion: 1, actor: ACTOR });
    const table: [Record<string, unknown>, string][] = [
      [{ canaryVersion: 3, canaryWeight: 5 }, `canaryVersion: got 3; expected a version that is not rejected or archived (${model}/3 is rejected)`],
      [{ canaryVersion: 1, canaryWeight: 5 }, 'canaryVersion: got 1; expected a version other than the champion (1)'],
      [{ canaryVersion: 2, canaryWeight: 101 }, 'canaryWeight: got 101; expected a percentage of traffic in [0, 100]'],
      [{ canaryVersion: 2, canaryWeight: -1 }, 'canaryWeight: got -1; expected a percentage of traffic in [0, 100]'],
      [{ canaryWeight: 5 }, 'canaryWeight: got 5; expected 0 when there is no canary version (give canaryVersion too)'],
      [{ championVersion: null, canaryVersion: 2 }, 'championVersion: got null; expected a version number when a canary is deployed'],
      [{ championVersion: 0 }, 'championVersion: got 0; expected a version number, an integer >= 1'],
      [{ championVersion: 1.5 }, 'championVersion: got 1.5; expected a version number, an integer >= 1'],
      [{ exploration: { mode: 'random' } }, 'exploration.mode: got "random"; expected "greedy" or "sample"'],
      [{ exploration: { mode: 'sample', epsilon: 2 } }, 'exploration.epsilon: got 2; expected a probability in [0, 1]'],
      [{ fallback: { k: Number.POSITIVE_INFINITY } }, 'fallback.k: got Infinity; expected a finite number (JSON has no NaN or Infinity)'],
      [{ kind: 'Policy!' }, 'kind: got "Policy!"; expected a lower-case kind'],
      [{ actor: '' }, 'actor: got ""; expected a non-empty string'],
    ];
    for (const [override, message] of table) {
      const err = await fx.registry.setDeployment({ model, actor: ACTOR, ...override } as never).catch((e: Error) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as Error).message).toContain(message);
    }
    // Nothing of the failed attempts stuck.
    expect(await fx.registry.getDeployment(model)).toMatchObject({ championVersion: 1, canaryVersion: null, generation: 1 });
  });

  it('refuses a stale expectedGeneration (optimistic concurrency)', async () => {
    const model = await modelWithVersions(2);
    await fx.registry.setDeployment({ model, championVersion: 1, expectedGeneration: 0, actor: ACTOR });
    await fx.registry.setDeployment({ model, canaryVersion: 2, canaryWeight: 5, expectedGeneration: 1, actor: ACTOR });
    const err = await fx.registry.setDeployment({ model, canaryWeight: 25, expectedGeneration: 1, actor: ACTOR }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as Error).message).toBe(`deployment ${model}: is at generation 2, not the expected 1; re-read it and retry`);
  });

  it('serialises concurrent changes: each gets its own generation', async () => {
    const model = await modelWithVersions(2);
    await fx.registry.setDeployment({ model, championVersion: 1, canaryVersion: 2, actor: ACTOR });
    const weights = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const results = await Promise.all(weights.map((w) => fx.registry.setDeployment({ model, canaryWeight: w, actor: ACTOR })));
    expect(results.map((r) => r.deployment.generation).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect((await fx.registry.getDeployment(model)).generation).toBe(11);
  });
});

describe('aliases', () => {
  it('sets, moves, resolves and removes free-form aliases; champion/canary are reserved', async () => {
    const model = await modelWithVersions(2);
    await fx.registry.setAlias({ model, alias: 'staging', version: 1, actor: ACTOR });
    expect(await fx.registry.resolveAlias(model, 'staging')).toBe(1);
    expect((await fx.registry.setAlias({ model, alias: 'staging', version: 2, actor: ACTOR })).changed).toBe(true);
    expect((await fx.registry.setAlias({ model, alias: 'staging', version: 2, actor: ACTOR })).changed).toBe(false);
    expect(await fx.registry.resolveVersionRef(model, 'staging')).toBe(2);
    expect(await fx.registry.resolveVersionRef(model, 'v1')).toBe(1);
    expect(await fx.registry.resolveVersionRef(model, 'latest')).toBe(2);
    await expect(fx.registry.setAlias({ model, alias: 'champion', version: 1, actor: ACTOR })).rejects.toThrow(
      'alias: got "champion"; expected a name other than champion or canary, which follow the deployment',
    );
    await expect(fx.registry.setAlias({ model, alias: 'x', version: 9, actor: ACTOR })).rejects.toThrow(`version ${model}/9 not found`);
    await fx.registry.removeAlias({ model, alias: 'staging', actor: ACTOR });
    await expect(fx.registry.resolveAlias(model, 'staging')).rejects.toThrow(`alias ${model}:staging not found`);
    await expect(fx.registry.removeAlias({ model, alias: 'staging', actor: ACTOR })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('audit and notifications', () => {
  it('writes exactly one audit row and one NOTIFY per state change, with the documented payload', async () => {
    const listener = await listenRegistry(fx.db.url);
    try {
      const model = `audited-${++n}`;
      const count = () => fx.registry.listAudit({ model }).then((rows) => rows.length);
      const steps: [string, () => Promise<unknown>, RegistryNotification][] = [
        ['model.create', () => fx.registry.createModel({ name: model, actor: ACTOR }), { entity: 'model', action: 'model.create', model }],
        [
          'version.register',
          () => fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('a') }, format: 'onnx', actor: ACTOR }),
          { entity: 'version', action: 'version.register', model, version: 1, status: 'registered' },
        ],
        [
          'version.register',
          () => fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('b') }, format: 'onnx', actor: ACTOR }),
          { entity: 'version', action: 'version.register', model, version: 2, status: 'registered' },
        ],
        [
          'deployment.set',
          () => fx.registry.setDeployment({ model, championVersion: 1, actor: ACTOR }),
          { entity: 'deployment', action: 'deployment.set', model, deployment: model, generation: 1, championVersion: 1, canaryVersion: null, canaryWeight: 0 },
        ],
        [
          'deployment.set',
          () => fx.registry.setDeployment({ model, canaryVersion: 2, canaryWeight: 25, actor: ACTOR }),
          { entity: 'deployment', action: 'deployment.set', model, deployment: model, generation: 2, championVersion: 1, canaryVersion: 2, canaryWeight: 25 },
        ],
        ['alias.set', () => fx.registry.setAlias({ model, alias: 'best', version: 1, actor: ACTOR }), { entity: 'alias', action: 'alias.set', model, alias: 'best', version: 1 }],
        ['alias.remove', () => fx.registry.removeAlias({ model, alias: 'best', actor: ACTOR }), { entity: 'alias', action: 'alias.remove', model, alias: 'best', version: null }],
        [
          'version.status',
          () => fx.registry.setDeployment({ model, canaryVersion: null, actor: ACTOR }).then(() => fx.registry.setVersionStatus({ model, version: 2, status: 'archived', actor: ACTOR })),
          { entity: 'version', action: 'version.status', model, version: 2, status: 'archived' },
        ],
        ['canary.evicted', () => fx.registry.appendAudit({ actor: 'inference:host-1', action: 'canary.evicted', entity: 'deployment', model, after: { reason: 'load failed' } }), { entity: 'audit', action: 'canary.evicted', model }],
      ];
      let expected = 0;
      for (const [action, run, payload] of steps) {
        const before = listener.received.length;
        await run();
        expected += action === 'version.status' ? 2 : 1; // that step is two changes: un-canary, then archive
        expect(await count()).toBe(expected);
        const rows = await fx.registry.listAudit({ model });
        expect(rows[rows.length - 1]).toMatchObject({ action, actor: action === 'canary.evicted' ? 'inference:host-1' : ACTOR, model });
        await listener.waitFor((p) => JSON.stringify(p) === JSON.stringify(payload));
        await new Promise((r) => setTimeout(r, 20));
        expect(listener.received.length - before).toBe(action === 'version.status' ? 2 : 1);
      }
      const rows = await fx.registry.listAudit({ model });
      const dep = rows.find((r) => r.action === 'deployment.set' && (r.after as { generation: number }).generation === 2)!;
      expect(dep.before).toMatchObject({ championVersion: 1, canaryVersion: null, generation: 1 });
      expect(dep.after).toMatchObject({ championVersion: 1, canaryVersion: 2, canaryWeight: 25, generation: 2, statusChanges: [{ version: 2, from: 'registered', to: 'canary' }] });
    } finally {
      await listener.close();
    }
  });

  it('sends nothing when the change rolls back, and everything of a transaction on commit', async () => {
    const model = `txn-${++n}`;
    await fx.registry.createModel({ name: model, actor: ACTOR });
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('a') }, format: 'onnx', actor: ACTOR });
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('b') }, format: 'onnx', actor: ACTOR });
    const listener = await listenRegistry(fx.db.url);
    try {
      await expect(
        fx.registry.transaction(async (tx) => {
          await tx.setDeployment({ model, championVersion: 1, actor: ACTOR });
          throw new Error('abort the transaction');
        }),
      ).rejects.toThrow('abort the transaction');
      expect(await fx.registry.findDeployment(model)).toBeNull();
      await fx.registry.transaction(async (tx) => {
        await tx.setDeployment({ model, championVersion: 2, actor: ACTOR });
        await tx.setVersionStatus({ model, version: 1, status: 'archived', actor: ACTOR });
      });
      await listener.waitFor((p) => p.entity === 'version' && p.action === 'version.status');
      await new Promise((r) => setTimeout(r, 50));
      expect(listener.received.map((p) => `${p.action}${'generation' in p ? `@${p.generation}` : ''}`)).toEqual(['deployment.set@1', 'version.status']);
    } finally {
      await listener.close();
    }
  });

  it('keeps audit_log append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await fx.registry.appendAudit({ actor: ACTOR, action: 'test.entry', entity: 'test' });
    await expect(fx.db.pool.query("UPDATE audit_log SET actor = 'mallory'")).rejects.toThrow('audit_log is append-only: UPDATE is not allowed');
    await expect(fx.db.pool.query('DELETE FROM audit_log')).rejects.toThrow('audit_log is append-only: DELETE is not allowed');
    await expect(fx.db.pool.query('TRUNCATE audit_log')).rejects.toThrow('audit_log is append-only: TRUNCATE is not allowed');
    expect(await auditCount(fx.registry, 'test.entry')).toBe(1);
  });
});
