/**
 * The textPolicyTraining workflow's contract (Oumi SFT → DPO training of the text policy, the
 * served kind `text-policy`): its input (one plain JSON object) and defaults, progress query,
 * trainer-progress signal and result, and the activities it calls — `OumiActivities` (the Oumi and
 * Python steps, activities/oumi/activities.ts) and `PolicyRunActivities` (run record, training
 * stage with progress signals, registration; activities/oumi/register.ts). Types and constant names
 * only. Activity type names (`startPolicyRun`, `policyTrain`, …) are kept as they were: running
 * histories refer to them.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { GenerateOptions } from '../ml/policy-data/generate';

/** The workflow type name. */
export const TEXT_POLICY_TRAINING_WORKFLOW_TYPE = 'textPolicyTraining';
/** The type name it had before: still registered on the oumi worker so running histories replay. */
export const LEGACY_TEXT_POLICY_TRAINING_WORKFLOW_TYPE = 'policyTraining';

export type OverrideValue = string | number | boolean;

export interface GenerateDataInput {
  /** Synthetic labelled decisions to generate. Default 500. */
  n?: number;
  /** Generator seed. Default 1. */
  seed?: number;
  /** Probability that a label is flipped (human noise). Default 0.02. */
  noise?: number;
}

export interface TextPolicyTrainingInput {
  /** Registry model name. Default `action-policy`. */
  model?: string;
  /** A `labeled_decisions.jsonl` path (R-APPROVAL-DATA schema), or `{ generate: {...} }`. Default: generate 500. */
  data?: string | { generate: GenerateDataInput };
  /** Fraction held out for evaluation. Default 0.2. */
  evalFraction?: number;
  /** Seed of the train/eval split. Default 0. */
  splitSeed?: number;
  /**
   * Fraction of the training split held out as validation: the decision threshold is calibrated there
   * (seed 003's FNR bound first, then the least FPR) and DPO is kept only if it does not lower the
   * validation accuracy. Default 0.15.
   */
  valFraction?: number;
  /** Oumi configs, relative to the repository root. */
  sftConfig?: string;
  dpoConfig?: string;
  /** `training.max_steps` for each stage (default: the config's). */
  sftSteps?: number;
  dpoSteps?: number;
  /** Further `dotted.key: value` overrides for each stage's `oumi train`. */
  sftOverrides?: Record<string, OverrideValue>;
  dpoOverrides?: Record<string, OverrideValue>;
  /** A Hugging Face model folder to start SFT from; default: build the tiny model on the SFT text. */
  baseModel?: string;
  /** Seed of the tiny model's weights. Default 7. */
  tinyModelSeed?: number;
  /** Where the run's files go on the oumi worker. Default `<dataDir>/oumi/runs/<runId>`. */
  workDir?: string;
  /** Start `canaryPromotion` (workflow id `canary/<model>`) with the ONNX version. Default false. */
  startCanary?: boolean;
  /**
   * Start the canary although the version misses seed 003's targets on the eval set (audited as
   * `canary.forced`, search attribute AutopilotForced). Default false: such a version is registered
   * `rejected` with the failed targets and no canary starts.
   */
  force?: boolean;
  /** Who the registry records as acting. Default `workflow:<workflow id>`. */
  actor?: string;
  /** Activity limits: one `oumi train` may run this long; a silent trainer is retried after `heartbeatSeconds`. */
  timeouts?: { trainSeconds?: number; heartbeatSeconds?: number };
  /** Least time between two trainer-progress signals to the workflow. Default 5. */
  progressIntervalSeconds?: number;
  /**
   * LLM-as-judge (seed 003's `llm_judge`): present, the judge scores the SFT model's answers on its training
   * split and the alternative verdicts, its preferences (above a score margin) join the mined DPO pairs, and
   * its agreement with the labels and with reviewers' feedback is recorded. Absent: no judge stage.
   */
  judge?: JudgeInput;
}

/** Which judge config to use, and run-specific overrides of its `llm_judge` block. */
export interface JudgeInput {
  /** A YAML file with an `llm_judge` block. Default `configs/oumi/policy_rl.yaml`. */
  config?: string;
  /** An OpenAI-compatible chat-completions URL (overrides `llm_judge.endpoint`). */
  endpoint?: string;
  /** The model name the endpoint serves (overrides `llm_judge.model`). */
  model?: string;
  /** Least score difference between the two answers for a pair to be kept (overrides `llm_judge.pairs.margin`). */
  margin?: number;
  /** Most training items judged (overrides `llm_judge.pairs.max_items`). */
  maxItems?: number;
  /** Decisions in the unseen pool the judge labels (overrides `llm_judge.pool.size`; 0: no pool). */
  poolSize?: number;
}

