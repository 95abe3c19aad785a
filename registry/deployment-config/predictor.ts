/**
 * The `config` of a deployment of kind `predictor` (the UC10 quality predictor): its quality gate,
 * parsed by ml/predictor/gate.ts (`{ gate: { threshold, action: "reroute" | "escalate", to } }`).
 */
import { parsePredictorConfig as parseGate, type PredictorConfig } from '../../ml/predictor/gate';
import { PredictorFieldError } from '../../ml/predictor/signature';
import { ConfigFieldError } from './errors';

export type { PredictorConfig };

export function parsePredictorConfig(config: Readonly<Record<string, unknown>>): PredictorConfig {
  try {
    return parseGate(config);
  } catch (err) {
    if (err instanceof PredictorFieldError) {
      throw new ConfigFieldError(err.field, err.value, err.expected);
    }
    throw err;
  }
}
