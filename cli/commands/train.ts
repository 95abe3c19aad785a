/**
 * `autopilot train <kind> …` — start a training run as a Temporal workflow. Each kind is one file in
 * `cli/commands/train/` exporting `register(train)` (ppo.ts: `train ppo`; text-policy.ts: `train
 * text-policy`, alias `train policy`); a new kind adds its file there without touching this one.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  const train = program.command('train').description('start a training run (a Temporal workflow) and follow it until its model version is registered');
  const dir = join(__dirname, 'train');
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|int\.test|d)\.(ts|js)$/.test(f))
    .sort();
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- subcommands are discovered at run time
    const mod = require(join(dir, file)) as { register?: (train: Command) => void };
    if (typeof mod.register !== 'function') throw new Error(`cli/commands/train/${file} must export register(train)`);
    mod.register(train);
  }
}