/** One criterion the judge scores each answer on: a label per level, each with its score. */
export interface JudgeCriterionSpec {
  id: string;
  description: string;
  /** Label → score, e.g. { appropriate: 1, questionable: 0.5, inappropriate: 0 }. */
  scores: Record<string, number>;
  weight: number;
}

/** The `llm_judge` block resolved: what the judge activity runs (no secret: the key stays in the worker's environment). */
export interface PolicyJudgeConfig {
  /** The YAML it came from, relative to the root, and its sha256. */
  config: { path: string; sha256: string };
  /** `remote`: an OpenAI-compatible endpoint; `local`: a Hugging Face model folder run in the worker (Oumi's native engine). */
  engine: 'remote' | 'local';
  /** The chat-completions URL (remote), or null. */
  endpoint: string | null;
  /** The model name at the endpoint, or the local model folder. */
  model: string;
  /** The environment variable on the oumi worker holding the endpoint's API key (null: none sent). */
  apiKeyEnv: string | null;
  criteria: JudgeCriterionSpec[];
  /** How the criteria's scores combine into an answer's score (Oumi's rubric aggregation). */
  aggregation: 'weighted_mean' | 'min';
  responseFormat: 'json' | 'xml';
  systemInstruction: string;
  promptTemplate: string;
  /** Least |score(answer) − score(alternative)| for a preference pair. */
  margin: number;
  /** Most training items judged (two answers each). */
  maxItems: number;
  /** One-fact changes of each judged item the judge also scores (two answers each): synthetic preference data. */
  variantCandidates: number;
  /** Most of them per item kept as pairs: those whose verdict the judge gives the other way than the item's. */
  variants: number;
  /**
   * Unseen decisions the judge labels, as synthetic preference data (the SFT model scores them; those it gets
   * wrong or barely right at 0.5, their one-fact flips and as many right items of the other verdict become
   * pairs): `generated` draws `size` fresh decisions from the run's generator (runs on generated data only),
   * `served` takes the model's `size` most recent served decisions that logged their snapshot, `none` skips it.
   * Absent in runs started before the pool.
   */
  pool?: { source: 'none' | 'generated' | 'served'; size: number };
  /** Most reviewed served decisions (decision_feedback) judged for the agreement with reviewers. */
  maxFeedback: number;
  /** The judge evaluation passes when its agreement with the labels is at least this. */
  minAgreement: number;
  numWorkers: number;
  maxNewTokens: number;
  temperature: number;
}

export interface ResolvedPolicyInput {
  model: string;
  data: { path: string } | { generate: Required<GenerateDataInput> };
  evalFraction: number;
  /** Absent in runs started before the calibrated threshold. */
  valFraction?: number;
  splitSeed: number;
  sftConfig: string;
  dpoConfig: string;
  sftSteps: number | null;
  dpoSteps: number | null;
  sftOverrides: Record<string, OverrideValue>;
  dpoOverrides: Record<string, OverrideValue>;
  baseModel: string | null;
  tinyModelSeed: number;
  workDir: string | null;
  startCanary: boolean;
  /** Absent in runs started before the targets gated the canary. */
  force?: boolean;
  actor: string | null;
  progressIntervalSeconds: number;
  /** Absent (or null) without a judge stage. */
  judge?: JudgeInput | null;
}

/** The defaults of every optional input field (the input parser and the workflow both use them). */
export const TEXT_POLICY_DEFAULTS = {
  model: 'action-policy',
  generate: { n: 500, seed: 1, noise: 0.02 },
  evalFraction: 0.2,
  valFraction: 0.15,
  splitSeed: 0,
  sftConfig: 'configs/oumi/policy_sft.yaml',
  dpoConfig: 'configs/oumi/policy_dpo.yaml',
  tinyModelSeed: 7,
  progressIntervalSeconds: 5,
  trainSeconds: 4 * 3600,
  heartbeatSeconds: 300,
  judgeConfig: 'configs/oumi/policy_rl.yaml',
} as const;

