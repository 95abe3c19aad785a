/**
 * ScratchDelta learns a batch on a copy of the touched coordinates: its records equal, bit for bit, the state of
 * ml/online's learner run on the whole model over the same rows, and the model it read is left as it was.
 */
import { buildOnlineLearner, stateArrays, type OnlineModelConfig, type SparseBatch } from '../../ml/online';
import { Rng } from '../../ml/rng';
import { RECORD_BYTES, ScratchDelta } from './delta';

type Cfg = Pick<OnlineModelConfig, 'algorithm' | 'loss' | 'bits' | 'ftrl' | 'adagrad'>;

/** `rows` rows of 1..6 coordinates among 2^bits (repeats within a row included), seeded. */
function rows(rng: Rng, n: number, bits: number, loss: 'logistic' | 'squared'): SparseBatch {
  const offsets = new Int32Array(n + 1);
  const idx: number[] = [];
  const val: number[] = [];
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const k = 1 + rng.int(6);
    for (let j = 0; j < k; j++) {
      idx.push(j > 0 && rng.uniform() < 0.1 ? idx[idx.length - 1] : rng.int(1 << bits));
      val.push(rng.uniform() < 0.5 ? 1 : rng.normal());
    }
    offsets[r + 1] = idx.length;
    y[r] = loss === 'logistic' ? (rng.uniform() < 0.4 ? 1 : 0) : 3 * rng.normal();
  }
  return { rows: n, offsets, idx: Int32Array.from(idx), val: Float64Array.from(val), y };
}

const configs: [string, Cfg][] = [
  ['FTRL logistic', { algorithm: 'ftrl', loss: 'logistic', bits: 8, ftrl: { alpha: 0.3, beta: 1, l1: 0.05, l2: 0.5 }, adagrad: { eta: 0.5, l2: 0 } }],
  ['FTRL squared', { algorithm: 'ftrl', loss: 'squared', bits: 6, ftrl: { alpha: 0.1, beta: 0.5, l1: 0, l2: 0 }, adagrad: { eta: 0.5, l2: 0 } }],
  ['AdaGrad logistic, L2', { algorithm: 'adagrad', loss: 'logistic', bits: 8, ftrl: { alpha: 0.1, beta: 1, l1: 0, l2: 0 }, adagrad: { eta: 0.4, l2: 0.1 } }],
  ['AdaGrad squared', { algorithm: 'adagrad', loss: 'squared', bits: 5, ftrl: { alpha: 0.1, beta: 1, l1: 0, l2: 0 }, adagrad: { eta: 0.2, l2: 0 } }],
];

describe('ScratchDelta: a batch learnt on a copy of its coordinates', () => {
  it.each(configs)('%s: records equal the sequential learner bit for bit; the model is only read', (_name, cfg) => {
    const rng = new Rng(11);
    const model = buildOnlineLearner(cfg);
    const ref = buildOnlineLearner(cfg);
    const delta = new ScratchDelta(cfg);
    for (let round = 0; round < 30; round++) {
      const batches = Array.from({ length: 1 + rng.int(3) }, () => rows(rng, 1 + rng.int(40), cfg.bits, cfg.loss));
      const [A, B] = stateArrays(model);
      const before = [Float64Array.from(A), Float64Array.from(B)];
      const d = delta.compute(model, batches);
      expect(A).toEqual(before[0]);
      expect(B).toEqual(before[1]);
      for (const b of batches) ref.updateEach(b);
      const [RA, RB] = stateArrays(ref);
      const seen = new Set<number>();
      for (let o = 0; o < d.length; o += RECORD_BYTES) {
        const i = d.readUInt32LE(o);
        expect(seen.has(i)).toBe(false);
        seen.add(i);
        expect([d.readDoubleLE(o + 4), d.readDoubleLE(o + 12)]).toEqual([RA[i], RB[i]]);
        A[i] = d.readDoubleLE(o + 4);
        B[i] = d.readDoubleLE(o + 12);
      }
      // Every coordinate a row touched has a record; the rest of the model is the reference's too.
      for (const b of batches) for (let k = 0; k < b.offsets[b.rows]; k++) expect(seen.has(b.idx[k])).toBe(true);
      expect(A).toEqual(RA);
      expect(B).toEqual(RB);
    }
  });

  it('grows its scratch for a batch larger than any before', () => {
    const cfg = configs[0][1];
    const rng = new Rng(3);
    const model = buildOnlineLearner(cfg);
    const ref = buildOnlineLearner(cfg);
    const delta = new ScratchDelta(cfg);
    for (const n of [1, 5, 400]) {
      const b = rows(rng, n, cfg.bits, cfg.loss);
      const d = delta.compute(model, [b]);
      ref.updateEach(b);
      const [A, B] = stateArrays(model);
      for (let o = 0; o < d.length; o += RECORD_BYTES) {
        A[d.readUInt32LE(o)] = d.readDoubleLE(o + 4);
        B[d.readUInt32LE(o)] = d.readDoubleLE(o + 12);
      }
      expect([A, B]).toEqual(stateArrays(ref));
    }
  });
});
