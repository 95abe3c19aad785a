/**
 * The three evaluators behind one `Evaluator` interface, and `evaluatorFromSpec`, which reads the
 * `--env` argument of `autopilot train ppo`: `simulator`, `simulator:drift` (optimum drifting with a
 * period of 2,000 evaluations), `replay:FILE` (a JSONL log) or `http:URL` / `https:URL` (a live
 * system serving `POST /tuner/evaluate`).
 */
import type { Evaluator } from '../types';
import { HttpEvaluator, type HttpEvaluatorOptions } from './http';
import { ReplayEvaluator, type ReplayOptions } from './replay';
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
  if (spec.startsWith('replay:') && spec.length > 'replay:'.length) return ReplayEvaluator.fromFile(spec.slice('replay:'.length), options.replay);
  if (/^https?:\/\//.test(spec)) return new HttpEvaluator({ baseUrl: spec, ...options.http });
  if (spec.startsWith('http:') && /^https?:\/\//.test(spec.slice(5))) return new HttpEvaluator({ baseUrl: spec.slice(5), ...options.http });
  throw new Error(`unknown evaluator ${JSON.stringify(spec)} (expected simulator, simulator:drift, replay:FILE or http:URL)`);
}
