#!/usr/bin/env node
// A stand-in for the `oumi` CLI in unit tests of activities/oumi/process.ts. It prints what the real
// trainer prints (tqdm bars redrawn with \r on stderr, Trainer log dicts, checkpoint-N directories) and
// behaves as FAKE_OUMI_MODE says:
//   train (default)  steps 1..--training.max_steps (default 6), resuming after --training.resume_from_checkpoint
//   fail             prints a traceback of 60 lines to stderr and exits 3
//   stall            prints FAKE_OUMI_STALL_AFTER (default 2) steps, then hangs without printing anything
//   hang             starts a grandchild (which ignores SIGTERM when FAKE_OUMI_STUBBORN=1), writes both pids
//                    to FAKE_OUMI_PIDS_FILE, prints one progress bar and waits forever
// FAKE_OUMI_SILENT_MS, when set, delays the first output (a slow Python start-up).
// FAKE_OUMI_ARGS_FILE, when set, receives the argv as JSON.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const argv = process.argv.slice(2);
if (process.env.FAKE_OUMI_ARGS_FILE) fs.writeFileSync(process.env.FAKE_OUMI_ARGS_FILE, JSON.stringify(argv));
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const mode = process.env.FAKE_OUMI_MODE || 'train';

function bar(step, total) {
  const pct = Math.floor((100 * step) / total);
  return `\r${String(pct).padStart(3)}%|${'█'.repeat(Math.floor(pct / 10)).padEnd(10)}| ${step}/${total} [00:01<00:01,  5.00it/s]`;
}

function main() {
if (mode === 'train') {
  const outputDir = option('training.output_dir');
  const total = Number(option('training.max_steps') || 6);
  const resume = option('training.resume_from_checkpoint');
  const start = resume ? Number(/checkpoint-(\d+)$/.exec(resume)[1]) : 0;
  process.stdout.write(`[oumi][INFO] Starting training... resume=${resume || 'none'}\n`);
  process.stderr.write('Loading weights: 100%|██████████| 20/20 [00:00<00:00, 27077.50it/s]\n');
  for (let step = start + 1; step <= total; step++) {
    process.stderr.write(bar(step, total));
    if (step % 2 === 0) {
      const loss = (3 / step).toFixed(3);
      process.stderr.write(`                                               {'loss': '${loss}', 'grad_norm': '1.2', 'learning_rate': '0.001', 'epoch': '${(step / total).toFixed(2)}', 'step': ${step}}\n`);
      if (outputDir) {
        const dir = path.join(outputDir, `checkpoint-${step}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify({ global_step: step }));
      }
    }
  }
  process.stderr.write(`\n{'train_runtime': '1.0', 'train_loss': '0.9', 'epoch': '1.0', 'step': ${total}}\n`);
  process.stdout.write('[oumi][INFO] Training is Complete.\n');
  process.exit(0);
} else if (mode === 'fail') {
  process.stdout.write('[oumi][INFO] Building model...\n');
  process.stderr.write('Traceback (most recent call last):\n');
  for (let i = 1; i <= 58; i++) process.stderr.write(`  File "frame_${i}.py", line ${i}, in f${i}\n`);
  process.stderr.write('ValueError: boom: dataset_path does not exist\n');
  process.exit(3);
} else if (mode === 'stall') {
  const after = Number(process.env.FAKE_OUMI_STALL_AFTER || 2);
  process.stdout.write('[oumi][INFO] Starting training...\n');
  for (let step = 1; step <= after; step++) process.stderr.write(bar(step, 10));
  setInterval(() => {}, 1000);
} else if (mode === 'hang') {
  const stubborn = process.env.FAKE_OUMI_STUBBORN === '1';
  const grandchild = spawn(process.execPath, ['-e', `${stubborn ? "process.on('SIGTERM', () => {});" : ''} setInterval(() => {}, 1000);`], { stdio: 'ignore' });
  if (stubborn) process.on('SIGTERM', () => {});
  fs.writeFileSync(process.env.FAKE_OUMI_PIDS_FILE, JSON.stringify({ oumi: process.pid, grandchild: grandchild.pid }));
  process.stderr.write(bar(1, 10));
  setInterval(() => {}, 1000);
} else {
  process.stderr.write(`fake-oumi: unknown FAKE_OUMI_MODE ${mode}\n`);
  process.exit(2);
}
}

const silentMs = Number(process.env.FAKE_OUMI_SILENT_MS || 0);
if (silentMs > 0) setTimeout(main, silentMs);
else main();
