/**
 * The quality gate of a `predictor` deployment (UC10): the model predicts p = P(low quality | request,
 * model); the predicted quality is q = 1 − p; when q < threshold the gate's action is taken — `reroute`
 * the request to a named fallback (e.g. a stronger model) or `escalate` it to a named reviewer queue.
 *
 *   { "gate": { "threshold": 0.6, "action": "reroute", "to": "llm-premium" } }
 *
 * Without `gate` the deployment only predicts. Errors name the field (`config.gate.threshold`), the value
 * and what was expected.
 */
import { PredictorFieldError } from './signature';

export const GATE_ACTIONS = ['reroute', 'escalate'] as const;
export type GateAction = (typeof GATE_ACTIONS)[number];

export interface QualityGate {
  /** Minimum predicted quality (1 − P(low quality)) that passes, in (0, 1). */
  threshold: number;
  action: GateAction;
  /** The fallback to reroute to, or the queue to escalate to. */
  to: string;
}

export interface PredictorConfig {
  gate: QualityGate | null;
}

export interface GateVerdict {
  /** P(low quality). */
  probability: number;
  /** 1 − probability. */
  quality: number;
  passed: boolean;
  /** The action to take (null when passed or when there is no gate). */
  action: { type: GateAction; to: string } | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const TARGET = /^[A-Za-z0-9_.:\-/@]{1,128}$/;

export function parsePredictorConfig(config: Readonly<Record<string, unknown>>): PredictorConfig {
  for (const k of Object.keys(config)) if (k !== 'gate') throw new PredictorFieldError(`config.${k}`, config[k], 'no such setting (known: gate)');
  const g = config.gate;
  if (g === undefined || g === null) return { gate: null };
  if (!isObject(g)) throw new PredictorFieldError('config.gate', g, 'an object { threshold, action: "reroute" | "escalate", to }');
  for (const k of Object.keys(g)) if (!['threshold', 'action', 'to'].includes(k)) throw new PredictorFieldError(`config.gate.${k}`, g[k], 'no such setting (known: threshold, action, to)');
  const t = g.threshold;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t >= 1) throw new PredictorFieldError('config.gate.threshold', t, 'a number in (0, 1): the lowest predicted quality (1 − P(low quality)) that passes');
  if (typeof g.action !== 'string' || !(GATE_ACTIONS as readonly string[]).includes(g.action)) throw new PredictorFieldError('config.gate.action', g.action, `one of ${GATE_ACTIONS.join(', ')}`);
  if (typeof g.to !== 'string' || !TARGET.test(g.to)) {
    throw new PredictorFieldError('config.gate.to', g.to, g.action === 'reroute' ? 'the name of the fallback to reroute to (1–128 of A-Z a-z 0-9 _ . : - / @)' : 'the name of the queue to escalate to (1–128 of A-Z a-z 0-9 _ . : - / @)');
  }
  return { gate: { threshold: t, action: g.action as GateAction, to: g.to } };
}

/** The gate's verdict on a predicted P(low quality). */
export function applyGate(gate: QualityGate | null, probability: number): GateVerdict {
  const quality = 1 - probability;
  const passed = gate === null || quality >= gate.threshold;
  return { probability, quality, passed, action: passed || gate === null ? null : { type: gate.action, to: gate.to } };
}
