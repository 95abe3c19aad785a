import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { testS3Store } from '../test/support/s3';
import type { ArtifactStore } from './artifacts/store';
import { ConflictError, NotFoundError, Registry, ValidationError } from './index';
import { ACTOR, FaultyStore, auditCount, createRegistryFixture, type RegistryFixture } from './test-helpers';

let fx: RegistryFixture;
beforeAll(async () => {
  fx = await createRegistryFixture();
});
afterAll(async () => {
  await fx.close();
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let n = 0;
async function freshModel(prefix = 'm'): Promise<string> {
  const name = `${prefix}-${++n}`;
  await fx.registry.createModel({ name, actor: ACTOR });
  return name;
}

describe('registerVersion', () => {
  it('uploads the artifact, records sha256, size, lineage and returns version 1, then 2', async () => {
    const model = await freshModel();
    const bytes = randomBytes(4096);
    const v1 = await fx.registry.registerVersion({
      model,
      artifact: { buffer: bytes },
      format: 'onnx',
      signature: { inputs: [{ name: 'obs', shape: [1, 16] }], outputs: [{ name: 'logits' }] },
      metrics: { reward_mean: 0.7 },
      tags: { env: 'rag' },
      lineage: { runId: 'run-1', workflowId: 'ppo/1', configHash: 'abc', datasetManifest: { rows: 10 }, codeCommit: 'deadbeef' },
      actor: ACTOR,
    });
    expect(v1).toMatchObject({
      model,
      version: 1,
      sha256: sha(bytes),
      size: 4096,
      format: 'onnx',
      status: 'registered',
      metrics: { reward_mean: 0.7 },
      tags: { env: 'rag' },
      lineage: { runId: 'run-1', workflowId: 'ppo/1', configHash: 'abc', datasetManifest: { rows: 10 }, codeCommit: 'deadbeef' },
      createdBy: ACTOR,
    });
    expect(v1.artifactUri).toBe(fx.store.uriFor(`models/${model}/versions/${v1.id}/model.onnx`));
    expect(await fx.store.getBuffer(fx.store.keyFromUri(v1.artifactUri))).toEqual(bytes);
    const v2 = await fx.registry.registerVersion({ model, artifact: { stream: Readable.from([bytes, bytes]) }, format: 'onnx', actor: ACTOR });
    expect(v2.version).toBe(2);
    expect(v2.size).toBe(8192);
    expect((await fx.registry.getModel(model)).latestVersion).toBe(2);
    expect(await fx.registry.getVersion(model, 1)).toEqual(v1);
  });

  it('gives 20 concurrent registrations of one model exactly the versions 1..20', async () => {
    const model = await freshModel('conc');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from(`artifact ${i}`) }, format: 'onnx', tags: { i: String(i) }, actor: ACTOR }),
      ),
    );
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const listed = await fx.registry.listVersions(model);
    expect(listed.map((v) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => 20 - i));
    // Each version points at its own bytes.
    for (const r of results) {
      expect((await fx.store.getBuffer(fx.store.keyFromUri(r.artifactUri))).toString()).toBe(`artifact ${r.tags.i}`);
    }
    expect((await fx.registry.getModel(model)).latestVersion).toBe(20);
  });

  it('leaves no row and no version number used when the upload fails', async () => {
    const model = await freshModel('upfail');
    const faulty = new FaultyStore(fx.store);
    faulty.failPut = 'before';
    const reg = new Registry({ pool: fx.db.pool, store: faulty });
    const auditBefore = await auditCount(fx.registry);
    await expect(reg.registerVersion({ model, artifact: { buffer: Buffer.from('x') }, format: 'onnx', actor: ACTOR })).rejects.toThrow(
      /uploading the artifact of a new upfail-\d+ version to models\/upfail-\d+\/versions\/.+\/model\.onnx failed, nothing was registered: injected upload failure/,
    );
    expect(await fx.registry.listVersions(model)).toEqual([]);
    expect((await fx.registry.getModel(model)).latestVersion).toBe(0);
    expect(await auditCount(fx.registry)).toBe(auditBefore);
    const v = await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('y') }, format: 'onnx', actor: ACTOR });
    expect(v.version).toBe(1);
  });

  it('deletes the uploaded object, gives the number back and sets no champion when the row cannot be written', async () => {
    const model = await freshModel('rowfail');
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('v1') }, format: 'onnx', actor: ACTOR });
    // A database-side failure after the upload: a trigger that refuses this one insert.
    await fx.db.pool.query(`
      CREATE FUNCTION refuse_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.tags ? 'refuse' THEN RAISE EXCEPTION 'injected row failure'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_version BEFORE INSERT ON model_versions FOR EACH ROW EXECUTE FUNCTION refuse_version();`);
    try {
      const auditBefore = await auditCount(fx.registry);
      await expect(
        fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('v2') }, format: 'onnx', tags: { refuse: 'yes' }, champion: true, actor: ACTOR }),
      ).rejects.toThrow(/injected row failure/);
      expect(await fx.store.list(`models/${model}/`)).toHaveLength(1); // only v1's object
      expect((await fx.registry.getModel(model)).latestVersion).toBe(1);
      expect(await fx.registry.findDeployment(model)).toBeNull();
      expect(await fx.registry.listAliases(model)).toEqual([]);
      expect(await auditCount(fx.registry)).toBe(auditBefore);
    } finally {
      await fx.db.pool.query('DROP TRIGGER refuse_version ON model_versions; DROP FUNCTION refuse_version();');
    }
    const v2 = await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('v2') }, format: 'onnx', champion: true, actor: ACTOR });
    expect(v2).toMatchObject({ version: 2, status: 'champion' });
    expect(await fx.registry.getDeployment(model)).toMatchObject({ championVersion: 2, generation: 1 });
  });

  it('deletes the object when the uploaded bytes do not match expectedSha256', async () => {
    const model = await freshModel('shamismatch');
    await expect(
      fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('abc') }, format: 'onnx', expectedSha256: 'a'.repeat(64), actor: ACTOR }),
    ).rejects.toThrow(`expectedSha256: got "${'a'.repeat(64)}"; expected the sha256 of the uploaded bytes (${sha(Buffer.from('abc'))})`);
    expect(await fx.store.list(`models/${model}/`)).toEqual([]);
    expect(await fx.registry.listVersions(model)).toEqual([]);
  });

  it('refuses bad input before uploading anything, naming the field', async () => {
    const model = await freshModel('bad');
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ format: 'pt' }, /^format: got "pt"; expected one of onnx, hf, json$/],
      [{ metrics: { loss: 'low' } }, /^metrics\.loss: got "low"; expected a finite number$/],
      [{ metrics: { loss: Number.NaN } }, /^metrics\.loss: got NaN; expected a finite number$/],
      [{ tags: { env: 3 } }, /^tags\.env: got 3; expected a string value$/],
      [{ artifact: { path: '/no/such/file.onnx' } }, /^artifact\.path: got "\/no\/such\/file\.onnx"; expected an existing file or folder$/],
      [{ artifact: { buffer: Buffer.from('x') }, format: 'hf' }, /^fileName: got undefined; expected a file name/],
      [{ fileName: '../escape.onnx' }, /^fileName: got "\.\.\/escape\.onnx"; expected a file name/],
      [{ actor: '' }, /^actor: got ""; expected a non-empty string/],
      [{ model: 'no such model' }, /^model: got "no such model"; expected a model name/],
      [{ model: 'missing-model' }, /^model missing-model not found \(create it first/],
    ];
    for (const [override, message] of cases) {
      const input = { model, artifact: { buffer: Buffer.from('x') }, format: 'onnx', actor: ACTOR, ...override };
      await expect(fx.registry.registerVersion(input as never)).rejects.toThrow(message);
    }
    await expect(fx.registry.registerVersion({ model: 'missing-model', artifact: { buffer: Buffer.from('x') }, format: 'onnx', actor: ACTOR })).rejects.toBeInstanceOf(NotFoundError);
    await expect(fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('x') }, format: 'pt' as never, actor: ACTOR })).rejects.toBeInstanceOf(ValidationError);
    expect(await fx.store.list(`models/${model}/`)).toEqual([]);
  });

  it('creates the model on demand with createModel: true, registering from a file path', async () => {
    const path = join(fx.artifactDir, '..', `ap-policy-${process.pid}-${n}.onnx`);
    writeFileSync(path, 'onnx bytes');
    const v = await fx.registry.registerVersion({ model: 'made-on-demand', createModel: true, artifact: { path }, format: 'onnx', actor: ACTOR });
    expect(v.version).toBe(1);
    expect(v.artifactUri.endsWith(`/ap-policy-${process.pid}-${n}.onnx`)).toBe(true);
    await expect(fx.registry.createModel({ name: 'made-on-demand', actor: ACTOR })).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('directory artifacts (a Hugging Face model folder)', () => {
  it('uploads every file and a manifest, downloads the folder verified, and cleans up a half-uploaded folder', async () => {
    const model = await freshModel('hf');
    const src = mkdtempSync(join(tmpdir(), 'ap-hf-'));
    const files: Record<string, Buffer> = {
      'config.json': Buffer.from('{"model_type":"llama"}'),
      'model.safetensors': randomBytes(50_000),
      'tokenizer/tokenizer.json': Buffer.from('{"vocab":{}}'),
    };
    for (const [rel, bytes] of Object.entries(files)) {
      mkdirSync(dirname(join(src, rel)), { recursive: true });
      writeFileSync(join(src, rel), bytes);
    }
    try {
      const v = await fx.registry.registerVersion({ model, artifact: { path: src }, format: 'hf', actor: ACTOR });
      expect(v).toMatchObject({ version: 1, artifactLayout: 'directory', format: 'hf', size: 50_000 + 22 + 12 });
      expect(v.artifactUri.endsWith(`models/${model}/versions/${v.id}/manifest.json`)).toBe(true);
      const manifest = JSON.parse((await fx.store.getBuffer(fx.store.keyFromUri(v.artifactUri), { expectedSha256: v.sha256 })).toString());
      expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['config.json', 'model.safetensors', 'tokenizer/tokenizer.json']);

      const out = join(src, '..', `ap-hf-out-${v.id}`);
      const res = await fx.registry.downloadVersion(model, 1, out);
      expect(res.bytes).toBe(v.size);
      for (const [rel, bytes] of Object.entries(files)) expect(readFileSync(join(out, rel))).toEqual(bytes);
      rmSync(out, { recursive: true });
      await expect(fx.registry.openVersionArtifact(model, 1)).rejects.toThrow(/a single-file artifact \(this one is a folder/);

      // A corrupted file inside fails the download, naming its key, and leaves no folder behind.
      const key = `models/${model}/versions/${v.id}/files/tokenizer/tokenizer.json`;
      writeFileSync(fx.store.objectPath(key), '{"vocab":{"x":1}}');
      await expect(fx.registry.downloadVersion(model, 1, out)).rejects.toThrow(`artifact "${key}" failed its checksum`);
      expect(existsSync(out)).toBe(false);

      // The upload of the second file fails: the first file is removed again and nothing is registered.
      const faulty = new FaultyStore(fx.store);
      faulty.failPut = 'before';
      faulty.failAtPut = 2;
      await expect(new Registry({ pool: fx.db.pool, store: faulty }).registerVersion({ model, artifact: { path: src }, format: 'hf', actor: ACTOR })).rejects.toThrow(
        /files\) failed, nothing was registered: injected upload failure/,
      );
      expect((await fx.store.list(`models/${model}/`)).map((o) => o.key).filter((k) => !k.includes(v.id))).toEqual([]);
      expect((await fx.registry.getModel(model)).latestVersion).toBe(1);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });
});

describe('reading versions back', () => {
  it('downloads verified bytes, and refuses a corrupted object naming its key, leaving no partial file', async () => {
    const model = await freshModel('dl');
    const bytes = randomBytes(100_000);
    const v = await fx.registry.registerVersion({ model, artifact: { buffer: bytes }, format: 'onnx', actor: ACTOR });
    const out = join(fx.artifactDir, '..', `ap-dl-${process.pid}-${v.id}.onnx`);
    const res = await fx.registry.downloadVersion(model, 1, out);
    expect(res.bytes).toBe(bytes.length);
    expect(readFileSync(out)).toEqual(bytes);
    const key = fx.store.keyFromUri(v.artifactUri);
    writeFileSync(fx.store.objectPath(key), Buffer.concat([bytes.subarray(0, -1), Buffer.from([bytes[bytes.length - 1] ^ 1])]));
    const out2 = `${out}.2`;
    await expect(fx.registry.downloadVersion(model, 1, out2)).rejects.toThrow(new RegExp(`artifact "${key}" failed its checksum`));
    expect(existsSync(out2)).toBe(false);
  });

  it('searches by tag and by metric comparison, ordered by a metric', async () => {
    const model = await freshModel('search');
    const specs: { tags: Record<string, string>; metrics: Record<string, number> }[] = [
      { tags: { env: 'prod', algo: 'ppo' }, metrics: { reward_mean: 0.5, p95_ms: 40 } },
      { tags: { env: 'prod', algo: 'ppo' }, metrics: { reward_mean: 0.9, p95_ms: 60 } },
      { tags: { env: 'dev', algo: 'ppo' }, metrics: { reward_mean: 0.95 } },
      { tags: { env: 'prod', algo: 'dpo' }, metrics: { reward_mean: 0.7, p95_ms: 30 } },
    ];
    for (const s of specs) await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from(JSON.stringify(s)) }, format: 'onnx', ...s, actor: ACTOR });
    const byTag = await fx.registry.searchVersions({ model, tags: { env: 'prod' }, orderBy: { field: 'version', direction: 'asc' } });
    expect(byTag.map((v) => v.version)).toEqual([1, 2, 4]);
    const byTwoTags = await fx.registry.searchVersions({ model, tags: { env: 'prod', algo: 'ppo' } });
    expect(byTwoTags.map((v) => v.version).sort()).toEqual([1, 2]);
    const good = await fx.registry.searchVersions({ model, metrics: [{ name: 'reward_mean', op: '>=', value: 0.7 }], orderBy: { metric: 'reward_mean', direction: 'desc' } });
    expect(good.map((v) => v.version)).toEqual([3, 2, 4]);
    const fastAndGood = await fx.registry.searchVersions({
      model,
      tags: { env: 'prod' },
      metrics: [{ name: 'reward_mean', op: '>', value: 0.6 }, { name: 'p95_ms', op: '<', value: 50 }],
    });
    expect(fastAndGood.map((v) => v.version)).toEqual([4]);
    // Versions without the metric sort last.
    const byLatency = await fx.registry.searchVersions({ model, orderBy: { metric: 'p95_ms', direction: 'asc' } });
    expect(byLatency.map((v) => v.version)).toEqual([4, 1, 2, 3]);
    expect(await fx.registry.searchVersions({ model, metrics: [{ name: 'nope', op: '>', value: 0 }] })).toEqual([]);
  });

  it('changes status with an audit row, refuses champion/canary and a deployed version', async () => {
    const model = await freshModel('status');
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('1') }, format: 'onnx', actor: ACTOR });
    await fx.registry.registerVersion({ model, artifact: { buffer: Buffer.from('2') }, format: 'onnx', actor: ACTOR });
    const before = await auditCount(fx.registry, 'version.status');
    const r = await fx.registry.setVersionStatus({ model, version: 2, status: 'archived', actor: ACTOR, reason: 'superseded' });
    expect(r).toMatchObject({ changed: true, version: { status: 'archived' } });
    expect(await auditCount(fx.registry, 'version.status')).toBe(before + 1);
    expect((await fx.registry.setVersionStatus({ model, version: 2, status: 'archived', actor: ACTOR })).changed).toBe(false);
    expect(await auditCount(fx.registry, 'version.status')).toBe(before + 1);
    await expect(fx.registry.setVersionStatus({ model, version: 1, status: 'champion' as never, actor: ACTOR })).rejects.toThrow(
      /^status: got "champion"; expected registered, rejected or archived \(champion and canary follow the deployment/,
    );
    await fx.registry.setDeployment({ model, championVersion: 1, actor: ACTOR });
    await expect(fx.registry.setVersionStatus({ model, version: 1, status: 'rejected', actor: ACTOR })).rejects.toThrow(
      new RegExp(`^version ${model}/1: is the deployment's champion; deploy another version first`),
    );
    await expect(fx.registry.getVersion(model, 9)).rejects.toThrow(`version ${model}/9 not found (${model} has versions 1..2)`);
  });
});