/** The signal `policyTrain` sends its own workflow with the trainer's `{ stage, step, totalSteps, loss, epoch }`. */
export const TRAINER_PROGRESS_SIGNAL = 'trainerProgress';

export type Overrides = Record<string, string | number | boolean>;

export interface OumiProgress {
  /** Optimizer steps done. */
  step: number;
  /** Steps the run will take, once the trainer has said. */
  totalSteps: number | null;
  /** The latest logged training loss. */
  loss: number | null;
  epoch: number | null;
}

export interface StageProgress extends OumiProgress {
  stage: string;
}

export interface OumiTrainRequest {
  stage: 'sft' | 'dpo';
  /** Config path relative to the root, e.g. `configs/oumi/policy_sft.yaml`. */
  config: string;
  /** The base model (SFT) or the SFT output (DPO): a Hugging Face directory. */
  modelPath: string;
  /** `sft_train.jsonl` or `dpo_train.jsonl`. */
  dataPath: string;
  outputDir: string;
  maxSteps?: number;
  /** Further `dotted.key: value` overrides. */
  overrides?: Overrides;
}

export interface OumiTrainResult {
  stage: 'sft' | 'dpo';
  outputDir: string;
  progress: OumiProgress;
  resumedFrom: string | null;
  durationMs: number;
}

export interface FileSummary {
  path: string;
  records: number;
  sha256: string;
}

export interface SyntheticDecisionsRequest extends GenerateOptions {
  /** Where to write `labeled_decisions.jsonl`. */
  path: string;
}

export interface SyntheticDecisionsResult extends FileSummary {
  goodRate: number;
}

export interface PrepareRequest {
  /** The labelled decisions (JSONL, R-APPROVAL-DATA schema). */
  decisionsPath: string;
  /** Output directory for the split and the Oumi datasets. */
  outDir: string;
  /** Fraction held out for evaluation. Default 0.2. */
  evalFraction?: number;
  /** Seed of the split. Default 0. */
  seed?: number;
  /**
   * Fraction of the training split held out again as a validation split (`sft_val.jsonl`), on which the
   * decision threshold is calibrated and DPO is compared with SFT. Default 0: none (older runs).
   */
  valFraction?: number;
}

export interface PreparedData {
  outDir: string;
  manifestPath: string;
  /** The labelled decisions of each split (evaluation reads `eval`). */
  train: FileSummary;
  eval: FileSummary;
  /** Oumi `text_sft_jsonl` conversations. */
  sftTrain: FileSummary;
  sftEval: FileSummary;
  /** Oumi `text_dpo_jsonl` preference pairs. */
  dpoTrain: FileSummary;
  dpoEval: FileSummary;
  /** The validation split's conversations (with `valFraction` > 0). */
  sftVal?: FileSummary;
  /**
   * The eval split's conversations relabelled by the reviewing rule without label noise (an expert
   * panel's gold set); `relabelled` of them differ from the noisy labels.
   */
  sftEvalAdjudicated?: FileSummary & { relabelled: number };
  source: FileSummary;
  evalFraction: number;
  valFraction?: number;
  seed: number;
}

export interface TinyModelRequest {
  /** Tokenizer training text: SFT conversations (`sft_train.jsonl`) and/or plain text files. */
  corpus: string[];
  outDir: string;
  seed?: number;
}

export interface TinyModelResult {
  out: string;
  parameters: number;
  vocab_size: number;
  verdict_token_ids: { APPROVE: number; FLAG: number };
}

export interface Gate {
  value: number | null;
  target: string;
  passed: boolean;
}

/** What python/evaluate_policy.py computes; positive class = APPROVE. */
export interface PolicyMetrics {
  n: number;
  accuracy: number;
  /** Bad decisions approved / bad decisions. */
  fpr: number | null;
  /** Good decisions flagged / good decisions. */
  fnr: number | null;
  /** Approved items whose human label is bad / approved items. */
  override_rate: number;
  approve_rate: number;
  mean_p_approve: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  gates: Record<'accuracy' | 'fpr' | 'fnr' | 'override_rate', Gate>;
  passed: boolean;
  threshold: number;
  seconds: number;
  /** With EvaluateRequest.calibratePath: how the threshold was chosen, and the validation split's figures at it. */
  calibration?: { data: string; n: number; fnr_bound: number; threshold: number; accuracy: number; fpr: number | null; fnr: number | null; override_rate: number };
  /** With EvaluateRequest.adjudicatedPath: the same model and threshold on the noise-free eval labels. */
  adjudicated?: Omit<PolicyMetrics, 'mean_p_approve' | 'threshold' | 'seconds' | 'calibration' | 'adjudicated'> & { data: string; relabelled: number };
}

