import * as ort from 'onnxruntime-node';
import { Rng } from '../../ml/rng';
import { buildTestPolicy } from '../testing/test-policy';
import { LoadedModel } from './loaded-model';
import { SyncSession } from './sync-session';

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
