/**
 * Fakes of every activity textPolicyTraining calls, typed by its contract: fast, no Oumi, no
 * database. `calls` records them in order. For tests of the workflow's orchestration only.
 */
import type { FileSummary, OumiActivities, PolicyJudgeConfig, PolicyMetrics, PolicyRunActivities, PolicyRunSetup } from '../../contracts/text-policy-training';

const file = (path: string): FileSummary => ({ path, records: 1, sha256: '0'.repeat(64) });

const metrics: PolicyMetrics = {
  n: 10,
  accuracy: 0.9,
  fpr: 0.1,
  fnr: 0.1,
  override_rate: 0.05,
  approve_rate: 0.5,
  mean_p_approve: 0.5,
  confusion: { tp: 5, fp: 0, tn: 4, fn: 1 },
  gates: {
    accuracy: { value: 0.9, target: '> 0.9', passed: false },
    fpr: { value: 0.1, target: '< 0.1', passed: false },
    fnr: { value: 0.1, target: '< 0.2', passed: true },
    override_rate: { value: 0.05, target: '< 0.1', passed: true },
  },
  passed: false,
  threshold: 0.5,
  seconds: 0.1,
};

/** What the fake evaluation answers per stage: the noisy eval metrics, the adjudicated ones and the validation accuracy/threshold. */
export interface FakeEvaluation {
  noisy?: PolicyMetrics;
  adjudicated?: PolicyMetrics;
  valAccuracy?: number;
  threshold?: number;
}

/** Metrics whose gates are computed from the four figures, as python/evaluate_policy.py does. */
export function fakeMetrics(accuracy: number, fpr: number, fnr: number, overrideRate: number): PolicyMetrics {
  const gates = {
    accuracy: { value: accuracy, target: '> 0.9', passed: accuracy > 0.9 },
    fpr: { value: fpr, target: '< 0.05', passed: fpr < 0.05 },
    fnr: { value: fnr, target: '< 0.02', passed: fnr < 0.02 },
    override_rate: { value: overrideRate, target: '< 0.1', passed: overrideRate < 0.1 },
  };
  return { ...metrics, accuracy, fpr, fnr, override_rate: overrideRate, gates, passed: Object.values(gates).every((g) => g.passed) };
}

/** A resolved judge config as startPolicyRun returns it for an input with `judge`. */
export function fakeJudgeConfig(margin: number): PolicyJudgeConfig {
  return {
    config: { path: 'configs/oumi/policy_rl.yaml', sha256: '0'.repeat(64) }, engine: 'remote', endpoint: 'http://judge.test/v1/chat/completions', model: 'judge-model', apiKeyEnv: null,
    criteria: [], aggregation: 'weighted_mean', responseFormat: 'json', systemInstruction: 's', promptTemplate: '{request} {response}',
    margin, maxItems: 100, variantCandidates: 6, variants: 3, maxFeedback: 10, minAgreement: 0.8, numWorkers: 1, maxNewTokens: 64, temperature: 0,
  };
}