describe('registerVersion against the S3 store (SeaweedFS)', () => {
  let store: ArtifactStore;
  beforeAll(() => {
    store = testS3Store('registry-versions');
  });

  it('registers, downloads and cleans up after a failed row, exactly as with the filesystem', async () => {
    const reg = new Registry({ pool: fx.db.pool, store });
    const model = await freshModel('s3');
    const bytes = randomBytes(300_000);
    const v = await reg.registerVersion({ model, artifact: { stream: Readable.from([bytes]) }, format: 'onnx', actor: ACTOR });
    expect(v.artifactUri.startsWith('s3://')).toBe(true);
    expect(v.sha256).toBe(sha(bytes));
    const { stream } = await reg.openVersionArtifact(model, v.version);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks)).toEqual(bytes);

    const concurrent = await Promise.all(
      Array.from({ length: 5 }, (_, i) => reg.registerVersion({ model, artifact: { buffer: Buffer.from(`s3 ${i}`) }, format: 'onnx', actor: ACTOR })),
    );
    expect(concurrent.map((c) => c.version).sort()).toEqual([2, 3, 4, 5, 6]);

    // A failed row removes its uploaded object from S3 too.
    await fx.db.pool.query(`CREATE FUNCTION refuse_s3() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected row failure'; END $$;
      CREATE TRIGGER refuse_s3 BEFORE INSERT ON model_versions FOR EACH ROW EXECUTE FUNCTION refuse_s3();`);
    try {
      await expect(reg.registerVersion({ model, artifact: { buffer: Buffer.from('doomed') }, format: 'onnx', actor: ACTOR })).rejects.toThrow(/injected row failure/);
    } finally {
      await fx.db.pool.query('DROP TRIGGER refuse_s3 ON model_versions; DROP FUNCTION refuse_s3();');
    }
    const keys = (await store.list(`models/${model}/`)).map((o) => o.key);
    expect(keys).toHaveLength(6);
    const registered = (await reg.listVersions(model)).map((x) => store.keyFromUri(x.artifactUri)).sort();
    expect(keys.sort()).toEqual(registered);
  });
});
