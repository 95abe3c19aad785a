/**
 * Activities of the `ppoTraining` workflow (`createPpoActivities(deps)`). Each does one side effect
 * and returns URIs and small summaries; weights, rollouts, evaluations and reports live in the
 * artifact store under deterministic keys (`checkpoint.ts`), so any activity can be repeated after a
 * worker dies and produces the same objects: rollouts and updates are seeded by (run seed, iteration,
 * env) through `runSeeds`, exactly as the in-process `trainPpo` derives them.
 *
 *   startRun           validate the input, store the effective config, record the run (kind `ppo`)
 *   initPolicy         policy + optimizer → checkpoint 0
 *   rollout            checkpoint n−1 → one env's rollout of iteration n (its own env seed)
 *   update             checkpoint n−1 + the iteration's rollouts → PPO update → checkpoint n; run_metrics
 *                      (PPO's, and the rollouts' latency, gate breaches and variant breakdown: `step-stats.ts`)
 *   evaluate           greedy policy vs the default static config and the best grid config, held-out seeds
 *   writeReport        summary CSV, configs CSV, SVG plots
 *   exportAndRegister  ONNX export + registry version with signature, lineage and metrics (once per run)
 *   finishRun          mark the run succeeded / failed / cancelled with its summary
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { projectRoot } from '../../config/settings';
import { codeCommit } from '../code-commit';
import { activityRegistrationKey } from '../registration-key';
import type { PolicyConfig } from '../../envs/config';
import { exportOnnx } from '../../ml/onnx/export';
import type { Environment } from '../../ml/rl/environment';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { actorCriticSpecFor } from '../../ml/rl/hyperparameters';
import { createPpoOptimizer, ppoUpdate, type PpoMetrics } from '../../ml/rl/ppo';
import { collectRollout, type RolloutBatch } from '../../ml/rl/rollout';
import { runSeeds } from '../../ml/rl/train';
import { Rng } from '../../ml/rng';
import type {
  EvaluationSettings,
  EvaluationSummary,
  IterationSummary,
  PpoActivities,
  PpoTrainingInput,
  RegisteredVersion,
  ReportUris,
  RolloutResult,
  RunSetup,
  TrainingOutcome,
} from '../../contracts/ppo-training';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { Registry } from '../../registry/index';
import type { Json, JsonObject, Signature } from '../../registry/types';
import { getJson, loadCheckpoint, loadRunConfig, putJson, runKeys, saveCheckpoint, saveRollout } from './checkpoint';
import { buildEnvironment, datasetManifest } from './environment';
import { evaluatePolicies, type PolicyEvaluation } from './evaluate';
import type { OfflineGateVerdict } from '../../canary/offline-gates';
import { recordFailedGates } from '../gate-verdict';
import { configHash, parsePpoTrainingInput, resolveEffectiveConfig } from './input';
import { pivotMetrics, writeReportFiles } from './report';
import { recordingStepStats, stepStatsMetrics, type RolloutStepStats } from './step-stats';

export interface PpoActivityDeps {
  pool: Pool;
  store: ArtifactStore;
  /** Where relative config and replay paths resolve (default: the project root). */
  root?: string;
}

/** A rollout as stored: the batch and its step statistics (absent in rollouts stored before they were kept). */
type StoredRollout = RolloutBatch & { stepStats?: RolloutStepStats };

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** An environment wrapper that heartbeats every `every` steps (rollouts and evaluations are long). */
function heartbeating(env: Environment, label: string, every = 64): Environment {
  let steps = 0;
  return {
    observationSize: env.observationSize,
    actionSpace: env.actionSpace,
    reset: (seed) => env.reset(seed),
    step: (action) => {
      if (++steps % every === 0) heartbeat({ label, steps });
      return env.step(action);
    },
  };
}

/** Bad input will not get better on retry: fail the workflow at once with the message. */
function invalid(err: unknown): never {
  throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidPpoTrainingInput');
}

