/**
 * KServe v2 infer against the real server (registry, artifact store, onnxruntime-node): MB-sized
 * batches under v2's own body limit while decide keeps its small one, and inputs and outputs of other
 * element types than FP32 (models built locally, see testing/typed-models.ts).
 */
import { JsonClient } from './testing/client';
import { createServingFixture, type ServingFixture } from './testing/fixture';
import { argmaxModel, typedInputsModel } from './testing/typed-models';
import { DEFAULT_MAX_INFER_BODY_BYTES } from './http/server';
import type { InferenceServer } from './server';

describe('KServe v2 infer', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let client: JsonClient;
  let ranker: number;

  async function registerPlain(model: string, bytes: Buffer, signature: Record<string, unknown>): Promise<void> {
    const v = await fx.registry.registerVersion({ model, artifact: { buffer: bytes }, format: 'onnx', signature: signature as never, createModel: true, actor: 'test' });
    await fx.deploy(model, { champion: v.version });
  }

  beforeAll(async () => {
    fx = await createServingFixture();
    ranker = (await fx.register('ranker', 1)).version;
    await fx.deploy('ranker', { champion: ranker });
    await registerPlain('argmax', argmaxModel(), { inputs: [{ name: 'x', shape: [-1, 4] }] });
    await registerPlain('typed', typedInputsModel(), {});
    server = await fx.start();
    client = new JsonClient(server.url);
  });
  afterAll(async () => {
    client?.close();
    await fx?.close();
  });

  it('answers a batch of 200 rows × 16 floats (over the 64 KiB decide limit), row by row as the policy computes', async () => {
    const rows = Array.from({ length: 200 }, (_, r) => Array.from({ length: 16 }, (_, j) => Math.sin(r * 16 + j + 0.123456789) * 1e-3));
    const body = JSON.stringify({ inputs: [{ name: 'obs', shape: [200, 16], datatype: 'FP32', data: rows }], outputs: [{ name: 'k_probs' }] });
    expect(Buffer.byteLength(body)).toBeGreaterThan(64 * 1024);
    const r = await client.post('/v2/models/ranker/infer', body);
    expect(r.status).toBe(200);
    const [out] = r.body.outputs;
    expect(out).toMatchObject({ name: 'k_probs', datatype: 'FP32' });
    const width = out.shape[1];
    expect(out.shape).toEqual([200, width]);
    const ref = fx.policies.get(`ranker@${ranker}`)!;
    for (const i of [0, 99, 199]) {
      const want = ref.forward(rows[i]).k_probs;
      want.forEach((w, j) => expect(Math.abs(out.data[i * width + j] - w)).toBeLessThan(1e-5));
    }
  });

  it('answers 413 naming the limit for a v2 body over its limit, and for a decide body over decide\'s', async () => {
    const n = Math.ceil(DEFAULT_MAX_INFER_BODY_BYTES / 8) + 16;
    const big = `{"inputs":[{"name":"obs","shape":[${n / 16},16],"datatype":"FP32","data":[${'0.12345,'.repeat(n - 1)}0.5]}]}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(DEFAULT_MAX_INFER_BODY_BYTES);
    const over = await client.post('/v2/models/ranker/infer', big);
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ error: `request body exceeds the limit of ${DEFAULT_MAX_INFER_BODY_BYTES} bytes`, field: 'body', expected: `at most ${DEFAULT_MAX_INFER_BODY_BYTES} bytes of JSON` });
    const decide = await client.post('/v1/decide', { deployment: 'ranker', features: Array.from({ length: 16 }, () => 0.1), pad: 'x'.repeat(64 * 1024) });
    expect(decide.status).toBe(413);
    expect(decide.body).toEqual({ error: 'request body exceeds the limit of 65536 bytes', field: 'body', expected: 'at most 65536 bytes of JSON' });
    expect((await client.post('/v1/decide', { deployment: 'ranker', features: Array.from({ length: 16 }, () => 0.1) })).status).toBe(200);
  });

  it('writes an INT64 output as JSON integers, and names an output whose values JSON cannot carry exactly', async () => {
    const meta = await client.get('/v2/models/argmax');
    expect(meta.body).toMatchObject({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'best', datatype: 'INT64', shape: [-1] }, { name: 'scaled', datatype: 'INT64', shape: [-1, 4] }] });
    const x = [[0.1, 0.7, 0.2, 0], [0.5, 0.1, 0.2, 0.3], [0, 0, 0, 0.9]];
    const r = await client.post('/v2/models/argmax/infer', { inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', data: x }] });
    expect(r.status).toBe(200);
    expect(r.body.outputs).toEqual([
      { name: 'best', datatype: 'INT64', shape: [3], data: [1, 0, 3] },
      { name: 'scaled', datatype: 'INT64', shape: [3, 4], data: Array(12).fill(0) },
    ]);
    const unsafe = await client.post('/v2/models/argmax/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 2, 0, 0] }] });
    expect(unsafe.status).toBe(500);
    // A 5xx names an error id, not the cause (the cause, that output scaled holds an integer beyond ±2^53, is logged under the id).
    expect(unsafe.body).toEqual({ error: `internal error (error id ${unsafe.body.errorId})`, field: null, expected: null, errorId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    const onlyBest = await client.post('/v2/models/argmax/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 2, 0, 0] }], outputs: [{ name: 'best' }] });
    expect(onlyBest.body.outputs).toEqual([{ name: 'best', datatype: 'INT64', shape: [1], data: [1] }]);
  });

  it('takes inputs of the datatypes the model declares (INT64, FP64, BOOL, BYTES) and answers each output type', async () => {
    const meta = await client.get('/v2/models/typed');
    expect(meta.body.inputs.map((i: any) => [i.name, i.datatype])).toEqual([['ids', 'INT64'], ['w', 'FP64'], ['mask', 'BOOL'], ['tag', 'BYTES']]);
    const inputs = [
      { name: 'ids', shape: [2, 2], datatype: 'INT64', data: [[1, -2], [70000, 0]] },
      { name: 'w', shape: [2, 2], datatype: 'FP64', data: [0.1, 3, -1.5, 1e-300] },
      { name: 'mask', shape: [2, 2], datatype: 'BOOL', data: [true, false, false, true] },
      { name: 'tag', shape: [2], datatype: 'BYTES', data: ['a', 'é'] },
    ];
    const r = await client.post('/v2/models/typed/infer', { id: 't-1', inputs });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model_name: 'typed', id: 't-1' });
    const out = Object.fromEntries(r.body.outputs.map((o: any) => [o.name, o]));
    expect(out.ids2).toEqual({ name: 'ids2', datatype: 'INT64', shape: [2, 2], data: [2, -4, 140000, 0] });
    expect(out.w2).toEqual({ name: 'w2', datatype: 'FP64', shape: [2, 2], data: [0.1 * 0.1, 9, 2.25, 0] });
    expect(out.flipped).toEqual({ name: 'flipped', datatype: 'BOOL', shape: [2, 2], data: [false, true, true, false] });
    expect(out.ids32).toEqual({ name: 'ids32', datatype: 'INT32', shape: [2, 2], data: [1, -2, 70000, 0] });
    expect(out.half).toEqual({ name: 'half', datatype: 'FP16', shape: [2, 2], data: [0.0999755859375, 3, -1.5, 0] });
    expect(out.tag_out).toEqual({ name: 'tag_out', datatype: 'BYTES', shape: [2], data: ['a', 'é'] });
  });

  it('refuses a datatype other than the declared one with a 400 naming the input, the datatype sent and the one declared', async () => {
    const good = {
      ids: { name: 'ids', shape: [1, 2], datatype: 'INT64', data: [1, 2] },
      w: { name: 'w', shape: [1, 2], datatype: 'FP64', data: [1, 2] },
      mask: { name: 'mask', shape: [1, 2], datatype: 'BOOL', data: [true, true] },
      tag: { name: 'tag', shape: [1], datatype: 'BYTES', data: ['a'] },
    };
    const send = (patch: Partial<Record<keyof typeof good, object>>) => client.post('/v2/models/typed/infer', { inputs: (Object.keys(good) as (keyof typeof good)[]).map((k) => ({ ...good[k], ...patch[k] })) });
    expect((await send({})).status).toBe(200);
    const wrongType = await send({ ids: { datatype: 'FP32', data: [1, 2] } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toEqual({ error: 'inputs.0.datatype is "FP32", but the model\'s input ids is INT64', field: 'inputs.0.datatype', expected: '"INT64"' });
    const notInt = await send({ ids: { data: [1.5, 2] } });
    expect(notInt.status).toBe(400);
    expect(notInt.body).toEqual({ error: 'inputs.0.data contains 1.5 at element 0', field: 'inputs.0.data', expected: `integers in -${Number.MAX_SAFE_INTEGER}..${Number.MAX_SAFE_INTEGER} (INT64)` });
    const notBool = await send({ mask: { data: [1, 0] } });
    expect(notBool.body).toMatchObject({ field: 'inputs.2.data', expected: 'true or false (BOOL)' });
    const fp32ToRanker = await client.post('/v2/models/ranker/infer', { inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP64', data: Array(16).fill(0) }] });
    expect(fp32ToRanker.body).toEqual({ error: 'inputs.0.datatype is "FP64", but the model\'s input obs is FP32', field: 'inputs.0.datatype', expected: '"FP32"' });
  });
});
