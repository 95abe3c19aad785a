import { sharedBootstrap } from '../ml/stats/shared-bootstrap';
import { Rng } from '../ml/rng';
import { checkThreads, sharedBootstrapOnThreads } from './bootstrap';

const columns = (k: number, n: number): Float64Array[] => {
  const rng = new Rng(3);
  return Array.from({ length: k }, () => Float64Array.from({ length: n }, () => (rng.uniform() < 0.3 ? rng.gamma(0.7) * 4 : rng.normal())));
};

describe('the shared bootstrap on worker threads', () => {
  it('gives bit-identical intervals on 1, 2 and 3 threads, equal to the one-thread library call', async () => {
    const cols = columns(7, 4100);
    const opts = { alpha: 0.05, nBootstrapSamples: 1000, randomState: 17 };
    const reference = sharedBootstrap(cols, opts);
    for (const threads of [1, 2, 3]) {
      expect(await sharedBootstrapOnThreads(cols, { ...opts, threads })).toEqual(reference);
    }
    // Workers only (the calling thread waits): every group computed on another thread, same numbers.
    const stats = { groupsPerThread: [] as number[] };
    expect(await sharedBootstrapOnThreads(cols, { ...opts, threads: 2, mainThreadComputes: false, stats })).toEqual(reference);
    expect(stats.groupsPerThread[0]).toBe(0);
    expect(stats.groupsPerThread.reduce((a, b) => a + b, 0)).toBe(16); // ceil(1000 / 64) groups
  });

  it('uses all the threads when there are fewer groups than threads, and one group', async () => {
    const cols = columns(2, 900);
    const opts = { alpha: 0.1, nBootstrapSamples: 50, randomState: 2 }; // a single group
    expect(await sharedBootstrapOnThreads(cols, { ...opts, threads: 4 })).toEqual(sharedBootstrap(cols, opts));
  });

  it('rejects bad thread counts and bad data by name', async () => {
    expect(() => checkThreads(0)).toThrow('threads: got 0, expected an integer in [1, 256]');
    expect(() => checkThreads(1.5, '--threads')).toThrow('--threads: got 1.5, expected an integer in [1, 256]');
    await expect(sharedBootstrapOnThreads([Float64Array.from([1, Infinity])], { threads: 2 }, ['dr'])).rejects.toThrow('dr[1]: got Infinity, expected a finite number');
    await expect(sharedBootstrapOnThreads([Float64Array.from([1])], { alpha: 2 })).rejects.toThrow('alpha: got 2, expected a number in (0, 1)');
  });
});
