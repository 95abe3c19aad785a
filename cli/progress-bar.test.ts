import type { PpoProgress } from '../contracts/ppo-training';
import { formatElapsed, progressLine, ProgressPrinter } from './progress-bar';

const base: PpoProgress = {
  runId: 'r', model: 'm', phase: 'training', iteration: 9, iterations: 20, episodicReturnMean: 8.123, best: 9.014, bestIteration: 7,
  approxKl: 0.01234, entropy: 4.209, clipFraction: 0.0812, elapsedMs: 42_500, stopRequested: false, checkpointUri: null, result: null,
};

describe('progress line', () => {
  it('shows the bar, the iteration and the PPO figures', () => {
    expect(progressLine(base)).toBe('[#########-----------]   9/20 it  return 8.12 (best 9.01 @7)  kl 0.0123  ent 4.21  clip 0.081  0:42  training');
  });

  it('shows dashes before there are figures, and stopping once asked', () => {
    const line = progressLine({ ...base, iteration: 0, iterations: null, episodicReturnMean: null, best: null, bestIteration: null, approxKl: null, entropy: null, clipFraction: null, stopRequested: true });
    expect(line).toBe('[--------------------]  0/? it  return –  kl –  ent –  clip –  0:42  stopping');
  });

  it('formats elapsed time', () => {
    expect(formatElapsed(0)).toBe('0:00');
    expect(formatElapsed(61_000)).toBe('1:01');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
  });

  it('redraws in place on a TTY and prints one line per change elsewhere', () => {
    const tty: string[] = [];
    const p1 = new ProgressPrinter({ isTTY: true, write: (s: string) => tty.push(s) > 0 });
    p1.update(base);
    p1.update({ ...base, elapsedMs: 43_000 });
    p1.done();
    expect(tty).toHaveLength(3);
    expect(tty[0].startsWith('\r[#########')).toBe(true);
    expect(tty[0].endsWith('\x1b[K')).toBe(true);
    expect(tty[2]).toBe('\n');

    const plain: string[] = [];
    const p2 = new ProgressPrinter({ isTTY: false, write: (s: string) => plain.push(s) > 0 });
    p2.update(base);
    p2.update({ ...base, elapsedMs: 43_000 }); // same iteration and phase: nothing new
    p2.update({ ...base, iteration: 10 });
    p2.update({ ...base, iteration: 10, phase: 'evaluating' });
    p2.done();
    expect(plain).toHaveLength(3);
    expect(plain.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
});