export function createPpoActivities(deps: PpoActivityDeps): PpoActivities {
  const { store } = deps;
  const registry = new Registry({ pool: deps.pool, store });
  const root = deps.root ?? projectRoot;

  async function configOf(uri: string): Promise<PolicyConfig> {
    return loadRunConfig(store, uri);
  }

  return {
    async startRun(args: { input: PpoTrainingInput; runId: string; workflowId: string }): Promise<RunSetup> {
      let input, effective;
      try {
        input = parsePpoTrainingInput(args.input);
        effective = resolveEffectiveConfig(input, root);
      } catch (err) {
        invalid(err);
      }
      let manifest: JsonObject;
      try {
        manifest = datasetManifest(effective.config, effective.env);
      } catch (err) {
        invalid(err);
      }
      const configUri = await putJson(store, runKeys.config(args.runId), effective.config);
      const hash = configHash(effective.config);
      const commit = codeCommit(root);
      const setup: RunSetup = {
        runId: args.runId,
        workflowId: args.workflowId,
        model: input.model,
        env: effective.env,
        configUri,
        configHash: hash,
        configSource: effective.source,
        seed: effective.seed,
        iterations: effective.iterations,
        workers: effective.workers,
        continueAsNewEvery: input.continueAsNewEvery,
        startCanary: input.startCanary,
        gates: input.gates,
        force: input.force,
        evaluation: input.evaluation,
        codeCommit: commit,
        datasetManifest: manifest,
        actor: input.actor ?? `workflow:${args.workflowId}`,
      };
      await registry.recordRun({
        id: args.runId,
        kind: 'ppo',
        model: input.model,
        workflowId: args.workflowId,
        config: {
          policyConfig: effective.config as unknown as JsonObject,
          configSource: effective.source,
          configHash: hash,
          env: effective.env,
          seed: effective.seed,
          iterations: effective.iterations,
          workers: effective.workers,
          codeCommit: commit,
          datasetManifest: manifest,
        },
      });
      return setup;
    },

    async initPolicy(args: { runId: string; configUri: string; env: string }): Promise<{ checkpointUri: string; observationSize: number; parameters: number }> {
      const config = await configOf(args.configUri);
      const env = buildEnvironment(config, args.env);
      const hp = config.ppo;
      const policy = ActorCritic.create(actorCriticSpecFor(env.observationSize, env.actionSpace, hp), runSeeds.policyInit(hp));
      const checkpointUri = await saveCheckpoint(store, args.runId, 0, policy, createPpoOptimizer(policy, hp));
      return { checkpointUri, observationSize: env.observationSize, parameters: policy.params.length };
    },

    async rollout(args: { runId: string; configUri: string; env: string; checkpointUri: string; iteration: number; envIndex: number }): Promise<RolloutResult> {
      const config = await configOf(args.configUri);
      const hp = config.ppo;
      const { policy, iteration } = await loadCheckpoint(store, args.checkpointUri);
      if (iteration !== args.iteration - 1) {
        throw ApplicationFailure.nonRetryable(`rollout of iteration ${args.iteration} needs checkpoint ${args.iteration - 1}, got ${args.checkpointUri} (iteration ${iteration})`, 'CheckpointMismatch');
      }
      const recorded = recordingStepStats(buildEnvironment(config, args.env));
      const env = heartbeating(recorded.env, `rollout ${args.iteration}/${args.envIndex}`);
      // Each rollout starts fresh episodes from its own seed (reset seeds drawn from the rollout RNG);
      // an episode cut by num_steps is bootstrapped from V(s) like any truncated trajectory.
      const batch: RolloutBatch = await collectRollout(env, policy, hp.num_steps, new Rng(runSeeds.rollout(hp, args.iteration, args.envIndex)));
      const stored: StoredRollout = { ...batch, stepStats: recorded.stats };
      const batchUri = await saveRollout(store, args.runId, args.iteration, args.envIndex, stored);
      const returns = batch.episodes.map((e) => e.return);
      return {
        batchUri,
        steps: batch.numSteps,
        episodes: returns.length,
        episodicReturnMean: returns.length ? returns.reduce((a, b) => a + b, 0) / returns.length : null,
      };
    },

    async update(args: { runId: string; configUri: string; checkpointUri: string; batchUris: string[]; iteration: number }): Promise<{ checkpointUri: string; summary: IterationSummary }> {
      const config = await configOf(args.configUri);
      const hp = config.ppo;
      const { policy, optimizer, iteration } = await loadCheckpoint(store, args.checkpointUri);
      if (iteration !== args.iteration - 1) {
        throw ApplicationFailure.nonRetryable(`update of iteration ${args.iteration} needs checkpoint ${args.iteration - 1}, got ${args.checkpointUri} (iteration ${iteration})`, 'CheckpointMismatch');
      }
      const batches: StoredRollout[] = [];
      for (const uri of args.batchUris) batches.push(await getJson<StoredRollout>(store, uri));
      heartbeat({ iteration: args.iteration, phase: 'update' });
      const { metrics } = ppoUpdate(policy, optimizer, batches, hp, new Rng(runSeeds.update(hp, args.iteration)));
      const checkpointUri = await saveCheckpoint(store, args.runId, args.iteration, policy, optimizer);
      const rows: Record<string, number> = {};
      for (const [name, value] of Object.entries(metrics)) if (Number.isFinite(value)) rows[name] = value;
      // Rollouts stored by a worker from before step stats were kept (a run in flight across a deploy) have none: no such metrics for that iteration.
      const stats = batches.map((b) => b.stepStats);
      if (stats.every((st): st is RolloutStepStats => st !== undefined)) Object.assign(rows, stepStatsMetrics(stats));
      await registry.appendRunMetrics(args.runId, args.iteration, rows);
      const m = metrics as PpoMetrics;
      return {
        checkpointUri,
        summary: {
          iteration: args.iteration,
          episodicReturn: finite(m['charts/episodic_return']),
          episodes: m['charts/episodes'],
          approxKl: finite(m['losses/approx_kl']),
          entropy: finite(m['losses/entropy']),
          clipFraction: finite(m['losses/clipfrac']),
          valueLoss: finite(m['losses/value_loss']),
          policyLoss: finite(m['losses/policy_loss']),
          learningRate: finite(m['charts/learning_rate']),
        },
      };
    },

    async evaluate(args: {
      runId: string;
      configUri: string;
      env: string;
      seed: number;
      candidates: { label: string; checkpointUri: string }[];
      evaluation: EvaluationSettings;
    }): Promise<EvaluationSummary> {
      const config = await configOf(args.configUri);
      const candidates = [];
      for (const c of args.candidates) candidates.push({ label: c.label, policy: (await loadCheckpoint(store, c.checkpointUri)).policy });
      const env = buildEnvironment(config, args.env);
      const result: PolicyEvaluation = await evaluatePolicies(env, config, candidates, {
        ...args.evaluation,
        seed: args.seed,
        onProgress: (done, total) => heartbeat({ phase: 'evaluate', done, total }),
      });
      const evaluationUri = await putJson(store, runKeys.evaluation(args.runId), result);
      const policy = result.candidates.find((c) => c.label === result.chosen)!;
      return {
        evaluationUri,
        chosen: result.chosen,
        checkpointUri: args.candidates.find((c) => c.label === result.chosen)!.checkpointUri,
        policy,
        candidates: result.candidates,
        baseline: result.baseline,
        bestStatic: result.bestStatic,
        improvementVsBaseline: result.improvementVsBaseline,
        improvementVsBestStatic: result.improvementVsBestStatic,
        rewardDelta: result.rewardDelta,
      };
    },

    async writeReport(args: { runId: string; model: string; evaluationUri: string | null }): Promise<ReportUris> {
      const rows = pivotMetrics(await registry.readRunMetrics(args.runId));
      const evaluation = args.evaluationUri ? await getJson<PolicyEvaluation>(store, args.evaluationUri) : null;
      return writeReportFiles(store, args.runId, { title: `PPO run ${args.runId} — model ${args.model}`, rows, evaluation });
    },

    async exportAndRegister(args: {
      run: RunSetup;
      checkpointUri: string;
      training: TrainingOutcome;
      evaluation: EvaluationSummary;
      report: ReportUris;
    }): Promise<RegisteredVersion> {
      const { run, evaluation: ev, training } = args;
      // Registering twice would make two versions: a retried activity finds the first one by its run tag.
      const existing = await registry.searchVersions({ model: run.model, tags: { run_id: run.runId }, limit: 1 });
      if (existing.length > 0) {
        const v = existing[0];
        return { model: v.model, version: v.version, artifactUri: v.artifactUri, sha256: v.sha256, metrics: v.metrics };
      }
      const config = await configOf(run.configUri);
      const env = buildEnvironment(config, run.env);
      const { policy, iteration } = await loadCheckpoint(store, args.checkpointUri);
      const exported = exportOnnx(policy, {
        graphName: run.model,
        observationNames: env.featureNames,
        docString: `PPO policy of run ${run.runId} (workflow ${run.workflowId}), checkpoint ${iteration}, config ${run.configHash}`,
        metadata: { run_id: run.runId, workflow_id: run.workflowId, config_hash: run.configHash, code_commit: run.codeCommit, seed: String(run.seed), checkpoint_iteration: String(iteration) },
      });
      const metrics: Record<string, number> = {
        iterations: training.iterations,
        checkpoint_iteration: iteration,
        seed: run.seed,
        eval_reward: ev.policy.reward,
        eval_episodic_return: ev.policy.episodicReturn,
        baseline_reward: ev.baseline.reward,
        baseline_episodic_return: ev.baseline.episodicReturn,
        best_static_reward: ev.bestStatic.reward,
        improvement_vs_baseline: ev.improvementVsBaseline,
        improvement_vs_best_static: ev.improvementVsBestStatic,
        gate_violations: ev.policy.gateViolations,
        gate_violation_rate: ev.policy.gateViolations / Math.max(1, ev.policy.steps),
        gates_passed: ev.policy.gateViolations === 0 ? 1 : 0,
        baseline_gate_violations: ev.baseline.gateViolations,
        quality: ev.policy.quality,
        cost_usd: ev.policy.costUsd,
        latency_p95_ms: ev.policy.latencyP95Ms,
        reward_delta: ev.rewardDelta.value,
        reward_delta_lower: ev.rewardDelta.lower,
        reward_delta_upper: ev.rewardDelta.upper,
      };
      if (training.finalReward !== null) metrics.final_reward = training.finalReward;
      if (training.bestReward !== null) metrics.best_reward = training.bestReward;
      const version = await registry.registerVersion({
        model: run.model,
        artifact: { buffer: Buffer.from(exported.model) },
        fileName: 'policy.onnx',
        format: 'onnx',
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature,
        metrics,
        tags: {
          run_id: run.runId,
          run_kind: 'ppo',
          env: run.env,
          seed: String(run.seed),
          checkpoint: ev.chosen,
          stopped: String(training.stopped),
          report_svg: args.report.svg,
          summary_csv: args.report.summaryCsv,
        },
        lineage: {
          runId: run.runId,
          workflowId: run.workflowId,
          configHash: run.configHash,
          datasetManifest: { ...run.datasetManifest, seed: run.seed, configSource: run.configSource } as Json,
          codeCommit: run.codeCommit,
        },
        description: `PPO RAG tuner trained for ${training.iterations} iterations on ${run.env} (seed ${run.seed}); held-out reward ${ev.policy.reward.toFixed(4)} vs baseline ${ev.baseline.reward.toFixed(4)} and best static ${ev.bestStatic.reward.toFixed(4)}`,
        createModel: true,
        // One version per run even when attempts overlap (the search above is only a shortcut).
        idempotencyKey: activityRegistrationKey(`exportAndRegister:${run.runId}`),
        actor: run.actor,
      });
      return { model: version.model, version: version.version, artifactUri: version.artifactUri, sha256: version.sha256, metrics: version.metrics };
    },

    async recordGateVerdict(args: { model: string; version: number; verdict: OfflineGateVerdict; forced: boolean; actor: string; runId: string }): Promise<void> {
      if (args.verdict.passed) return;
      await recordFailedGates(registry, {
        model: args.model, versions: [args.version], servedVersion: args.version, what: 'offline gates failed',
        reasons: args.verdict.reasons, detail: { checks: args.verdict.checks }, forced: args.forced, actor: args.actor, runId: args.runId,
      });
    },

    async finishRun(args: { runId: string; status: 'succeeded' | 'failed' | 'cancelled'; summary?: object; error?: string }): Promise<void> {
      await registry.finishRun(args.runId, { status: args.status, summary: args.summary as Json | undefined, error: args.error });
    },
  };
}
