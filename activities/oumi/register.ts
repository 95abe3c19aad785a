/**
 * The `textPolicyTraining` workflow's own activities (task queue `oumi`), beside the Oumi activities of
 * activities.ts:
 *
 *   startPolicyRun         validate the input, hash both configs, record the run (kind `policy`)
 *   policyTrain            `oumi train` for one stage: heartbeats, plus a throttled `trainerProgress`
 *                          signal to its own workflow so the `progress` query shows step/total/loss
 *   registerPolicyVersion  the HF folder (format `hf`) or the ONNX export (format `onnx`, text-policy
 *                          signature) as a registry version with both evaluations, gates and lineage
 *   finishPolicyRun        mark the run succeeded / failed / cancelled
 *
 * The run's files live in `workDir` on the oumi worker's disk: one run's activities must see the same
 * disk (one oumi worker, or a shared volume). Registration uploads everything the registry keeps.
 */
import { activityInfo, cancellationSignal, Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { cp, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Pool } from 'pg';
import { projectRoot } from '../../config/settings';
import { textPolicySignature } from '../../ml/policy-data/signature';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { Registry } from '../../registry/index';
import type { Json, Signature } from '../../registry/types';
import {
  TRAINER_PROGRESS_SIGNAL,
  TEXT_POLICY_DEFAULTS,
  type OumiTrainRequest,
  type PolicyJudgeConfig,
  type OumiTrainResult,
  type PolicyMetrics,
  type PolicyRunActivities,
  type PolicyRunSetup,
  type RegisteredPolicyVersion,
  type RegisterPolicyVersionRequest,
  type ResolvedPolicyInput,
  type StageProgress,
  type TextPolicyTrainingInput,
} from '../../contracts/text-policy-training';
import { codeCommit } from '../code-commit';
import { activityRegistrationKey } from '../registration-key';
import { parsePolicyTrainingInput } from './input';
import { createPolicyJudgeActivities } from './judge';
import { resolveJudgeConfig } from './judge-config';
import { DEFAULT_STARTUP_GRACE_MS, startProgressHeartbeat } from './liveness';
import { recordFailedGates } from '../gate-verdict';
import { trainStage } from './train-stage';

export interface PolicyRunDeps {
  pool: Pool;
  store: ArtifactStore;
  /** Repository root (configs/oumi, python/, .venv-oumi/). Default: the project root. */
  root?: string;
  /** Default parent of run work directories (`<dataDir>/oumi/runs/<runId>`). */
  dataDir?: string;
  /** How long a trainer may print nothing after it starts before its heartbeats stop. Default 10 min. */
  startupGraceMs?: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Bad input will not get better on retry. */
function invalid(err: unknown): never {
  throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidTextPolicyTrainingInput');
}

/** The metrics of one evaluation, prefixed by its stage (`sft_accuracy`, `dpo_fpr`, …). */
export function evaluationMetrics(prefix: string, m: PolicyMetrics): Record<string, number> {
  const out: Record<string, number> = {
    [`${prefix}_n`]: m.n,
    [`${prefix}_accuracy`]: m.accuracy,
    [`${prefix}_override_rate`]: m.override_rate,
    [`${prefix}_approve_rate`]: m.approve_rate,
    [`${prefix}_tp`]: m.confusion.tp,
    [`${prefix}_fp`]: m.confusion.fp,
    [`${prefix}_tn`]: m.confusion.tn,
    [`${prefix}_fn`]: m.confusion.fn,
    [`${prefix}_gates_passed`]: m.passed ? 1 : 0,
  };
  if (m.fpr !== null) out[`${prefix}_fpr`] = m.fpr;
  if (m.fnr !== null) out[`${prefix}_fnr`] = m.fnr;
  for (const [name, gate] of Object.entries(m.gates)) out[`${prefix}_gate_${name}_passed`] = gate.passed ? 1 : 0;
  return out;
}

/** Files of a trainer's output folder that make up the model (no checkpoints, logs or telemetry). */
function isModelFile(rel: string): boolean {
  const top = rel.split(path.sep)[0];
  return !/^checkpoint-\d+$/.test(top) && top !== 'logs' && top !== 'telemetry' && top !== 'runs';
}

export function createPolicyRunActivities(deps: PolicyRunDeps): PolicyRunActivities {
  const root = deps.root ?? projectRoot;
  const dataDir = deps.dataDir ?? path.join(root, '.data');
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  // The LLM-as-judge stage's activities (judge.ts) come with the run's: they need the same database.
  const judge = createPolicyJudgeActivities({ pool: deps.pool, store: deps.store, root });

  async function mustExist(file: string, field: string, what: string): Promise<void> {
    const st = await stat(file).catch(() => null);
    if (!st) invalid(new Error(`textPolicyTraining input: ${field} = ${JSON.stringify(file)}; expected ${what} (not found)`));
  }

  return {
    ...judge,

    async startPolicyRun(args: { input: TextPolicyTrainingInput; runId: string; workflowId: string }): Promise<PolicyRunSetup> {
      let input: ResolvedPolicyInput;
      try {
        input = parsePolicyTrainingInput(args.input);
      } catch (err) {
        invalid(err);
      }
      const sftPath = path.resolve(root, input.sftConfig);
      const dpoPath = path.resolve(root, input.dpoConfig);
      await mustExist(sftPath, 'sftConfig', 'an Oumi SFT config file');
      await mustExist(dpoPath, 'dpoConfig', 'an Oumi DPO config file');
      if ('path' in input.data) await mustExist(path.resolve(root, input.data.path), 'data', 'a labeled_decisions.jsonl file');
      if (input.baseModel) await mustExist(path.resolve(root, input.baseModel), 'baseModel', 'a Hugging Face model folder');
      // The judge config (input `judge`): its `llm_judge` block with the input's overrides; a disabled block means no judge stage.
      let judgeConfig: PolicyJudgeConfig | null = null;
      if (input.judge) {
        const judgeFile = input.judge.config ?? TEXT_POLICY_DEFAULTS.judgeConfig;
        await mustExist(path.resolve(root, judgeFile), 'judge.config', 'a YAML file with an llm_judge block');
        try {
          judgeConfig = resolveJudgeConfig(await readFile(path.resolve(root, judgeFile), 'utf8'), judgeFile, input.judge);
          if (judgeConfig?.pool?.source === 'generated' && !('generate' in input.data)) {
            throw new Error(
              `${judgeFile}: llm_judge.pool.source is generated, but this run trains on a file (data.path ${input.data.path}), not on generated data; ` +
                'set pool.source to served (the model\'s served decisions) or none there, or give judge.poolSize 0',
            );
          }
        } catch (err) {
          invalid(err);
        }
      }
      const workDir = path.resolve(root, input.workDir ?? path.join(dataDir, 'oumi', 'runs', args.runId));
      const setup: PolicyRunSetup = {
        ...input,
        baseModel: input.baseModel ? path.resolve(root, input.baseModel) : null,
        runId: args.runId,
        workflowId: args.workflowId,
        workDir,
        actor: input.actor ?? `workflow:${args.workflowId}`,
        decisionsPath: 'path' in input.data ? path.resolve(root, input.data.path) : path.join(workDir, 'labeled_decisions.jsonl'),
        configs: {
          sft: { path: input.sftConfig, sha256: sha256(await readFile(sftPath, 'utf8')) },
          dpo: { path: input.dpoConfig, sha256: sha256(await readFile(dpoPath, 'utf8')) },
        },
        codeCommit: codeCommit(root),
        ...(input.judge ? { judgeConfig } : {}),
      };
      await registry.recordRun({
        id: args.runId,
        kind: 'policy',
        model: input.model,
        workflowId: args.workflowId,
        config: JSON.parse(JSON.stringify({ input: args.input ?? {}, resolved: setup })) as { [k: string]: Json },
      });
      return setup;
    },

    /**
     * `oumi train` for one stage. Heartbeats every progress line; at most every `progressIntervalMs`
     * (and once at the end) it also signals `trainerProgress` to its own workflow with the worker's
     * client, so the workflow's `progress` query can show the trainer's step and loss. A lost signal
     * only delays the display: it never fails the training.
     */
    async policyTrain(request: OumiTrainRequest & { progressIntervalMs?: number }): Promise<OumiTrainResult> {
      const info = activityInfo();
      const context = Context.current();
      const interval = request.progressIntervalMs ?? 5000;
      let lastSent = 0;
      let latest: StageProgress | null = null;
      let sending: Promise<void> = Promise.resolve();
      const send = (p: StageProgress): void => {
        sending = sending.then(async () => {
          try {
            const execution = info.workflowExecution;
            if (!execution) return;
            await context.client.workflow.getHandle(execution.workflowId, execution.runId).signal(TRAINER_PROGRESS_SIGNAL, p);
          } catch {
            // the workflow may be closing, or the client unreachable: the heartbeat still carries it
          }
        });
      };
      // Heartbeats follow the trainer's output (lines, steps), with a grace for its silent start-up
      // (Python importing torch and TRL): a hung trainer stops them and the heartbeat timeout retries it.
      const alive = startProgressHeartbeat(() => latest ?? { stage: request.stage, step: 0 }, deps.startupGraceMs ?? DEFAULT_STARTUP_GRACE_MS);
      let result: OumiTrainResult;
      try {
        result = await trainStage(request, {
          root,
          resume: info.attempt > 1,
          signal: cancellationSignal(),
          onProgress: (progress) => {
            latest = progress;
            alive.progressed();
            heartbeat(latest);
            const now = Date.now();
            if (now - lastSent >= interval) {
              lastSent = now;
              send(latest);
            }
          },
          onOutput: () => alive.progressed(),
        });
      } finally {
        alive.stop();
      }
      send({ stage: request.stage, ...result.progress });
      await sending;
      return result;
    },

    async registerPolicyVersion(request: RegisterPolicyVersionRequest): Promise<RegisteredPolicyVersion> {
      const { setup, format, data, sft, dpo } = request;
      // The registered model: DPO's, or SFT's when the DPO gate kept it; its metrics and threshold are the version's own.
      const chosen = request.chosen ?? 'dpo';
      const own = chosen === 'sft' ? sft.metrics : dpo.metrics;
      // A retried registration finds the version it already made by its run and format tags.
      const existing = await registry.searchVersions({ model: setup.model, tags: { run_id: setup.runId, artifact: format }, limit: 1 });
      if (existing.length > 0) {
        const v = existing[0];
        return { model: v.model, version: v.version, format, artifactUri: v.artifactUri, sha256: v.sha256, metrics: v.metrics };
      }
      let dir = request.dir;
      if (format === 'hf') {
        // The model only: the trainer's checkpoints and logs stay on the worker.
        dir = path.join(setup.workDir, 'hf-artifact');
        await rm(dir, { recursive: true, force: true });
        await cp(request.dir, dir, { recursive: true, filter: (src) => isModelFile(path.relative(request.dir, src)) });
      }
      let signature: Signature = { kind: 'causal-lm', tokenizer: 'tokenizer.json', chatTemplate: 'chatml' };
      if (format === 'onnx') {
        const policy = JSON.parse(await readFile(path.join(dir, 'policy.json'), 'utf8')) as Parameters<typeof textPolicySignature>[0];
        signature = JSON.parse(JSON.stringify(textPolicySignature(policy, own.threshold))) as Signature;
      }
      const metrics: Record<string, number> = {
        ...evaluationMetrics('sft', sft.metrics),
        ...evaluationMetrics('dpo', dpo.metrics),
        // The version's own figures: those of the model registered (the DPO model unless the DPO gate kept SFT).
        accuracy: own.accuracy,
        override_rate: own.override_rate,
        gates_passed: (own.adjudicated ?? own).passed ? 1 : 0,
        threshold: own.threshold,
        sft_steps: sft.train.progress.step,
        dpo_steps: dpo.train.progress.step,
        sft_seconds: sft.train.durationMs / 1000,
        dpo_seconds: dpo.train.durationMs / 1000,
        train_records: data.train.records,
        eval_records: data.eval.records,
      };
      if (own.fpr !== null) metrics.fpr = own.fpr;
      if (own.fnr !== null) metrics.fnr = own.fnr;
      if (own.adjudicated) Object.assign(metrics, evaluationMetrics('adjudicated', { ...own, ...own.adjudicated }), { adjudicated_relabelled: own.adjudicated.relabelled });
      if (own.calibration) {
        metrics.val_accuracy = own.calibration.accuracy;
        if (own.calibration.fnr !== null) metrics.val_fnr = own.calibration.fnr;
        if (own.calibration.fpr !== null) metrics.val_fpr = own.calibration.fpr;
        metrics.val_n = own.calibration.n;
      }
      if (sft.train.progress.loss !== null) metrics.sft_final_loss = sft.train.progress.loss;
      if (dpo.train.progress.loss !== null) metrics.dpo_final_loss = dpo.train.progress.loss;
      const gates = Object.entries((own.adjudicated ?? own).gates).map(([name, g]) => `${name} ${g.target}: ${g.passed ? 'pass' : 'fail'}`).join('; ');
      const configHash = `sha256:${sha256(`${setup.configs.sft.sha256}\n${setup.configs.dpo.sha256}`)}`;
      const version = await registry.registerVersion({
        model: setup.model,
        artifact: { path: dir },
        format,
        signature,
        metrics,
        tags: {
          run_id: setup.runId,
          run_kind: 'policy',
          artifact: format,
          sft_config: setup.configs.sft.path,
          sft_config_sha256: setup.configs.sft.sha256,
          dpo_config: setup.configs.dpo.path,
          dpo_config_sha256: setup.configs.dpo.sha256,
          base_model: setup.baseModel ?? 'tiny (python/build_tiny_model.py)',
          gates: gates.slice(0, 1000),
          chosen_stage: chosen,
          gated_on: own.adjudicated ? 'adjudicated eval set' : 'eval set',
          ...(request.exportedFrom !== undefined ? { exported_from_version: String(request.exportedFrom) } : {}),
          // The LLM judge whose pairs DPO trained on (its agreement is the version's `judge` evaluation).
          ...(setup.judgeConfig ? { judge_config: setup.judgeConfig.config.path, judge_config_sha256: setup.judgeConfig.config.sha256, judge_model: setup.judgeConfig.model.slice(0, 200) } : {}),
        },
        lineage: {
          runId: setup.runId,
          workflowId: setup.workflowId,
          configHash,
          datasetManifest: JSON.parse(JSON.stringify({ ...data, configs: setup.configs })) as Json,
          codeCommit: setup.codeCommit,
        },
        description:
          `${format === 'onnx' ? 'ONNX export of the ' : ''}SFT→DPO action-approval policy, ${sft.train.progress.step} SFT + ${dpo.train.progress.step} DPO steps; ` +
          `eval accuracy ${own.accuracy.toFixed(3)} (after SFT ${sft.metrics.accuracy.toFixed(3)}, after DPO ${dpo.metrics.accuracy.toFixed(3)}; ${chosen.toUpperCase()} model registered), threshold ${own.threshold.toFixed(4)}, gates ${(own.adjudicated ?? own).passed ? 'passed' : 'not passed'}${own.adjudicated ? ' on the adjudicated eval set' : ''}`,
        createModel: true,
        // One version per run and format even when attempts overlap (the search above is only a shortcut).
        idempotencyKey: activityRegistrationKey(`registerPolicyVersion:${format}:${setup.runId}`),
        actor: setup.actor,
      });
      return { model: version.model, version: version.version, format, artifactUri: version.artifactUri, sha256: version.sha256, metrics: version.metrics };
    },

    async finishPolicyRun(args: { runId: string; status: 'succeeded' | 'failed' | 'cancelled'; summary?: object; error?: string }): Promise<void> {
      await registry.finishRun(args.runId, { status: args.status, summary: args.summary as Json | undefined, error: args.error });
    },

    async recordPolicyGateVerdict(args: { model: string; versions: number[]; servedVersion: number; reasons: string[]; forced: boolean; actor: string; runId: string }): Promise<void> {
      await recordFailedGates(registry, { ...args, what: 'seed-003 targets missed' });
    },
  };
}
