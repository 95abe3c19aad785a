// Every workflow the workers serve. The worker bundles this file: add each new workflow here.
export { stackCheck } from './stackCheck';
export { ppoTraining } from './ppoTraining';
export { canaryPromotion } from './canaryPromotion';
export { offPolicyEvaluation } from './offPolicyEvaluation';
export { banditSnapshot } from './banditSnapshot';
export { driftMonitor } from './driftMonitor';
export { textPolicyTraining, policyTraining } from './textPolicyTraining';
// Optimisers (R-USE-CASES: parameter tuning, experiment design, budget allocation, workload forecasting).
export { parameterTuning } from './parameterTuning';
export { budgetAllocation } from './budgetAllocation';
export { workloadForecast } from './workloadForecast';
export { experimentDesign } from './experimentDesign';
// PPO sweeps over reward weights × feature-head ablations (seed 002 §8).
export { sweep } from './sweep';
// The loop: export → retrain → offline evaluation + OPE → canary → promote or reject, per deployment.
export { optimizationLoop } from './optimizationLoop';
// The decision log's day partitions: created ahead, dropped once expired (issue 20).
export { retention } from './retention';
// UC10: the LightGBM quality predictor, exported to ONNX and parity-checked, served by the predictor kind.
export { qualityPredictorTraining } from './qualityPredictorTraining';
