/**
 * The three evaluators behind one `Evaluator` interface, and `evaluatorFromSpec`, which reads the
 * `--env` argument of `autopilot train ppo`: `simulator`, `simulator:drift` (optimum drifting with a
 * period of 2,000 evaluations), `replay:FILE` (a JSONL log) or `http:URL` / `https:URL` (a live
 * system serving `POST /tuner/evaluate`), optionally followed by `;header:NAME=env:VAR` secret headers.
 */
import type { Evaluator } from '../types';
import { HttpEvaluator, parseHeaderOptions, type HttpEvaluatorOptions } from './http';
import { ReplayEvaluator, type ReplayOptions } from './replay';
import { loadReplaySource } from './snapshot';
import { SimulatedRagEvaluator, type SimulatorOptions } from './simulator';

export { HttpEvaluator, ReplayEvaluator, SimulatedRagEvaluator };
export type { HttpEvaluatorOptions, ReplayOptions, SimulatorOptions };

export interface EvaluatorSpecOptions {
  simulator?: SimulatorOptions;
  replay?: ReplayOptions;
  http?: Omit<HttpEvaluatorOptions, 'baseUrl'>;
}

export function evaluatorFromSpec(spec: string, options: EvaluatorSpecOptions = {}): Evaluator {
  if (spec === 'simulator') return new SimulatedRagEvaluator(options.simulator);
  if (spec === 'simulator:drift') return new SimulatedRagEvaluator({ drift: { period: 2000, amplitude: 0.2 }, ...options.simulator });
  if (spec.startsWith('replay:') && spec.length > 'replay:'.length) {
    // A JSONL log or a dataset snapshot (directory or manifest.json) of `autopilot data export`.
    const path = spec.slice('replay:'.length);
    return new ReplayEvaluator(loadReplaySource(path).records, { name: `replay:${path}`, ...options.replay });
  }
  // `http:URL;header:NAME=env:VAR…`: secret headers read from this process's environment (http.ts).
  const [head, ...headerOptions] = spec.split(';');
  const url = /^https?:\/\//.test(head) ? head : head.startsWith('http:') && /^https?:\/\//.test(head.slice(5)) ? head.slice(5) : null;
  if (url !== null) {
    const secretHeaders = { ...options.http?.secretHeaders, ...parseHeaderOptions(headerOptions, 'evaluator') };
    return new HttpEvaluator({ baseUrl: url, ...options.http, secretHeaders });
  }
  throw new Error(`unknown evaluator ${JSON.stringify(spec)} (expected simulator, simulator:drift, replay:FILE or http:URL)`);
}
