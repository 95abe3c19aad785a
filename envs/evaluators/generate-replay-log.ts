/**
 * Writes a replay log (JSONL, the format `replay.ts` reads) from the simulator: every config of a
 * grid × every category × `repeats` noisy batches, seeded. For tests and the offline demo:
 *
 *   node -r ./scripts/register-ts.js envs/evaluators/generate-replay-log.ts OUT.jsonl \
 *     [--repeats 2] [--seed 1] [--batch-size 200] [--k 3,4,5,6,8,10,12,16,20,24,32] [--fusion 0,0.25,0.5,0.75,1]
 */
import { writeFileSync } from 'node:fs';
import { Rng } from '../../ml/rng';
import { DEFAULT_PROMPT_IDS } from '../config';
import type { RagConfig, Variant } from '../types';
import { SimulatedRagEvaluator, type SimulatorOptions } from './simulator';

export interface ReplayGridOptions {
  ks?: number[];
  fusionWeights?: number[];
  prompts?: string[];
  categories?: string[];
  repeats?: number;
  batchSize?: number;
  seed?: number;
  simulator?: SimulatorOptions;
}

export const DEFAULT_REPLAY_KS = [3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32];
export const DEFAULT_REPLAY_FUSION = [0, 0.25, 0.5, 0.75, 1];

/** The JSONL lines (no trailing newline in each) of a simulated log. */
export function generateReplayLog(options: ReplayGridOptions = {}): string[] {
  const sim = new SimulatedRagEvaluator(options.simulator);
  const ks = options.ks ?? DEFAULT_REPLAY_KS;
  const ws = options.fusionWeights ?? DEFAULT_REPLAY_FUSION;
  const prompts = options.prompts ?? DEFAULT_PROMPT_IDS;
  const categories = options.categories ?? sim.categories;
  const repeats = options.repeats ?? 1;
  const batchSize = options.batchSize ?? 200;
  const rng = new Rng(options.seed ?? 1);
  const lines: string[] = [];
  for (const category of categories) {
    for (const variant of ['A', 'B'] as Variant[]) {
      for (const k of ks) {
        for (const rerank of [false, true]) {
          for (const fusion_weight of ws) {
            for (const prompt_id of prompts) {
              const config: RagConfig = { variant, k, rerank, fusion_weight, prompt_id };
              for (let r = 0; r < repeats; r++) {
                const e = sim.evaluateSync(config, category, batchSize, rng.nextUint32());
                lines.push(JSON.stringify({
                  config,
                  category,
                  faithfulness: round(e.faithfulness, 4),
                  relevancy: round(e.relevancy, 4),
                  latency_ms: { p50: round(e.latency_ms.p50, 1), p95: round(e.latency_ms.p95, 1) },
                  cost_usd: round(e.cost_usd, 8),
                  error_rate: e.error_rate,
                  faithfulness_std: round(e.faithfulness_std ?? 0, 4),
                  relevancy_std: round(e.relevancy_std ?? 0, 4),
                  policy_violation_rate: e.policy_violation_rate ?? 0,
                }));
              }
            }
          }
        }
      }
    }
  }
  return lines;
}

/** Rounds to `digits` decimals (logs keep what a real logger would). */
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function parseList(flag: string, value: string | undefined): number[] {
  const xs = (value ?? '').split(',').map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) throw new Error(`${flag} must be a comma-separated list of numbers, got ${JSON.stringify(value)}`);
  return xs;
}

function main(argv: string[]): void {
  const out = argv[0];
  if (!out || out.startsWith('--')) {
    throw new Error('usage: generate-replay-log.ts OUT.jsonl [--repeats N] [--seed S] [--batch-size N] [--k 3,8,16] [--fusion 0,0.5,1]');
  }
  const options: ReplayGridOptions = {};
  for (let i = 1; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
      return n;
    };
    if (flag === '--repeats') options.repeats = int();
    else if (flag === '--seed') options.seed = int();
    else if (flag === '--batch-size') options.batchSize = int();
    else if (flag === '--k') options.ks = parseList(flag, value);
    else if (flag === '--fusion') options.fusionWeights = parseList(flag, value);
    else throw new Error(`unknown option ${flag} (expected --repeats, --seed, --batch-size, --k, --fusion)`);
  }
  const lines = generateReplayLog(options);
  writeFileSync(out, lines.join('\n') + '\n');
  process.stdout.write(`wrote ${lines.length} logged evaluations to ${out}\n`);
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
}
