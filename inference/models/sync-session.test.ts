import * as ort from 'onnxruntime-node';
import { Rng } from '../../ml/rng';
import { buildTestPolicy } from '../testing/test-policy';
import { LoadedModel } from './loaded-model';
import { SyncSession } from './sync-session';
import { onnx } from 'onnx-proto';
import { PACKED_OUTPUT, withPackedOutput } from './packed-outputs';

const OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };

describe('SyncSession', () => {
  const policy = buildTestPolicy(3);

  it('gives the same outputs as the public async session, for every row of a batch', async () => {
    const session = await ort.InferenceSession.create(policy.bytes, OPTIONS);
    const sync = SyncSession.create(policy.bytes, OPTIONS, session.outputNames);
    expect(sync).not.toBeNull();
    const rng = new Rng(7);
    const n = 5;
    const x = Float32Array.from({ length: n * 16 }, () => rng.normal());
    const feeds = () => ({ [session.inputNames[0]]: new ort.Tensor('float32', x, [n, 16]) });
    const expected = await session.run(feeds());
    const got = sync!.run(feeds());
    expect(Object.keys(got).sort()).toEqual([...session.outputNames].sort());
    for (const name of session.outputNames) {
      expect(got[name].dims).toEqual(expected[name].dims);
      expect(Array.from(got[name].data as Float32Array)).toEqual(Array.from(expected[name].data as Float32Array));
    }
    // and matches the float64 reference of the graph (row 2)
    const ref = policy.forward(x.subarray(32, 48));
    const probs = got.variant_probs.data as Float32Array;
    const width = got.variant_probs.dims[1];
    ref.variant_probs.forEach((p, j) => expect(probs[2 * width + j]).toBeCloseTo(p, 5));
    sync!.release();
    await session.release();
  });

  it('throws onnxruntime\'s error for a wrong input shape', async () => {
    const session = await ort.InferenceSession.create(policy.bytes, OPTIONS);
    const sync = SyncSession.create(policy.bytes, OPTIONS, session.outputNames)!;
    expect(() => sync.run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(3), [1, 3]) })).toThrow();
    sync.release();
    await session.release();
  });

  it('LoadedModel batches the requests of one turn and answers each with its own row', async () => {
    const model = await LoadedModel.create({ model: 'ranker', version: 1, artifactUri: 'mem://', sha256: '', format: 'onnx', signature: policy.signature }, policy.bytes);
    const rng = new Rng(11);
    const xs = Array.from({ length: 6 }, () => Float32Array.from({ length: 16 }, () => rng.normal()));
    const results = await Promise.all(xs.map((x) => model.infer(x)));
    expect(results.map((r) => r.row)).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 0; i < xs.length; i++) {
      const alone = await model.run(xs[i]);
      const batched = results[i].outputs.k_probs;
      const width = batched.dims[1];
      const row = Array.from((batched.data as Float32Array).subarray(i * width, (i + 1) * width));
      const want = Array.from(alone.k_probs.data as Float32Array);
      expect(row).toHaveLength(want.length);
      row.forEach((v, j) => expect(v).toBeCloseTo(want[j], 6));
    }
    model.retire();
    expect(model.isDisposed).toBe(true);
  });
});

describe('packed outputs', () => {
  const policy = buildTestPolicy(5);
  const heads = ['variant_probs', 'k_probs', 'rerank_prob', 'fusion_weight_mean', 'fusion_weight_log_std', 'prompt_id_probs'];

  it('one packed fetch gives every head exactly the values of its own output, for every row', async () => {
    const session = await ort.InferenceSession.create(policy.bytes, OPTIONS);
    const rng = new Rng(3);
    const n = 7;
    const x = Float32Array.from({ length: n * 16 }, () => rng.normal());
    const expected = await session.run({ obs: new ort.Tensor('float32', x, [n, 16]) });
    const widths = heads.map((h) => expected[h].dims[1]);
    expect(widths).toEqual([3, 30, 1, 1, 1, 4]);
    const sync = SyncSession.create(policy.bytes, OPTIONS, heads, widths)!;
    expect(sync.packed).toBe(true);
    const got = sync.run({ obs: new ort.Tensor('float32', x, [n, 16]) }, n);
    expect(Object.keys(got)).toEqual(heads);
    for (const h of heads) {
      expect(got[h].dims).toEqual(expected[h].dims);
      expect(Array.from(got[h].data as Float32Array)).toEqual(Array.from(expected[h].data as Float32Array));
    }
    // a wrong row count is refused, not silently mis-sliced
    expect(() => sync.run({ obs: new ort.Tensor('float32', x, [n, 16]) }, n - 1)).toThrow(/expected 6 rows/);
    sync.release();
    await session.release();
  });

  it('the packed graph keeps only what the heads need: the value head and its weights are gone', () => {
    const packed = withPackedOutput(policy.bytes, heads)!;
    const g = onnx.ModelProto.decode(packed).graph!;
    expect(g.output!.map((o) => o.name)).toEqual([PACKED_OUTPUT]);
    expect(g.node!.some((n) => n.output!.includes('value'))).toBe(false);
    expect(g.initializer!.some((t) => t.name!.startsWith('value.'))).toBe(false);
    // every head's producer is still there
    for (const h of heads) expect(g.node!.some((n) => n.output!.includes(h))).toBe(true);
    const original = onnx.ModelProto.decode(policy.bytes).graph!;
    expect(g.node!.length).toBe(original.node!.length - 1 + heads.length + 1); // − value Gemm, + a Reshape per head, + Concat
  });

  it('is not used for outputs the graph does not have, or a single output', () => {
    expect(SyncSession.create(policy.bytes, OPTIONS, ['variant_probs', 'nope'], [3, 1])).toBeNull();
    expect(SyncSession.create(policy.bytes, OPTIONS, ['variant_probs'], [3])).toBeNull();
  });

  it('LoadedModel serves a policy through the packed output and decodes the same actions', async () => {
    const model = await LoadedModel.create({ model: 'ranker', version: 1, artifactUri: 'mem://', sha256: '', format: 'onnx', signature: policy.signature }, policy.bytes);
    expect(model.packedOutputs).toBe(true);
    const rng = new Rng(17);
    const xs = Array.from({ length: 5 }, () => Float32Array.from({ length: 16 }, () => rng.normal()));
    const results = await Promise.all(xs.map((x) => model.infer(x)));
    for (let i = 0; i < xs.length; i++) {
      const alone = await model.run(xs[i]);
      const fromBatch = model.decoder!.decode(results[i].outputs, { mode: 'greedy', epsilon: 0, temperature: 1, rng: new Rng(1), row: results[i].row });
      const fromAlone = model.decoder!.decode(alone, { mode: 'greedy', epsilon: 0, temperature: 1, rng: new Rng(1), row: 0 });
      expect(fromBatch.action).toEqual(fromAlone.action);
      expect(fromBatch.policyProbability).toBeCloseTo(fromAlone.policyProbability, 6);
    }
    model.retire();
  });
});