export interface EvaluateRequest {
  modelDir: string;
  /** SFT conversations of the eval split (`sft_eval.jsonl`): the label is the assistant's verdict. */
  evalPath: string;
  /** Where the metrics JSON is written. */
  outPath: string;
  threshold?: number;
  /** Choose the threshold on this validation split (`sft_val.jsonl`) instead: the largest keeping its FNR below `fnrBound`. */
  calibratePath?: string;
  /** Default: seed 003's FNR target, 0.02. */
  fnrBound?: number;
  /** Also measure on the noise-free relabelled eval split (`sft_eval_adjudicated.jsonl`). */
  adjudicatedPath?: string;
  /** Write `{ label, p_approve }` per conversation of `evalPath`, in order (JSONL). */
  predictionsPath?: string;
}

export interface MinePairsRequest {
  /** The labelled training records (`train.jsonl`) the predictions are of, in order. */
  recordsPath: string;
  /** evaluate_policy.py's predictions of the SFT model on those records' conversations. */
  predictionsPath: string;
  /** The SFT model's calibrated threshold. */
  threshold: number;
  /** Where the mined DPO pairs go (JSONL). */
  outPath: string;
  seed: number;
  /** Default 0.1. */
  margin?: number;
  /** Fewer hard items than this: no mined set (DPO trains on every pair). Default 16. */
  minHard?: number;
}

/** The mined pairs file (null path: too few hard items, DPO keeps every pair). */
export interface MinedPairsResult {
  path: string | null;
  records: number;
  sha256: string | null;
  errors: number;
  marginal: number;
  easy: number;
}

/** The judge stage: score the SFT model's answers on its training split and the alternatives, build pairs, measure agreement. */
export interface JudgeCandidatesRequest {
  judge: PolicyJudgeConfig;
  /** The registry model: its reviewed served decisions (decision_feedback) are judged for the agreement with reviewers. */
  model: string;
  /** The labelled training records (`train.jsonl`) and the SFT model's predictions on them, in order. */
  recordsPath: string;
  predictionsPath: string;
  /** The SFT model's calibrated threshold: its answer is APPROVE when p_approve ≥ it. */
  threshold: number;
  /** The DPO pairs the judge's are merged into (the mined pairs, or every pair). */
  basePairsPath: string;
  /** Where the judge's files go (candidates, scores, pairs, the merged DPO file). */
  outDir: string;
  /** Seeds the draw of one-fact changes (default 0). */
  seed?: number;
  /**
   * The unseen pool (judge.pool): the SFT model that scores it and, for a generated pool, the run's generator
   * seed (the pool is drawn with another seed derived from it). Absent: no pool.
   */
  pool?: { modelDir: string; generatorSeed?: number };
}

/** What the judge made of the unseen pool (judge_pool.jsonl: one row per decision). */
export interface JudgePoolSummary {
  source: 'generated' | 'served';
  /** Decisions in the pool (fewer than asked when fewer were served), and those the judge decided. */
  size: number;
  decided: number;
  /** Decided items the SFT model answers against the judge at 0.5, and those barely right (|p_approve − 0.5| < 0.1). */
  errors: number;
  marginal: number;
  /** One-fact changes of those items judged, those kept as pairs (the judge gave the other verdict), and the right items of the other verdict added. */
  variantsJudged: number;
  variantPairs: number;
  matched: number;
  /** Pairs from the pool in all (errors + marginal + variantPairs + matched). */
  pairs: number;
}

/** The judge's verdict (the answer it scored higher by at least the margin) against people's. */
export interface JudgeAgreement {
  /** Items judged, those the judge decided (margin reached, both answers scored), and those where its verdict was the people's. */
  n: number;
  decided: number;
  agree: number;
  /** agree / decided (null with none decided). */
  agreement: number | null;
  /** Cohen's kappa of the judge's and the people's verdicts on the decided items (null when undefined). */
  kappa: number | null;
}

