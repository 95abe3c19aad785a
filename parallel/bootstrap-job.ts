/**
 * What the main thread and the worker threads of `parallel/bootstrap.ts` share: the packed per-round
 * values, the bootstrap means and a counter of handed-out resample groups, all in SharedArrayBuffers
 * (no copies), and the loop every thread runs: take the next group, compute its means, repeat.
 */
import { ResampleScratch, resampleGroupCount, resampleGroupMeans, type LaneWidth, type PackedColumns } from '../ml/stats/shared-bootstrap';

export interface BootstrapJob {
  nRounds: number;
  nColumns: number;
  passes: { width: LaneWidth; first: number; data: SharedArrayBuffer }[];
  nBootstrapSamples: number;
  seed: number;
  /** Float64 means, column-major: nColumns × nBootstrapSamples. */
  means: SharedArrayBuffer;
  /** Int32[1]: the next group to hand out. */
  next: SharedArrayBuffer;
}

export function packedOf(job: BootstrapJob): PackedColumns {
  return {
    nRounds: job.nRounds,
    nColumns: job.nColumns,
    passes: job.passes.map((p) => ({ width: p.width, first: p.first, data: new Float64Array(p.data) })),
  };
}

/** Takes groups until none is left; returns how many this thread computed. */
export function runGroups(job: BootstrapJob): number {
  const packed = packedOf(job);
  const means = new Float64Array(job.means);
  const next = new Int32Array(job.next);
  const groups = resampleGroupCount(job.nBootstrapSamples);
  const scratch = new ResampleScratch(job.nRounds);
  let done = 0;
  for (;;) {
    const g = Atomics.add(next, 0, 1);
    if (g >= groups) return done;
    resampleGroupMeans(packed, job.nBootstrapSamples, job.seed, g, means, scratch);
    done++;
  }
}
