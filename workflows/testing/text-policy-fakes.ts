/**
 * Fakes of every activity textPolicyTraining calls, typed by its contract: fast, no Oumi, no
 * database. `calls` records them in order. For tests of the workflow's orchestration only.
 */
import type { FileSummary, OumiActivities, PolicyMetrics, PolicyRunActivities, PolicyRunSetup } from '../../contracts/text-policy-training';

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

export function fakeTextPolicyActivities(calls: string[]): OumiActivities & PolicyRunActivities {
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
      };
    },
    async generatePolicyDecisions(request) {
      log('generatePolicyDecisions');
      return { ...file(request.path), goodRate: 0.5 };
    },
    async preparePolicyData(request) {
      log('preparePolicyData');
      const f = file(request.outDir);
      return { outDir: request.outDir, manifestPath: `${request.outDir}/manifest.json`, train: f, eval: f, sftTrain: f, sftEval: f, dpoTrain: f, dpoEval: f, source: f, evalFraction: 0.2, seed: 0 };
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
      log(`policyTrain:${request.stage}`);
      return { stage: request.stage, outputDir: request.outputDir, progress: { step: 1, totalSteps: 1, loss: 0.5, epoch: 1 }, resumedFrom: null, durationMs: 1 };
    },
    async evaluatePolicy() {
      log('evaluatePolicy');
      return metrics;
    },
    async exportPolicyOnnx(request) {
      log('exportPolicyOnnx');
      return { out: request.outDir, onnx_bytes: 1, verdict_token_ids: { APPROVE: 0, FLAG: 1 }, seconds: 0.1 };
    },
    async uploadPolicyModel() {
      log('uploadPolicyModel');
      return { uri: 'file:///x', sha256: 'a', size: 1, files: 1 };
    },
    async registerPolicyVersion(request) {
      log(`registerPolicyVersion:${request.format}`);
      version++;
      return { model: request.setup.model, version, format: request.format, artifactUri: `file:///v${version}`, sha256: 'a', metrics: {} };
    },
    async finishPolicyRun(args) {
      log(`finishPolicyRun:${args.status}`);
    },
  };
}
