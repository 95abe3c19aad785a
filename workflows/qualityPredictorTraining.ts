/**
 * `qualityPredictorTraining` (UC10): one activity on the training queue trains the LightGBM quality
 * predictor, exports it to ONNX, checks ONNX/LightGBM parity on held-out rows and registers the version
 * (optionally as the `predictor` deployment's champion). The input's defaults are filled here so the
 * history shows what ran.
 */
import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { QUALITY_PREDICTOR_DEFAULTS, type QualityPredictorActivities, type QualityPredictorTrainingInput, type QualityPredictorTrainingResult, type ResolvedQualityPredictorInput } from '../contracts/quality-predictor-training';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { trainQualityPredictor } = proxyActivities<QualityPredictorActivities>({
  startToCloseTimeout: '15 minutes',
  retry: { maximumAttempts: 3, initialInterval: '5 seconds', nonRetryableErrorTypes: ['PredictorParityFailed', 'InvalidQualityPredictorInput'] },
});

export async function qualityPredictorTraining(input: QualityPredictorTrainingInput = {}): Promise<QualityPredictorTrainingResult> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw ApplicationFailure.nonRetryable(`qualityPredictorTraining: input must be an object, got ${JSON.stringify(input)}`, 'InvalidQualityPredictorInput');
  const { workflowId } = workflowInfo();
  const resolved: ResolvedQualityPredictorInput = { ...QUALITY_PREDICTOR_DEFAULTS, ...input, actor: input.actor ?? `workflow:${workflowId}` };
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'quality-predictor' }, { key: SEARCH_ATTRIBUTES.model, value: resolved.model }]);
  const result = await trainQualityPredictor({ ...resolved, workflowId });
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.version, value: result.version }]);
  return result;
}
