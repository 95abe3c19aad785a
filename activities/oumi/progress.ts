/**
 * Reads training progress out of the Oumi / Hugging Face Trainer log:
 *  - the trainer's tqdm bar, ` 45%|████▌     | 9/20 [00:01<00:01,  6.78it/s]` (segments separated by
 *    `\r`; bars with a description, such as `Loading weights: 20/20`, are not the trainer's);
 *  - the Trainer's log dicts, `{'loss': '1.641', 'grad_norm': '3.0', 'epoch': '0.8', 'step': 20}` (values
 *    quoted in transformers 5, bare numbers in 4).
 * Pure: `ProgressParser.push(chunk)` returns the progress updates the chunk completes.
 */

import type { OumiProgress } from '../../contracts/text-policy-training';

const TQDM = /^\s*\d{1,3}%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[/;
const NUMBER = String.raw`'?(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|nan|inf)'?`;
const LOSS = new RegExp(String.raw`\{[^{}]*'loss':\s*${NUMBER}[^{}]*\}`);
const STEP = /'step':\s*'?(\d+)'?/;
const EPOCH = new RegExp(String.raw`'epoch':\s*${NUMBER}`);

export class ProgressParser {
  private pending = '';
  private readonly state: OumiProgress = { step: 0, totalSteps: null, loss: null, epoch: null };

  get current(): OumiProgress {
    return { ...this.state };
  }

  /** Feeds raw output; returns a snapshot after each segment that changed the progress. */
  push(chunk: string): OumiProgress[] {
    const text = this.pending + chunk;
    const segments = text.split(/\r\n|\r|\n/);
    this.pending = segments.pop() ?? '';
    const updates: OumiProgress[] = [];
    for (const segment of segments) if (this.parse(segment)) updates.push(this.current);
    // tqdm draws `\r<bar>` and completes the segment only with the next redraw: take a finished-looking
    // bar now (the step is max-merged, so reading it again later changes nothing).
    if (TQDM.test(this.pending) && this.pending.trimEnd().endsWith(']') && this.parseBar(this.pending)) updates.push(this.current);
    return updates;
  }

  /** Parses what is left when the stream ends. */
  flush(): OumiProgress[] {
    const rest = this.pending;
    this.pending = '';
    return rest !== '' && this.parse(rest) ? [this.current] : [];
  }

  private parseBar(segment: string): boolean {
    const bar = TQDM.exec(segment);
    if (!bar) return false;
    const step = Math.max(this.state.step, Number(bar[1]));
    const total = Number(bar[2]);
    if (step === this.state.step && total === this.state.totalSteps) return false;
    this.state.step = step;
    this.state.totalSteps = total;
    return true;
  }

  private parse(segment: string): boolean {
    let changed = this.parseBar(segment);
    const logged = LOSS.exec(segment);
    if (logged) {
      const dict = logged[0];
      this.state.loss = Number(logged[1]);
      const step = STEP.exec(dict);
      if (step) this.state.step = Math.max(this.state.step, Number(step[1]));
      const epoch = EPOCH.exec(dict);
      if (epoch) this.state.epoch = Number(epoch[1]);
      changed = true;
    }
    return changed;
  }
}
