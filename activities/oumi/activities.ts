/**
 * The Oumi policy-model activities (task queue `oumi`, so they can be placed on GPU machines):
 * data preparation, the tiny base model, `oumi train` for SFT and DPO with heartbeats, evaluation,
 * ONNX export and the upload of a model directory to the artifact store.
 *
 * `oumiTrain` heartbeats `{ stage, step, totalSteps, loss, epoch }` as the trainer logs; Temporal's
 * cancellation kills the Oumi process group; a retried attempt resumes from the latest checkpoint.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { listDirectoryFiles, uploadDirectory } from '../../registry/directory-artifact';
import { preparePolicyData, writeSyntheticDecisions, type PrepareRequest, type SyntheticDecisionsRequest } from './data/prepare';
import { buildTinyModel, evaluatePolicyModel, exportPolicyOnnx, type EvaluateRequest, type ExportRequest, type TinyModelRequest } from './policy';
import type { Overrides } from './process';
import type { OumiProgress } from './progress';
import { trainStage } from './train-stage';

export interface OumiActivityDeps {
  /** Repository root: configs/oumi, python/ and .venv-oumi/ are found from here. Default: cwd. */
  root?: string;
  store?: ArtifactStore;
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

export interface StageProgress extends OumiProgress {
  stage: string;
}

export function createOumiActivities(deps: OumiActivityDeps = {}) {
  const root = deps.root ?? process.cwd();
  const python = { root };
  const signal = (): AbortSignal => cancellationSignal();
  return {
    async generatePolicyDecisions(request: SyntheticDecisionsRequest) {
      return writeSyntheticDecisions(request);
    },

    async preparePolicyData(request: PrepareRequest) {
      return preparePolicyData(request);
    },

    async buildTinyPolicyModel(request: TinyModelRequest) {
      return buildTinyModel(request, { ...python, signal: signal() });
    },

    async oumiTrain(request: OumiTrainRequest): Promise<OumiTrainResult> {
      let latest: unknown = null;
      const alive = startLivenessHeartbeat(() => latest ?? { stage: request.stage, step: 0 });
      try {
        return await trainStage(request, {
          root,
          resume: activityInfo().attempt > 1,
          signal: signal(),
          onProgress: (progress) => {
            latest = progress;
            heartbeat(progress);
          },
        });
      } finally {
        alive.stop();
      }
    },

    async evaluatePolicy(request: EvaluateRequest) {
      return evaluatePolicyModel(request, { ...python, signal: signal() });
    },

    async exportPolicyOnnx(request: ExportRequest) {
      return exportPolicyOnnx(request, { ...python, signal: signal() });
    },

    /** Uploads a model directory (checkpoints excluded) under `prefix`; the manifest is written last. */
    async uploadPolicyModel(request: { dir: string; prefix: string }) {
      if (!deps.store) throw new Error('uploadPolicyModel: this worker has no artifact store');
      const files = (await listDirectoryFiles(request.dir)).filter((f) => !/^checkpoint-\d+\//.test(f) && !f.startsWith('logs/') && !f.startsWith('telemetry/'));
      const uploaded: string[] = [];
      const { manifest, size } = await uploadDirectory(deps.store, request.prefix, request.dir, files, uploaded);
      return { uri: manifest.uri, sha256: manifest.sha256, size, files: files.length };
    },
  };
}

export type OumiActivities = ReturnType<typeof createOumiActivities>;

/**
 * Heartbeats `details()` on a timer (a third of the activity's heartbeat timeout, at most every 5 s)
 * until `stop()`: a long child process that is silent for a while still shows it is alive.
 */
export function startLivenessHeartbeat(details: () => unknown): { stop(): void } {
  const timeoutMs = activityInfo().heartbeatTimeoutMs ?? 0;
  if (!timeoutMs) return { stop() {} };
  const timer = setInterval(() => heartbeat(details()), Math.max(500, Math.min(5000, Math.floor(timeoutMs / 3))));
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