export interface JudgeCandidatesResult {
  /** Who judged: the model, its endpoint (scheme, host and path only; null for a local model) and the config file. */
  judgeModel: string;
  endpoint: string | null;
  config: { path: string; sha256: string };
  /** The merged DPO training file: the base pairs and the judge's (contradicting pairs of one prompt dropped). */
  path: string;
  records: number;
  sha256: string;
  /** Per answer: the criteria's labels and scores and the aggregate (JSONL). */
  scoresPath: string;
  /** The judge's own pairs (JSONL). */
  judgePairsPath: string;
  /** Training items judged (two answers each); answers scored and answers the judge failed on (no usable answer), over every set it judged (training items and their changes, reviewed decisions, the pool and its changes). */
  judged: number;
  scored: number;
  failed: number;
  /** Items with a pair (margin reached), below the margin, the pairs added to the base set, the base pairs dropped as contradicted. */
  pairs: number;
  belowMargin: number;
  added: number;
  conflicts: number;
  /** Items where the judge preferred the SFT model's own answer over the alternative. */
  sftPreferred: number;
  /** One-fact changes of the judged items scored, and those kept as pairs (the judge flipped the item's verdict); in judge_variants.jsonl. */
  variantsJudged: number;
  variantPairs: number;
  /** The unseen pool, when the config has one. */
  pool?: JudgePoolSummary;
  /** Mean score of the SFT model's answers and of the alternatives, overall and per criterion. */
  meanScore: { sft: number | null; alternative: number | null };
  criteria: Record<string, { sft: number | null; alternative: number | null }>;
  /** Agreement with the training labels, and with reviewers' verdicts on served decisions (decision_feedback). */
  labels: JudgeAgreement;
  feedback: JudgeAgreement;
  margin: number;
  seconds: number;
}

export interface ExportRequest {
  modelDir: string;
  outDir: string;
  /** Conversations from which reference logits are computed (`reference.json`) for the parity check. */
  checkData?: string;
  checkN?: number;
}

export interface ExportResult {
  out: string;
  onnx_bytes: number;
  verdict_token_ids: { APPROVE: number; FLAG: number };
  reference_cases?: number;
  seconds: number;
}

export interface PolicyRunSetup extends ResolvedPolicyInput {
  runId: string;
  workflowId: string;
  workDir: string;
  actor: string;
  /** The labelled decisions the run reads (given, or written by the generator). */
  decisionsPath: string;
  configs: { sft: { path: string; sha256: string }; dpo: { path: string; sha256: string } };
  codeCommit: string;
  /** The resolved judge config (input `judge`); absent or null: no judge stage. */
  judgeConfig?: PolicyJudgeConfig | null;
}

export interface RegisterPolicyVersionRequest {
  setup: PolicyRunSetup;
  format: 'hf' | 'onnx';
  /** The DPO output folder (hf) or the ONNX export folder (onnx). */
  dir: string;
  data: PreparedData;
  sft: { train: OumiTrainResult; metrics: PolicyMetrics };
  dpo: { train: OumiTrainResult; metrics: PolicyMetrics };
  /** hf version number the ONNX export was made from. */
  exportedFrom?: number;
  /**
   * Which stage's model is registered: `dpo` (default), or `sft` when DPO lowered the validation accuracy
   * (the DPO gate keeps the SFT model). The version's own metrics and threshold are that model's.
   */
  chosen?: 'sft' | 'dpo';
}

export interface RegisteredPolicyVersion {
  model: string;
  version: number;
  format: 'hf' | 'onnx';
  artifactUri: string;
  sha256: string;
  metrics: Record<string, number>;
}

export type TextPolicyStage =
  | 'starting'
  | 'preparing'
  | 'building-base'
  | 'sft'
  | 'evaluating-sft'
  | 'judging'
  | 'dpo'
  | 'evaluating-dpo'
  | 'registering'
  | 'exporting'
  | 'canary'
  | 'done'
  | 'failed';

export interface EvaluationBrief {
  accuracy: number;
  fpr: number | null;
  fnr: number | null;
  overrideRate: number;
  passed: boolean;
}

export interface TextPolicyProgress {
  runId: string | null;
  model: string | null;
  stage: TextPolicyStage;
  /** The trainer's latest report (stage `sft` or `dpo`), from the activity's signals. */
  trainer: StageProgress | null;
  evaluations: { sft: EvaluationBrief | null; dpo: EvaluationBrief | null };
  elapsedMs: number;
  result: TextPolicyTrainingResult | null;
}