export function fakeTextPolicyActivities(calls: string[], evaluation: { sft?: FakeEvaluation; dpo?: FakeEvaluation } = {}): OumiActivities & PolicyRunActivities {
  const log = (name: string) => calls.push(name);
  let version = 0;
  return {
    async recordPolicyGateVerdict(args) {
      log(`recordPolicyGateVerdict:${args.versions.join(',')}:${args.forced ? 'forced' : 'refused'}`);
    },
    async startPolicyRun(args): Promise<PolicyRunSetup> {
      log('startPolicyRun');
      return {
        runId: args.runId,
        workflowId: args.workflowId,
        model: args.input.model ?? 'action-policy',
        data: { path: '/data/labeled_decisions.jsonl' },
        evalFraction: 0.2,
        splitSeed: 0,
        sftConfig: 'configs/oumi/policy_sft.yaml',
        dpoConfig: 'configs/oumi/policy_dpo.yaml',
        sftSteps: null,
        dpoSteps: null,
        sftOverrides: {},
        dpoOverrides: {},
        baseModel: '/models/base',
        tinyModelSeed: 7,
        workDir: '/work/run',
        startCanary: args.input.startCanary === true,
        force: args.input.force === true,
        actor: 'test',
        progressIntervalSeconds: 5,
        decisionsPath: '/data/labeled_decisions.jsonl',
        configs: { sft: { path: 'sft.yaml', sha256: 'a' }, dpo: { path: 'dpo.yaml', sha256: 'b' } },
        codeCommit: 'unknown',
        ...(args.input.judge ? { judgeConfig: fakeJudgeConfig(args.input.judge.margin ?? 0.5) } : {}),
      };
    },
    async judgePolicyCandidates(request) {
      log(`judgePolicyCandidates:${request.basePairsPath.split('/').pop()}:${request.threshold}`);
      const agreement = { n: 40, decided: 36, agree: 34, agreement: 34 / 36, kappa: 0.88 };
      return {
        judgeModel: request.judge.model, endpoint: request.judge.endpoint, config: request.judge.config,
        path: `${request.outDir}/dpo_judged.jsonl`, records: 52, sha256: '0'.repeat(64), scoresPath: `${request.outDir}/judge_scores.jsonl`, judgePairsPath: `${request.outDir}/judge_pairs.jsonl`,
        judged: 40, scored: 80, failed: 0, pairs: 36, belowMargin: 4, added: 14, conflicts: 1, sftPreferred: 20, variantsJudged: 0, variantPairs: 0,
        meanScore: { sft: 0.6, alternative: 0.4 }, criteria: {}, labels: agreement, feedback: { n: 0, decided: 0, agree: 0, agreement: null, kappa: null }, margin: request.judge.margin, seconds: 1,
      };
    },
    async recordPolicyJudgeEvaluation(args) {
      log(`recordPolicyJudgeEvaluation:${args.versions.join(',')}`);
    },
    async generatePolicyDecisions(request) {
      log('generatePolicyDecisions');
      return { ...file(request.path), goodRate: 0.5 };
    },
    async preparePolicyData(request) {
      log('preparePolicyData');
      const f = file(request.outDir);
      const val = (request.valFraction ?? 0) > 0 ? { sftVal: file(`${request.outDir}/sft_val.jsonl`), valFraction: request.valFraction } : {};
      return {
        outDir: request.outDir, manifestPath: `${request.outDir}/manifest.json`, train: f, eval: f, sftTrain: f, sftEval: f, dpoTrain: f, dpoEval: f, source: f, evalFraction: 0.2, seed: 0,
        ...val, sftEvalAdjudicated: { ...file(`${request.outDir}/sft_eval_adjudicated.jsonl`), relabelled: 0 },
      };
    },
    async minePolicyPairs(request) {
      log('minePolicyPairs');
      return { path: request.outPath, records: 40, sha256: '0'.repeat(64), errors: 12, marginal: 8, easy: 20 };
    },
    async buildTinyPolicyModel(request) {
      log('buildTinyPolicyModel');
      return { out: request.outDir, parameters: 1, vocab_size: 1, verdict_token_ids: { APPROVE: 0, FLAG: 1 } };
    },
    async oumiTrain(request) {
      log('oumiTrain');
      return { stage: request.stage, outputDir: request.outputDir, progress: { step: 1, totalSteps: 1, loss: 0.5, epoch: 1 }, resumedFrom: null, durationMs: 1 };
    },
    async policyTrain(request) {
      log(`policyTrain:${request.stage}:${request.dataPath.split('/').pop()}`);
      return { stage: request.stage, outputDir: request.outputDir, progress: { step: 1, totalSteps: 1, loss: 0.5, epoch: 1 }, resumedFrom: null, durationMs: 1 };
    },
    async evaluatePolicy(request) {
      const stage = request.modelDir.endsWith('sft') ? 'sft' : 'dpo';
      log(`evaluatePolicy:${stage}${request.calibratePath ? ':calibrated' : request.predictionsPath ? ':predictions' : ''}`);
      const e = evaluation[stage] ?? {};
      const noisy = e.noisy ?? metrics;
      if (request.calibratePath === undefined) return noisy;
      const threshold = e.threshold ?? 0.5;
      const adjudicated = e.adjudicated ?? noisy;
      return {
        ...noisy,
        threshold,
        calibration: { data: request.calibratePath, n: 10, fnr_bound: 0.02, threshold, accuracy: e.valAccuracy ?? noisy.accuracy, fpr: noisy.fpr, fnr: noisy.fnr, override_rate: noisy.override_rate },
        ...(request.adjudicatedPath ? { adjudicated: { n: adjudicated.n, accuracy: adjudicated.accuracy, fpr: adjudicated.fpr, fnr: adjudicated.fnr, override_rate: adjudicated.override_rate, approve_rate: adjudicated.approve_rate, confusion: adjudicated.confusion, gates: adjudicated.gates, passed: adjudicated.passed, data: request.adjudicatedPath, relabelled: 0 } } : {}),
      };
    },
    async exportPolicyOnnx(request) {
      log(`exportPolicyOnnx:${request.modelDir.split('/').pop()}`);
      return { out: request.outDir, onnx_bytes: 1, verdict_token_ids: { APPROVE: 0, FLAG: 1 }, seconds: 0.1 };
    },
    async uploadPolicyModel() {
      log('uploadPolicyModel');
      return { uri: 'file:///x', sha256: 'a', size: 1, files: 1 };
    },
    async registerPolicyVersion(request) {
      log(`registerPolicyVersion:${request.format}:${request.chosen ?? 'dpo'}:${request.dir.split('/').pop()}`);
      version++;
      return { model: request.setup.model, version, format: request.format, artifactUri: `file:///v${version}`, sha256: 'a', metrics: {} };
    },
    async finishPolicyRun(args) {
      log(`finishPolicyRun:${args.status}`);
    },
  };
}
