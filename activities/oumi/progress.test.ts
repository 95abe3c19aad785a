import { ProgressParser } from './progress';

describe('Oumi progress parsing', () => {
  it('reads step and total from the trainer\'s tqdm bar, ignoring bars with a description', () => {
    const parser = new ProgressParser();
    expect(parser.push('Loading weights: 100%|██████████| 20/20 [00:00<00:00, 27077.50it/s]\n')).toEqual([]);
    expect(parser.push('Generating train split: 374 examples [00:00, 3084.77 examples/s]\r')).toEqual([]);
    const updates = parser.push('  0%|          | 0/40 [00:00<?, ?it/s]\r  5%|▌         | 2/40 [00:00<00:09,  1.93it/s]\r');
    expect(updates.map((u) => [u.step, u.totalSteps])).toEqual([[0, 40], [2, 40]]);
  });

  it('reads loss, step and epoch from Trainer log dicts (quoted in transformers 5, bare in 4)', () => {
    const parser = new ProgressParser();
    const [v5] = parser.push(" 20%|██        | 4/20 [00:01<00:03,  4.06it/s]                 {'loss': '5.465', 'grad_norm': '4.825', 'learning_rate': '0.00291', 'epoch': '0.2', 'step': 5}\n");
    expect(v5).toEqual({ step: 5, totalSteps: 20, loss: 5.465, epoch: 0.2 });
    const [v4] = parser.push("{'loss': 0.4368, 'grad_norm': 1.1, 'learning_rate': 2.5e-05, 'epoch': 0.4}\n");
    expect(v4).toEqual({ step: 5, totalSteps: 20, loss: 0.4368, epoch: 0.4 });
  });

  it('does not take the end-of-run train_loss summary for a step loss', () => {
    const parser = new ProgressParser();
    expect(parser.push("{'train_runtime': '5.831', 'train_loss': '3.116', 'epoch': '0.8', 'step': 20}\n")).toEqual([]);
  });

  it('joins segments split across chunks, takes a finished bar before the next redraw, and parses the tail on flush', () => {
    const parser = new ProgressParser();
    expect(parser.push(' 50%|█████     | 10/')).toEqual([]);
    const updates = parser.push('20 [00:01<00:01,  6.78it/s]\r 55%|█████▌    | 11/20 [00:02<00:01,  4.78it/s]');
    expect(updates.map((u) => u.step)).toEqual([10, 11]);
    expect(parser.push('\r')).toEqual([]); // the same bar completed by the next redraw: no new step
    parser.push("{'loss': '0.25', 'step': 12}");
    expect(parser.current.loss).toBeNull();
    expect(parser.flush()).toEqual([{ step: 12, totalSteps: 20, loss: 0.25, epoch: null }]);
  });

  it('parses scientific-notation and nan losses', () => {
    const parser = new ProgressParser();
    expect(parser.push("{'loss': '1.2e-03', 'step': 3}\n")[0].loss).toBeCloseTo(0.0012);
    expect(parser.push("{'loss': 'nan', 'step': 4}\n")[0].loss).toBeNaN();
  });
});
