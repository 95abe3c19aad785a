/**
 * The Oumi policy-model activities (task queue `oumi`, so they can be placed on GPU machines):
 * data preparation, the tiny base model, `oumi train` for SFT and DPO with heartbeats, evaluation,
 * ONNX export and the upload of a model directory to the artifact store.
 *
 * `oumiTrain` heartbeats `{ stage, step, totalSteps, loss, epoch }` as the trainer logs; Temporal's
 * cancellation kills the Oumi process group; a retried attempt resumes from the latest checkpoint.
 */
import { activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type {
  EvaluateRequest,
  ExportRequest,
  OumiActivities,
  OumiTrainRequest,
  OumiTrainResult,
  MinePairsRequest,
  PrepareRequest,
  SyntheticDecisionsRequest,
  TinyModelRequest,
} from '../../contracts/text-policy-training';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { listDirectoryFiles, uploadDirectory } from '../../registry/directory-artifact';
import { minePolicyPairs, preparePolicyData, writeSyntheticDecisions } from './data/prepare';
import { DEFAULT_STARTUP_GRACE_MS, startProgressHeartbeat } from './liveness';
import { buildTinyModel, evaluatePolicyModel, exportPolicyOnnx } from './policy';
import { trainStage } from './train-stage';

export interface OumiActivityDeps {
  /** Repository root: configs/oumi, python/ and .venv-oumi/ are found from here. Default: cwd. */
  root?: string;
  store?: ArtifactStore;
  /** How long a trainer may print nothing after it starts before its heartbeats stop. Default 10 min. */
  startupGraceMs?: number;
}

export function createOumiActivities(deps: OumiActivityDeps = {}): OumiActivities {
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

    async minePolicyPairs(request: MinePairsRequest) {
      return minePolicyPairs(request);
    },

    async buildTinyPolicyModel(request: TinyModelRequest) {
      return buildTinyModel(request, { ...python, signal: signal() });
    },

    async oumiTrain(request: OumiTrainRequest): Promise<OumiTrainResult> {
      let latest: unknown = null;
      const alive = startProgressHeartbeat(() => latest ?? { stage: request.stage, step: 0 }, deps.startupGraceMs ?? DEFAULT_STARTUP_GRACE_MS);
      try {
        return await trainStage(request, {
          root,
          resume: activityInfo().attempt > 1,
          signal: signal(),
          onProgress: (progress) => {
            latest = progress;
            alive.progressed();
            heartbeat(progress);
          },
          onOutput: () => alive.progressed(),
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