export interface TextPolicyTrainingResult {
  runId: string;
  workflowId: string;
  model: string;
  hf: RegisteredPolicyVersion;
  onnx: RegisteredPolicyVersion;
  sft: { steps: number; loss: number | null; seconds: number; metrics: EvaluationBrief };
  dpo: { steps: number; loss: number | null; seconds: number; metrics: EvaluationBrief };
  workDir: string;
  /** Seed 003's targets on the eval set as the canary's gate (absent in runs from before the gate). */
  offlineGates?: { passed: boolean; reasons: string[] };
  /** The canary started although the targets were missed (input `force`). */
  forced?: boolean;
  /**
   * Runs with a calibrated threshold: which stage's model was registered (`sft` when DPO lowered the
   * validation accuracy), its threshold (chosen on the validation split) and its metrics on the
   * adjudicated eval set, which the targets gate on.
   */
  chosen?: 'sft' | 'dpo';
  threshold?: number;
  adjudicated?: EvaluationBrief;
  /** The DPO stage trained on pairs mined from SFT's errors (null: on every pair, too few errors). */
  mined?: MinedPairsResult;
  /** The judge stage (input `judge`): its pairs and agreement, recorded as `judge` evaluations of both versions. */
  judge?: JudgeCandidatesResult;
  canary: { workflowId: string; started: boolean; error?: string } | null;
  elapsedMs: number;
}

export const progressQuery = defineQuery<TextPolicyProgress>('progress');

/** Sent by the `policyTrain` activity (TRAINER_PROGRESS_SIGNAL). */
export const trainerProgressSignal = defineSignal<[StageProgress]>(TRAINER_PROGRESS_SIGNAL);

/** The Oumi and Python steps textPolicyTraining calls (task queue `oumi`). */
export interface OumiActivities {
  generatePolicyDecisions(request: SyntheticDecisionsRequest): Promise<SyntheticDecisionsResult>;
  preparePolicyData(request: PrepareRequest): Promise<PreparedData>;
  /** DPO pairs mined from the SFT model's errors and near-misses on its training split (ml/policy-data/mining.ts). */
  minePolicyPairs(request: MinePairsRequest): Promise<MinedPairsResult>;
  buildTinyPolicyModel(request: TinyModelRequest): Promise<TinyModelResult>;
  oumiTrain(request: OumiTrainRequest): Promise<OumiTrainResult>;
  evaluatePolicy(request: EvaluateRequest): Promise<PolicyMetrics>;
  exportPolicyOnnx(request: ExportRequest): Promise<ExportResult>;
  /** Uploads a model directory (checkpoints excluded) under `prefix`; the manifest is written last. */
  uploadPolicyModel(request: { dir: string; prefix: string }): Promise<{ uri: string; sha256: string; size: number; files: number }>;
}

/** The LLM-as-judge activities (task queue `oumi`; activities/oumi/judge.ts). */
export interface PolicyJudgeActivities {
  /** Scores the SFT model's answers and the alternatives with Oumi's rubric judge; pairs above the margin join the DPO pairs. */
  judgePolicyCandidates(request: JudgeCandidatesRequest): Promise<JudgeCandidatesResult>;
  /** The judge's agreement as a `judge` evaluation of each version (pass: label agreement ≥ minAgreement). */
  recordPolicyJudgeEvaluation(args: { model: string; versions: number[]; runId: string; actor: string; judge: JudgeCandidatesResult; minAgreement: number }): Promise<void>;
}

/** The run's own activities textPolicyTraining calls (task queue `oumi`). */
export interface PolicyRunActivities extends PolicyJudgeActivities {
  startPolicyRun(args: { input: TextPolicyTrainingInput; runId: string; workflowId: string }): Promise<PolicyRunSetup>;
  policyTrain(request: OumiTrainRequest & { progressIntervalMs?: number }): Promise<OumiTrainResult>;
  registerPolicyVersion(request: RegisterPolicyVersionRequest): Promise<RegisteredPolicyVersion>;
  finishPolicyRun(args: { runId: string; status: 'succeeded' | 'failed' | 'cancelled'; summary?: object; error?: string }): Promise<void>;
  /**
   * The targets' verdict on the registered versions: missed → each version `rejected` with the reasons
   * (audited); missed but forced → they stay `registered` and an audit row `canary.forced` names the served (ONNX) version.
   */
  recordPolicyGateVerdict(args: { model: string; versions: number[]; servedVersion: number; reasons: string[]; forced: boolean; actor: string; runId: string }): Promise<void>;
}
