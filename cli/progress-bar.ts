/**
 * One-line progress of a training run for the terminal, from the workflow's `progress` query:
 *   [#########-----------]  9/20 it  return 8.12 (best 9.01 @7)  kl 0.0123  ent 4.21  clip 0.081  0:42  training
 * On a TTY the line is redrawn in place (`\r` + clear to end of line); elsewhere (CI logs, pipes) a
 * plain line is printed whenever the iteration or the phase changes.
 */
import type { PpoProgress } from '../contracts/ppo-training';

const num = (v: number | null, digits: number) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = String(m).padStart(h ? 2 : 1, '0'), ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function progressLine(p: PpoProgress, barWidth = 20): string {
  const total = p.iterations ?? 0;
  const filled = total > 0 ? Math.min(barWidth, Math.round((p.iteration / total) * barWidth)) : 0;
  const bar = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  const width = String(total || '?').length;
  const count = `${String(p.iteration).padStart(width)}/${total || '?'} it`;
  const best = p.best === null ? '' : ` (best ${num(p.best, 2)}${p.bestIteration === null ? '' : ` @${p.bestIteration}`})`;
  const parts = [
    bar,
    count,
    `return ${num(p.episodicReturnMean, 2)}${best}`,
    `kl ${num(p.approxKl, 4)}`,
    `ent ${num(p.entropy, 2)}`,
    `clip ${num(p.clipFraction, 3)}`,
    formatElapsed(p.elapsedMs),
    p.stopRequested && p.phase === 'training' ? 'stopping' : p.phase,
  ];
  return parts.join('  ');
}

export type ProgressOut = NodeJS.WriteStream | { isTTY?: boolean; write(s: string): boolean };

/**
 * Draws progress lines to a stream: in place on a TTY, otherwise one line whenever `key(p)` changes.
 */
export class LinePrinter<P> {
  private last = '';
  private drawn = false;

  constructor(
    private readonly out: ProgressOut,
    private readonly line: (p: P) => string,
    private readonly key: (p: P) => string,
  ) {}

  update(p: P): void {
    const line = this.line(p);
    if (this.out.isTTY) {
      this.out.write(`\r${line}\x1b[K`);
      this.drawn = true;
      return;
    }
    const key = this.key(p);
    if (key !== this.last) {
      this.out.write(`${line}\n`);
      this.last = key;
    }
  }

  /** Ends the in-place line so what follows starts on a fresh one. */
  done(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

/** PPO progress: a new plain line per iteration, phase or stop request. */
export class ProgressPrinter extends LinePrinter<PpoProgress> {
  constructor(out: ProgressOut) {
    super(out, (p) => progressLine(p), (p) => `${p.iteration}|${p.phase}|${p.stopRequested}`);
  }
}
