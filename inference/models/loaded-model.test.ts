import * as ort from 'onnxruntime-node';
import { argmaxModel, typedInputsModel } from '../testing/typed-models';
import { LoadedModel } from './loaded-model';

const info = (model: string) => ({ model, version: 1, artifactUri: 'mem://', sha256: '', format: 'onnx', signature: {} });

describe('LoadedModel of a plain model', () => {
  it('binds a one-float-input model as before (warmed up, batchable), whatever its outputs\' types', async () => {
    const m = await LoadedModel.create(info('argmax'), argmaxModel());
    expect(m.rawOnly).toBe(false);
    expect(m.binding.input).toEqual({ name: 'x', size: 4, features: null });
    const out = await m.runFeeds({ x: new ort.Tensor('float32', Float32Array.from([0.1, 0.7, 0.2, 0, 0.5, 0.1, 0.2, 0.3]), [2, 4]) });
    expect(out.best.type).toBe('int64');
    expect(Array.from(out.best.data as BigInt64Array)).toEqual([1n, 0n]);
    m.retire();
  });

  it('loads a model with several inputs of other types raw-only (KServe v2), without refusing it', async () => {
    const m = await LoadedModel.create(info('typed'), typedInputsModel());
    expect(m.rawOnly).toBe(true);
    expect(m.decoder).toBeNull();
    const out = await m.runFeeds({
      ids: new ort.Tensor('int64', BigInt64Array.from([1n, -2n]), [1, 2]),
      w: new ort.Tensor('float64', Float64Array.from([0.5, 3]), [1, 2]),
      mask: new ort.Tensor('bool', Uint8Array.from([1, 0]), [1, 2]),
      tag: new ort.Tensor('string', ['a'], [1]),
    });
    expect(Array.from(out.ids2.data as BigInt64Array)).toEqual([2n, -4n]);
    expect(Array.from(out.w2.data as Float64Array)).toEqual([0.25, 9]);
    expect(Array.from(out.flipped.data as Uint8Array)).toEqual([0, 1]);
    expect(out.tag_out.data).toEqual(['a']);
    m.retire();
  });

  it('still refuses a policy signature the graph does not fit', async () => {
    await expect(LoadedModel.create({ ...info('typed'), signature: { format: 'autopilot.policy-signature/v1' } }, typedInputsModel())).rejects.toThrow(/signature/);
  });
});
