/**
 * The qualityPredictorTraining workflow's contract (UC10): trains the quality predictor — a LightGBM
 * classifier of P(response is low quality | request, model features) — in the project-local LightGBM venv
 * (python/train_lgbm.py), exports it to ONNX, checks that onnxruntime-node's predictions equal LightGBM's
 * on the held-out rows within `parityTolerance`, and registers the ONNX model as a version served by the
 * `predictor` kind (inference/predictor/). Types and constant names only.
 */

/** The workflow type name. */
export const QUALITY_PREDICTOR_TRAINING_WORKFLOW_TYPE = 'qualityPredictorTraining';

export interface QualityPredictorTrainingInput {
  /** Registry model name. Default `quality-predictor`. */
  model?: string;
  /** Seed of the response simulator and of LightGBM. Default 7. */
  seed?: number;
  /** Simulated training rows. Default 20000. */
  trainRows?: number;
  /** Held-out rows (the parity check and the held-out metrics). Default 4000. */
  heldoutRows?: number;
  /** Boosting rounds. Default 150. */
  trees?: number;
  /** Leaves per tree. Default 15. */
  leaves?: number;
  /** Default 0.08. */
  learningRate?: number;
  /** Added to the simulator's ground-truth logit (a different world, e.g. for a second version). Default 0. */
  shift?: number;
  /** The largest |ONNX − LightGBM| probability accepted on the held-out rows. Default 1e-6. */
  parityTolerance?: number;
  /** Make the registered version the deployment's champion (kind `predictor`). Default false. */
  champion?: boolean;
  /** Who the registry records as acting. Default `workflow:<workflow id>`. */
  actor?: string;
}

export type ResolvedQualityPredictorInput = Required<Omit<QualityPredictorTrainingInput, 'actor'>> & { actor: string };

export const QUALITY_PREDICTOR_DEFAULTS: Omit<ResolvedQualityPredictorInput, 'actor'> = {
  model: 'quality-predictor',
  seed: 7,
  trainRows: 20000,
  heldoutRows: 4000,
  trees: 150,
  leaves: 15,
  learningRate: 0.08,
  shift: 0,
  parityTolerance: 1e-6,
  champion: false,
};

export interface PredictorParity {
  /** max |p_onnxruntime-node − p_lightgbm| over the held-out rows (what the check is on). */
  maxAbsDiff: number;
  /** The same figure with Python's onnxruntime. */
  maxAbsDiffPython: number;
  rows: number;
  tolerance: number;
}

export interface QualityPredictorTrainingResult {
  model: string;
  version: number;
  sha256: string;
  artifactUri: string;
  parity: PredictorParity;
  /** Held-out log loss, Brier, AUC and the base-rate log loss. */
  metrics: Record<string, number>;
  champion: boolean;
}

export interface QualityPredictorActivities {
  /** Trains, exports, checks parity (non-retryable `PredictorParityFailed` naming the max diff) and registers. */
  trainQualityPredictor(input: ResolvedQualityPredictorInput & { workflowId: string }): Promise<QualityPredictorTrainingResult>;
}
