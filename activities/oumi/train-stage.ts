/**
 * One `oumi train` stage (SFT or DPO) from an `OumiTrainRequest`: the request's model, data, output
 * folder and step limit become config overrides, the trainer runs under `runOumi`, and each progress
 * line is passed on tagged with the stage. Shared by `oumiTrain` and the workflow's `policyTrain`.
 */
import path from 'node:path';
import type { OumiTrainRequest, OumiTrainResult, Overrides, StageProgress } from '../../contracts/text-policy-training';
import { runOumi } from './process';

export interface TrainStageOptions {
  /** Repository root: the config path is resolved from here and the trainer runs here. */
  root: string;
  /** Resume from the latest checkpoint in the output folder (a retried attempt). */
  resume: boolean;
  signal: AbortSignal;
  onProgress: (progress: StageProgress) => void;
  /** Any line the trainer printed (stdout or stderr): a sign of life for the progress heartbeat. */
  onOutput?: () => void;
}

export async function trainStage(request: OumiTrainRequest, opts: TrainStageOptions): Promise<OumiTrainResult> {
  const overrides: Overrides = {
    'model.model_name': request.modelPath,
    'data.train.datasets[0].dataset_path': request.dataPath,
    'training.output_dir': request.outputDir,
    ...(request.maxSteps !== undefined ? { 'training.max_steps': request.maxSteps } : {}),
    ...request.overrides,
  };
  const result = await runOumi({
    command: 'train',
    config: path.resolve(opts.root, request.config),
    cwd: opts.root,
    overrides,
    outputDir: request.outputDir,
    resume: opts.resume,
    signal: opts.signal,
    onProgress: (progress) => opts.onProgress({ stage: request.stage, ...progress }),
    onLog: opts.onOutput ? () => opts.onOutput?.() : undefined,
  });
  return { stage: request.stage, outputDir: request.outputDir, progress: result.progress, resumedFrom: result.resumedFrom, durationMs: result.durationMs };
}
