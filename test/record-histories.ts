/**
 * Records the workflow histories that workflows/replay.test.ts replays against the current workflow
 * code (R-OPS-ORCHESTRATION: a change that would break running workflows fails `make test`).
 *
 *   node -r ./scripts/register-ts.js test/record-histories.ts                 # every recording
 *   node -r ./scripts/register-ts.js test/record-histories.ts ppoTraining     # those whose name starts so
 *
 * Each main path of each workflow runs once, short, on a fresh Temporal dev server (the project venv's
 * CLI, as the integration tests start it) with a fresh PostgreSQL database, Redis and a filesystem
 * artifact store; each history is written to workflows/histories/<workflow>.<path>.json as
 * `handle.fetchHistory()` gives it. The activities are the real ones wherever they need only those
 * servers (stackCheck, ppoTraining, banditSnapshot, driftMonitor, offPolicyEvaluation, parameterTuning,
 * budgetAllocation, workloadForecast, experimentDesign and its child ppoTraining runs, retention); canaryPromotion's
 * checks need live traffic through an inference server and textPolicyTraining needs Oumi, so those two
 * run with activities typed by their contracts that answer like the real ones (the history holds only the
 * answers, and the workflow code decides what it does with them).
 *
 * Re-record when a workflow changes ON PURPOSE in a way running workflows may not see (and guard the old
 * path with `patched()` if runs of the old code can still be open); the old files are the proof of what
 * the code used to do, so keep a breaking change's old history until no such run can exist.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createBanditActivities } from '../activities/bandits/activities';
import { createDriftActivities } from '../activities/bandits/drift';
import { validateCanaryPlan } from '../activities/canary/plan-config';
import { createOpeActivities } from '../activities/ope/activities';
import { createBudgetActivities } from '../activities/optimisers/budget';
import { createExperimentActivities } from '../activities/optimisers/experiments';
import { createSweepActivities } from '../activities/sweep/activities';
import { createDataExportActivities } from '../activities/data-export/activities';
import { createLoopActivities } from '../activities/loop/activities';
import { createRetentionActivities } from '../activities/retention/activities';
import { createForecastActivities } from '../activities/optimisers/forecast';
import { createTuningActivities } from '../activities/optimisers/tuning';
import { LoggedBandit } from '../activities/ope/testing/logged-bandit';
import { createPpoActivities } from '../activities/ppo/activities';
import { createStackActivities } from '../activities/stack';
import { judgeOpeGate } from '../canary/ope-gate';
import type { CanaryPlanInput } from '../canary/plan';
import type { CheckOutcome, CheckResult } from '../canary/status';
import { canaryWorkflowId, type CanaryActivities, type CheckInput } from '../contracts/canary';
import { DecisionStore, createDayPartition, utcDay, type DecisionInput } from '../decision-log';
import { newDecisionId } from '../inference/decisions/id';
import { Db } from '../registry/db';
import { LinUCB, deltaToFields } from '../ml/bandits';
import { exportOnnx } from '../ml/onnx/export';
import { Rng } from '../ml/rng';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { createPredictorActivities } from '../activities/predictor/activities';
import { Registry } from '../registry/index';
import { migrate } from '../registry/migrate';
import type { Signature } from '../registry/types';
import { createTestDatabase, type TestDatabase } from './support/pg';
import { startDevServer } from './support/temporal';
import { fakeTextPolicyActivities } from '../workflows/testing/text-policy-fakes';

const OUT = resolve(__dirname, '..', 'workflows', 'histories');

interface Services {
  client: Client;
  db: TestDatabase;
  store: FsArtifactStore;
  registry: Registry;
  redis: Redis;
  hookUrl: string;
}

/** One run to record: the activities its worker registers, and a function that runs the workflow and
 *  returns the executions to keep (`<workflow>.<path>`, the file's name → workflow id and run id). */
interface Recording {
  workflow: string;
  activities(s: Services): object;
  run(s: Services, taskQueue: string): Promise<Executions>;
}

type Executions = Record<string, { workflowId: string; runId: string }>;

const recordings: Recording[] = [
  {
    workflow: 'stackCheck',
    activities: (s) => createStackActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      const h = await s.client.workflow.start('stackCheck', { taskQueue, workflowId: `stack-check/${randomUUID()}`, args: [{ message: 'recorded' }] });
      await h.result();
      return { 'stackCheck.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'ppoTraining',
    activities: (s) => createPpoActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      // The smallest useful run (as workflows/ppoTraining.int.test.ts): 2 rollout workers × 2 iterations,
      // continuing as new after the first iteration so both the hand-over and the finish are recorded.
      const input = {
        model: 'recorded-ppo',
        config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 2, hidden_sizes: [16, 16] } },
        workers: 2,
        iterations: 2,
        seed: 7,
        continueAsNewEvery: 1,
        evaluation: { episodes: 2, screeningEpisodes: 1, shortlist: 2, kStep: 8, fusionStep: 0.5 },
        timeouts: { heartbeatSeconds: 5 },
      };
      const h = await s.client.workflow.start('ppoTraining', { taskQueue, workflowId: `ppo/recorded/${randomUUID().slice(0, 8)}`, args: [input] });
      await h.result();
      return { 'ppoTraining.continueAsNew': { workflowId: h.workflowId, runId: h.firstExecutionRunId }, 'ppoTraining.main': { workflowId: h.workflowId, runId: (await h.describe()).runId } };
    },
  },
  {
    workflow: 'banditSnapshot',
    activities: (s) => createBanditActivities({ pool: s.db.pool, store: s.store, redis: s.redis }),
    async run(s, taskQueue) {
      const stateKey = `recorded-${randomUUID().slice(0, 8)}`;
      await s.registry.createModel({ name: 'recorded-router', actor: 'record-histories' });
      await s.registry.setDeployment({
        model: 'recorded-router', kind: 'bandit', championVersion: null, actor: 'record-histories',
        config: { learner: { kind: 'linucb' }, arms: ['large', 'small'], features: ['complexity'], stateKey },
      });
      const l = new LinUCB({ nArms: 2, d: 2 });
      for (let i = 0; i < 10; i++) {
        for (const [f, v] of Object.entries(deltaToFields(l.statsDelta([1, i / 10], i % 2, i % 3 === 0 ? 0 : 1)))) await s.redis.hincrbyfloat(`bandit:state:${stateKey}`, f, v);
      }
      await s.redis.hincrby(`bandit:state:${stateKey}`, 'seq', 10);
      try {
        const h = await s.client.workflow.start('banditSnapshot', {
          taskQueue, workflowId: `bandit-snapshot/${randomUUID()}`,
          args: [{ deployment: 'recorded-router', intervalSeconds: 1, iterationsPerRun: 2, maxIterations: 3 }],
        });
        await h.result();
        return { 'banditSnapshot.continueAsNew': { workflowId: h.workflowId, runId: h.firstExecutionRunId }, 'banditSnapshot.finish': { workflowId: h.workflowId, runId: (await h.describe()).runId } };
      } finally {
        await s.redis.del(`bandit:state:${stateKey}`);
      }
    },
  },
  {
    workflow: 'driftMonitor',
    activities: (s) => ({ ...createDriftActivities({ pool: s.db.pool, store: s.store }), ...canaryActivities(() => 'pass') }),
    async run(s, taskQueue) {
      // Decisions whose reward drops and whose feature shifts in the last hour; a canary runs for the
      // deployment, so the drift alert (webhook) and the abort signal both land.
      const model = 'recorded-drift';
      await s.registry.createModel({ name: model, actor: 'record-histories' });
      const rng = new Rng(1);
      const now = Date.now();
      const rows: DecisionInput[] = [];
      const rewards: { decisionId: string; reward: number }[] = [];
      for (let i = 0; i < 600; i++) {
        const drift = i >= 300;
        const decisionId = randomUUID();
        rows.push({ decisionId, time: new Date(now - 7_000_000 + i * 11_500), deployment: model, model, version: null, arm: 'a', features: { complexity: (drift ? 1 : 0) + rng.normal() }, action: { arm: 'a' }, propensity: 1, latencyMs: 20 + rng.normal() });
        rewards.push({ decisionId, reward: (drift ? 0.3 : 0.8) + 0.1 * rng.normal() });
      }
      const decisions = new DecisionStore({ pool: s.db.pool });
      await decisions.insertDecisions(rows);
      for (const r of rewards) await decisions.insertReward(r);
      const canary = await s.client.workflow.start('canaryPromotion', {
        taskQueue, workflowId: canaryWorkflowId(model),
        args: [{ model, version: 2, plan: { stepWeights: [50, 100], interval: '1h', checkInterval: '30m' }, actor: 'record-histories' }],
      });
      const h = await s.client.workflow.start('driftMonitor', {
        taskQueue, workflowId: `drift/${model}/${randomUUID()}`,
        args: [{ deployment: model, windowSeconds: 3600, referenceSeconds: 3600, intervalSeconds: 1, maxIterations: 1, onDrift: 'abort-canary', webhook: { url: s.hookUrl } }],
      });
      const result = (await h.result()) as { alerts: number; actions: string[] };
      if (result.alerts !== 1 || !result.actions.includes(`abort ${canary.workflowId}`)) throw new Error(`driftMonitor did not alert and abort: ${JSON.stringify(result)}`);
      await canary.result();
      return {
        'driftMonitor.abortCanary': { workflowId: h.workflowId, runId: h.firstExecutionRunId },
        // The canary it aborted: the abort signal's path.
        'canaryPromotion.abort': { workflowId: canary.workflowId, runId: canary.firstExecutionRunId },
      };
    },
  },
  {
    workflow: 'offPolicyEvaluation',
    activities: (s) => createOpeActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      // 2,000 logged decisions of a known contextual bandit, two chunks of 1,000, one chunk per run:
      // the first run scores and continues as new, the second scores, estimates and cleans up.
      const model = 'recorded-ope';
      const start = new Date('2025-03-01T00:00:00.000Z');
      const bandit = new LoggedBandit({ nFeatures: 6, choices: ['a0', 'a1', 'a2', 'a3', 'a4'], epsilon: 0.3, staleness: 0.8, seed: 7 });
      const exported = exportOnnx(bandit.candidate(3), { graphName: model });
      await s.registry.registerVersion({
        model, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true,
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'record-histories',
      });
      const decisions = new DecisionStore({ pool: s.db.pool });
      for (const batch of bandit.generate(2000, { start, stepMs: 10, batch: 1000, deployment: model, model, version: 1, rng: new Rng(11) })) {
        await decisions.insertDecisions(batch.decisions);
        await s.db.pool.query('INSERT INTO rewards (decision_id, reward, time, decision_time) SELECT id, r, t, decision_id_time(id) FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[]) AS x(id, r, t)', [
          batch.rewards.map((r) => r.decisionId),
          batch.rewards.map((r) => r.reward),
          batch.rewards.map((r) => r.time.toISOString()),
        ]);
      }
      const h = await s.client.workflow.start('offPolicyEvaluation', {
        taskQueue, workflowId: `ope/${model}/1/${randomUUID()}`,
        args: [{ deployment: model, from: start.toISOString(), to: new Date(start.getTime() + 2000 * 10).toISOString(), candidate: { model, version: 1 }, nBootstrap: 200, chunkSize: 1000, chunksPerRun: 1, seed: 3 }],
      });
      await h.result();
      return { 'offPolicyEvaluation.continueAsNew': { workflowId: h.workflowId, runId: h.firstExecutionRunId }, 'offPolicyEvaluation.estimate': { workflowId: h.workflowId, runId: (await h.describe()).runId } };
    },
  },
  {
    workflow: 'optimizationLoop',
    activities: (s) => ({
      ...createOpeActivities({ pool: s.db.pool, store: s.store }),
      ...createLoopActivities({ pool: s.db.pool, store: s.store }),
      ...createDataExportActivities({ pool: s.db.pool, store: s.store, settings: { dataDir: join(s.store.root, 'data') } }),
      // the canary's checks need live traffic: scripted passes (its OPE gate judged by the real rule)
      ...canaryActivities(() => 'pass', 'loop'),
    }),
    async run(s, taskQueue) {
      // 2,000 logged decisions of a known contextual bandit in the last half hour, champion v1. Cycle 1
      // (manual trigger): export → refit → OPE → canary (scripted) → promoted; continueAsNew (cyclesPerRun 1);
      // cycle 2 (drift signal): no decision since the promotion → skipped at export; stop.
      const model = 'recorded-loop';
      const bandit = new LoggedBandit({ nFeatures: 6, choices: ['a0', 'a1', 'a2', 'a3', 'a4'], epsilon: 0.3, staleness: 0.8, seed: 7 });
      const exported = exportOnnx(bandit.candidate(0.3), { graphName: model });
      await s.registry.registerVersion({
        model, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true, champion: true,
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'record-histories',
      });
      const decisions = new DecisionStore({ pool: s.db.pool });
      const start = new Date(Date.now() - 30 * 60_000);
      for (const batch of bandit.generate(2000, { start, stepMs: 500, batch: 1000, deployment: model, model, version: 1, rng: new Rng(11) })) {
        await decisions.insertDecisions(batch.decisions);
        await s.db.pool.query('INSERT INTO rewards (decision_id, reward, time, decision_time) SELECT id, r, t, decision_id_time(id) FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[]) AS x(id, r, t)', [
          batch.rewards.map((r) => r.decisionId),
          batch.rewards.map((r) => r.reward),
          batch.rewards.map((r) => r.time.toISOString()),
        ]);
      }
      const h = await s.client.workflow.start('optimizationLoop', {
        taskQueue, workflowId: `loop/${model}`,
        args: [{
          deployment: model, intervalSeconds: 0, window: '1h', minRewarded: 500, cyclesPerRun: 1, trainingTaskQueue: taskQueue,
          retrain: { kind: 'refit' }, ope: { estimator: 'snipw', nBootstrap: 200, minRounds: 500, tolerance: 0.5 },
          // the canary's own OPE gate on too, so its patched path (canary-ope-gate) is recorded as well
          canaryPlan: { stepWeights: [50, 100], interval: '1s', checkInterval: '1s', ope: { enabled: true, window: '1h', estimator: 'snipw', nBootstrap: 200, minRounds: 500, tolerance: 0.5 } },
        }],
      });
      await h.signal('trigger', { by: 'record-histories', reason: 'recorded cycle' });
      const until = async (ok: (st: { cycles: number; current: unknown; state: string }) => boolean) => {
        for (let i = 0; i < 600; i++) {
          const st = await s.client.workflow.getHandle(h.workflowId).query<{ cycles: number; current: unknown; state: string }>('status');
          if (ok(st)) return;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('optimizationLoop: timed out');
      };
      await until((st) => st.cycles === 1 && st.current === null && st.state === 'idle');
      const first = (await s.client.workflow.getHandle(h.workflowId).describe()).runId;
      if (first === h.firstExecutionRunId) throw new Error('optimizationLoop did not continue as new after cycle 1');
      await s.client.workflow.getHandle(h.workflowId).signal('drift', { by: 'record-histories', reasons: ['recorded drift'] });
      await until((st) => st.cycles === 2 && st.current === null);
      await s.client.workflow.getHandle(h.workflowId).signal('stop', { by: 'record-histories' });
      const final = (await s.client.workflow.getHandle(h.workflowId).result()) as { recent: { outcome: string }[] };
      const outcomes = final.recent.map((c) => c.outcome).join(',');
      if (outcomes !== 'skipped,promoted') throw new Error(`optimizationLoop recorded cycles ${outcomes}, expected skipped,promoted`);
      const canary = await s.client.workflow.getHandle(canaryWorkflowId(model)).describe();
      return {
        'optimizationLoop.continueAsNew': { workflowId: h.workflowId, runId: h.firstExecutionRunId },
        'optimizationLoop.main': { workflowId: h.workflowId, runId: first },
        // the loop's canary child: the off-policy evaluation gate passed, then the steps
        'canaryPromotion.opeGate': { workflowId: canary.workflowId, runId: canary.runId },
      };
    },
  },
  {
    workflow: 'canaryPromotion',
    activities: () => canaryActivities((_c, weight) => (weight === 100 ? 'breach' : 'pass'), 'rollback'),
    async run(s, taskQueue) {
      // A breach at 100% rolls back (the rollback webhook fires).
      const model = `recorded-canary-${randomUUID().slice(0, 8)}`;
      const h = await s.client.workflow.start('canaryPromotion', { taskQueue, workflowId: canaryWorkflowId(model), args: [{ model, version: 2, plan: canaryPlan(s.hookUrl), actor: 'record-histories' }] });
      const status = (await h.result()) as { phase: string };
      if (status.phase !== 'Failed') throw new Error(`the breaching canary ended ${status.phase}, not Failed`);
      return { 'canaryPromotion.rollback': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'canaryPromotion',
    activities: () => canaryActivities(() => 'pass', 'promote'),
    async run(s, taskQueue) {
      // Every check passes: 50% → 100% → promoted (confirm-promotion and post-rollout webhooks fire).
      const model = `recorded-canary-${randomUUID().slice(0, 8)}`;
      const h = await s.client.workflow.start('canaryPromotion', { taskQueue, workflowId: canaryWorkflowId(model), args: [{ model, version: 2, plan: canaryPlan(s.hookUrl), actor: 'record-histories' }] });
      const status = (await h.result()) as { phase: string };
      if (status.phase !== 'Succeeded') throw new Error(`the passing canary ended ${status.phase}, not Succeeded`);
      return { 'canaryPromotion.promote': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'textPolicyTraining',
    activities: () => fakeTextPolicyActivities([]),
    async run(s, taskQueue) {
      const h = await s.client.workflow.start('textPolicyTraining', { taskQueue, workflowId: `text-policy/recorded/${randomUUID().slice(0, 8)}`, args: [{ model: 'recorded-policy' }] });
      await h.result();
      return { 'textPolicyTraining.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    // The LLM-as-judge path (input `judge`, patch text-policy-llm-judge): judge stage, DPO on the merged pairs, judge evaluations.
    workflow: 'textPolicyTraining',
    activities: () => fakeTextPolicyActivities([]),
    async run(s, taskQueue) {
      const h = await s.client.workflow.start('textPolicyTraining', { taskQueue, workflowId: `text-policy/recorded/${randomUUID().slice(0, 8)}`, args: [{ model: 'recorded-policy', judge: {} }] });
      await h.result();
      return { 'textPolicyTraining.judge': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'parameterTuning',
    activities: (s) => createTuningActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      // The simulator as the objective (as workflows/parameterTuning.int.test.ts, smaller): the baseline,
      // 2 initial-design points, then proposals 2 at a time up to 6 evaluations, the best written as a bandit arm.
      const model = `recorded-rag-${randomUUID().slice(0, 8)}`;
      await s.registry.createModel({ name: model, actor: 'record-histories' });
      await s.registry.setDeployment({ model, kind: 'bandit', championVersion: null, config: { learner: { kind: 'beta-ts' }, arms: [{ name: 'default' }] }, actor: 'record-histories' });
      const h = await s.client.workflow.start('parameterTuning', {
        taskQueue, workflowId: `tuning/recorded/${randomUUID().slice(0, 8)}`,
        args: [{ budget: { evaluations: 6 }, parallelism: 2, initialDesign: 2, batchesPerEvaluation: 1, seed: 3, applyTo: { deployment: model, as: 'bandit-arm', arm: 'tuned' } }],
      });
      const result = (await h.result()) as { evaluations: number };
      if (result.evaluations !== 6) throw new Error(`parameterTuning ran ${result.evaluations} evaluations, not 6`);
      return { 'parameterTuning.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'budgetAllocation',
    activities: (s) => createBudgetActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      // Demand, quality and cost given (no decision log): one LP solved by HiGHS and stored.
      const h = await s.client.workflow.start('budgetAllocation', {
        taskQueue, workflowId: `budget/recorded/${randomUUID().slice(0, 8)}`,
        args: [{
          name: `recorded-${randomUUID().slice(0, 8)}`,
          segments: [{ name: 'code', demand: 9000, qualityFloor: 0.8 }, { name: 'chat', demand: 18000 }],
          models: [{ name: 'large' }, { name: 'small' }],
          quality: [[0.9, 0.55], [0.8, 0.74]],
          costPerRequest: [[0.01, 0.001], [0.01, 0.001]],
          budget: 100,
        }],
      });
      await h.result();
      // Two rounds continued as new after each, each solution written into a bandit deployment (applyTo).
      // budgetAllocation.before-rounds.json is the single-solve path recorded before patched('budget-allocation-rounds-apply'): keep it.
      const model = `recorded-router-${randomUUID().slice(0, 8)}`;
      await s.registry.createModel({ name: model, actor: 'record-histories' });
      await s.registry.setDeployment({ model, kind: 'bandit', championVersion: null, config: { learner: { kind: 'beta-ts' }, arms: ['large', 'small'] }, actor: 'record-histories' });
      const r = await s.client.workflow.start('budgetAllocation', {
        taskQueue, workflowId: `budget/recorded/${randomUUID().slice(0, 8)}`,
        args: [{
          name: `recorded-${randomUUID().slice(0, 8)}`,
          segments: [{ name: 'code', demand: 9000, qualityFloor: 0.8 }, { name: 'chat', demand: 18000 }],
          models: [{ name: 'large' }, { name: 'small' }],
          quality: [[0.9, 0.55], [0.8, 0.74]],
          costPerRequest: [[0.01, 0.001], [0.01, 0.001]],
          budget: 100,
          applyTo: { deployment: model },
          rounds: 2,
          intervalSeconds: 1,
          continueAsNewEvery: 1,
        }],
      });
      const rounds = (await r.result()) as { continued: number };
      if (rounds.continued !== 1) throw new Error(`budgetAllocation continued ${rounds.continued} times, not 1`);
      return {
        'budgetAllocation.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId },
        'budgetAllocation.continueAsNew': { workflowId: r.workflowId, runId: r.firstExecutionRunId },
      };
    },
  },
  {
    workflow: 'workloadForecast',
    activities: (s) => createForecastActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      // Three hours of per-minute traffic for one deployment in the decision log: the forecast of the
      // next 30 minutes (auto: ARIMA vs ETS on the held-out last 30), stored with a replica count.
      const deployment = `recorded-forecast-${randomUUID().slice(0, 8)}`;
      const until = new Date(Math.floor(Date.now() / 60_000) * 60_000);
      const rng = new Rng(5);
      const rows: DecisionInput[] = [];
      for (let t = 0; t < 180; t++) {
        const n = Math.max(0, Math.round(3 + Math.sin((2 * Math.PI * t) / 60) + rng.normal()));
        for (let i = 0; i < n; i++) rows.push({ decisionId: randomUUID(), time: new Date(until.getTime() - (180 - t) * 60_000 + Math.floor(((i + 0.5) / n) * 60_000)), deployment, model: deployment, version: null, arm: 'champion', features: {}, action: {} });
      }
      await new DecisionStore({ pool: s.db.pool }).insertDecisions(rows);
      const h = await s.client.workflow.start('workloadForecast', {
        taskQueue, workflowId: `forecast/recorded/${randomUUID().slice(0, 8)}`,
        args: [{ deployments: [deployment], granularity: 'minute', history: 180, horizon: 30, until: until.toISOString(), capacity: { capacityPerReplica: 0.01 } }],
      });
      const result = (await h.result()) as { forecasts: unknown[] };
      if (result.forecasts.length !== 1) throw new Error(`workloadForecast forecast ${result.forecasts.length} deployments, not 1`);
      return { 'workloadForecast.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'experimentDesign',
    // Its trials are child ppoTraining runs on the parent's task queue: this worker serves both.
    activities: (s) => ({ ...createPpoActivities({ pool: s.db.pool, store: s.store }), ...createExperimentActivities({ pool: s.db.pool, store: s.store }) }),
    async run(s, taskQueue) {
      // Three tiny trials, two at a time (as workflows/experimentDesign.int.test.ts, smaller): the median
      // rule is checked every second while they run and stops a trial that lags (a `stop` signal to the child);
      // the parent's history is the one recorded. Whether the rule names a trial depends on how far the
      // trials got when it looks (wall-clock), so up to 3 seeds are tried until one stops a trial.
      const tried: string[] = [];
      for (const seed of [3, 4, 2]) {
        const h = await s.client.workflow.start('experimentDesign', {
          taskQueue, workflowId: `experiments/recorded/${randomUUID().slice(0, 8)}`,
          args: [{
            config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 1, hidden_sizes: [8, 8] } },
            space: [{ name: 'ppo.learning_rate', type: 'continuous', low: 1e-5, high: 3e-2, log: true }, { name: 'policy.reward_weights.delta', type: 'continuous', low: 0, high: 2 }],
            objective: 'improvementVsBaseline',
            trials: 3, parallelism: 2, iterations: 16, workers: 1, seed, model: `recorded-exp-${randomUUID().slice(0, 8)}`,
            stopping: { rule: 'median', gracePeriod: 1, minCompletedTrials: 1, checkSeconds: 1 },
            evaluation: { episodes: 1, screeningEpisodes: 1, shortlist: 1, kStep: 16, fusionStep: 1 },
          }],
        });
        const result = (await h.result()) as { trials: { status: string; iterations: number }[] };
        if (result.trials.length !== 3 || result.trials.some((t) => t.status === 'failed')) throw new Error(`experimentDesign trials: ${JSON.stringify(result.trials)}`);
        if (result.trials.some((t) => t.status === 'stopped')) return { 'experimentDesign.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
        tried.push(`seed ${seed}: ${result.trials.map((t) => `${t.status} after ${t.iterations}`).join(', ')}`);
      }
      throw new Error(`experimentDesign: the median rule stopped no trial, so the stop path was not recorded (${tried.join('; ')}); run it again`);
    },
  },
  {
    workflow: 'sweep',
    // Its cells are child ppoTraining runs on the parent's task queue: this worker serves both.
    activities: (s) => ({ ...createPpoActivities({ pool: s.db.pool, store: s.store }), ...createSweepActivities({ pool: s.db.pool, store: s.store }) }),
    async run(s, taskQueue) {
      // 2 reward weightings × 2 ablations = 4 tiny cells, 2 at a time (as workflows/sweep.int.test.ts, smaller).
      // The cells' workflow ids derive from the sweep's (`<id>/cell-<i>`), and workflows/replay.test.ts replays each
      // history under its file's name: record under that name so the replayed commands match.
      await s.client.workflow.getHandle('sweep.main.json').terminate('a previous recording').catch(() => undefined);
      const h = await s.client.workflow.start('sweep', {
        taskQueue, workflowId: 'sweep.main.json',
        args: [{
          name: `recorded-sweep-${randomUUID().slice(0, 6)}`,
          config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 1, hidden_sizes: [8, 8] } },
          iterations: 1, workers: 1, seed: 5,
          evaluation: { episodes: 1, screeningEpisodes: 1, shortlist: 1, kStep: 16, fusionStep: 1 },
          rewardWeights: [{}, { lambda: 4 }],
          ablations: ['none', 'no-context'],
          parallel: 2,
        }],
      });
      const result = (await h.result()) as { succeeded: number; failed: number };
      if (result.succeeded !== 4 || result.failed !== 0) throw new Error(`sweep: expected 4 cells to succeed, got ${result.succeeded} succeeded and ${result.failed} failed`);
      return { 'sweep.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    workflow: 'retention',
    activities: (s) => createRetentionActivities({ pool: s.db.pool }),
    async run(s, taskQueue) {
      // Two expired day partitions with a decision each: the run creates the days ahead and drops them (as workflows/retention.int.test.ts).
      const d = Db.fromPool(s.db.pool);
      const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
      const rows: DecisionInput[] = [];
      for (const k of [40, 39]) {
        for (const t of ['decisions', 'rewards'] as const) await createDayPartition(d, t, utcDay(new Date(today - k * 86_400_000)));
        const ms = today - k * 86_400_000 + 1000;
        rows.push({ decisionId: newDecisionId(ms), time: new Date(ms), deployment: 'recorded-retention', model: 'recorded-retention', version: null, arm: 'a', features: {}, action: { arm: 'a' }, propensity: 1 });
      }
      await new DecisionStore({ pool: s.db.pool }).insertDecisions(rows);
      const h = await s.client.workflow.start('retention', { taskQueue, workflowId: `retention/${randomUUID()}`, args: [{ retentionDays: 30, aheadDays: 8 }] });
      const result = (await h.result()) as { dropped: unknown[] };
      if (result.dropped.length !== 4) throw new Error(`retention: expected 4 partitions dropped, got ${JSON.stringify(result)}`);
      return { 'retention.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
  {
    // The real activity in .venv-lightgbm (`make setup-lightgbm`): a small LightGBM model, parity-checked, registered as champion.
    workflow: 'qualityPredictorTraining',
    activities: (s) => createPredictorActivities({ pool: s.db.pool, store: s.store }),
    async run(s, taskQueue) {
      const h = await s.client.workflow.start('qualityPredictorTraining', { taskQueue, workflowId: `quality-predictor/recorded/${randomUUID().slice(0, 8)}`, args: [{ model: 'recorded-quality', trainRows: 2000, heldoutRows: 500, trees: 30, champion: true }] });
      await h.result();
      return { 'qualityPredictorTraining.main': { workflowId: h.workflowId, runId: h.firstExecutionRunId } };
    },
  },
];
/** Two steps of a second each, a check every second, every webhook type pointing at the local hook. */
function canaryPlan(hookUrl: string): CanaryPlanInput {
  return {
    stepWeights: [50, 100],
    interval: '2s',
    checkInterval: '1s',
    threshold: 1,
    maxInconclusive: 0,
    webhooks: [
      { type: 'confirm-promotion', url: hookUrl },
      { type: 'rollback', url: hookUrl },
      { type: 'post-rollout', url: hookUrl },
    ],
  };
}

/**
 * canaryPromotion's activities as the real ones answer (the plan is validated by the real validator);
 * `outcome(check, weight)` scripts each check. The real checks read live traffic (see the file's header).
 */
function canaryActivities(outcome: (c: CheckInput, weight: number) => CheckOutcome | 'breach', label = 'canary'): CanaryActivities {
  let weight = 0;
  let generation = 1;
  return {
    async canaryInitialize(input) {
      return { plan: validateCanaryPlan(input.plan ?? {}, 'input.plan'), championVersion: 1, generation };
    },
    async canaryShadow() {
      return { generation, changed: false };
    },
    async canarySetWeight(input) {
      weight = input.weight;
      return { generation: ++generation, changed: true };
    },
    async canaryCheck(input): Promise<CheckResult> {
      const o = outcome(input, weight);
      const at = new Date().toISOString();
      return {
        outcome: o === 'breach' ? 'fail' : o,
        breach: o === 'breach',
        reasons: o === 'pass' ? [] : [`${label}: scripted ${o} at ${weight}%`],
        at,
        window: { from: at, to: at },
        samples: { champion: 1000, canary: 1000 },
        metrics: [],
        delta: null,
        burnRate: [],
        decisionLook: input.decisionLook > 0,
      };
    },
    async canaryRollback(input) {
      weight = 0;
      return { generation: ++generation, restoredChampion: input.restoreChampion ?? null };
    },
    async canaryPromote() {
      return { generation: ++generation, previousChampion: 1 };
    },
    async canaryWebhook() {
      return { ok: true, status: 200, ms: 1, error: null };
    },
    async canaryOpeGate(input) {
      return judgeOpeGate(input.plan.ope!, { result: input.result, error: input.error, workflowId: input.evaluationWorkflowId, window: input.window });
    },
  };
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const chosen = recordings.filter((r) => only.length === 0 || only.some((o) => r.workflow.startsWith(o)));
  if (chosen.length === 0) throw new Error(`no recording matches ${only.join(', ')}; workflows: ${[...new Set(recordings.map((r) => r.workflow))].join(', ')}`);
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;
  const [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet })]);
  const dir = mkdtempSync(join(tmpdir(), 'ap-record-histories-'));
  const redis = new Redis(process.env.AUTOPILOT_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const hook: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  try {
    await migrate(db.pool);
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const store = new FsArtifactStore(dir);
    const s: Services = { client: env.client, db, store, registry: new Registry({ pool: db.pool, store }), redis, hookUrl: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` };
    mkdirSync(OUT, { recursive: true });
    for (const r of chosen) await record(r, s, env.nativeConnection, bundle);
  } finally {
    hook.close();
    redis.disconnect();
    await env.teardown();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function record(r: Recording, s: Services, connection: Parameters<typeof Worker.create>[0]['connection'], bundle: WorkflowBundleWithSourceMap): Promise<void> {
  const taskQueue = `record-${randomUUID()}`;
  const started = Date.now();
  const worker = await Worker.create({ connection, taskQueue, workflowBundle: bundle, activities: r.activities(s) });
  const executions = await worker.runUntil(r.run(s, taskQueue));
  for (const [name, { workflowId, runId }] of Object.entries(executions)) {
    const history = await s.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = join(OUT, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(history, null, 1)}\n`);
    process.stdout.write(`${file}: ${history.events?.length ?? 0} events (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`record-histories: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
