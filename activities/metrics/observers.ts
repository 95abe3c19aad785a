/**
 * What each activity's heartbeats and results say, as metrics. Keyed by activity type (the names the
 * queues register, workers/queues.ts); the shapes are the contracts' (contracts/*.ts), read defensively:
 * a field of another type is left out of the metric rather than recorded wrong, and an observer never
 * throws into the activity (a metric is not worth failing a training step for).
 *
 * Labels stay bounded: deployments and models are the ones the workflows run for, stages/estimators/
 * statistics come from fixed lists in code; run ids never become labels.
 */
import type { CalibrationReport } from '../../ml/calibration';
import type { WorkerMetrics } from './worker-metrics';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

function setIf(g: { set(v: number): void }, v: unknown): void {
  const n = num(v);
  if (n !== null) g.set(n);
}

type HeartbeatObserver = (m: WorkerMetrics, details: Obj) => void;
type ResultObserver = (m: WorkerMetrics, input: Obj, result: unknown) => void;

/** Oumi stages heartbeat `{ stage, step, totalSteps, loss, epoch }` (activities/oumi/train-stage.ts). */
const oumiProgress: HeartbeatObserver = (m, d) => {
  const stage = str(d.stage);
  if (stage === null) return;
  setIf(m.oumiStep.labels(stage), d.step);
  setIf(m.oumiTotalSteps.labels(stage), d.totalSteps);
  setIf(m.oumiLoss.labels(stage), d.loss);
  setIf(m.oumiEpoch.labels(stage), d.epoch);
};

const heartbeats: Record<string, HeartbeatObserver> = {
  oumiTrain: oumiProgress,
  policyTrain: oumiProgress,
  // OPE (activities/ope/activities.ts): `{ phase: 'load', chunk, of }` while loading chunks.
  opeEstimate: (m, d) => {
    const chunk = num(d.chunk), of = num(d.of);
    if (d.phase === 'load' && chunk !== null && of !== null && of > 0) m.opeProgress.labels('load').set(Math.min(1, (chunk + 1) / of));
  },
};

const results: Record<string, ResultObserver> = {
  // PPO (contracts/ppo-training.ts)
  rollout: (m, _input, r) => {
    if (!isObj(r)) return;
    const steps = num(r.steps), episodes = num(r.episodes);
    if (steps !== null && steps >= 0) m.ppoRolloutSteps.inc(steps);
    if (episodes !== null && episodes >= 0) m.ppoRolloutEpisodes.inc(episodes);
    setIf(m.ppoRolloutReturn, r.episodicReturnMean);
  },
  update: (m, _input, r) => {
    if (!isObj(r) || !isObj(r.summary)) return;
    const s = r.summary;
    m.ppoIterations.inc();
    setIf(m.ppoEpisodicReturn, s.episodicReturn);
    setIf(m.ppoLoss.labels('policy'), s.policyLoss);
    setIf(m.ppoLoss.labels('value'), s.valueLoss);
    setIf(m.ppoLoss.labels('entropy'), s.entropy);
    setIf(m.ppoApproxKl, s.approxKl);
  },
  // Oumi: the final progress of a stage
  oumiTrain: (m, input, r) => isObj(r) && isObj(r.progress) && oumiProgress(m, { stage: input.stage, ...r.progress }),
  policyTrain: (m, input, r) => isObj(r) && isObj(r.progress) && oumiProgress(m, { stage: input.stage, ...r.progress }),
  // OPE (contracts/off-policy-evaluation.ts)
  opeScoreChunk: (m, input, r) => {
    if (!isObj(r) || !isObj(input.config)) return;
    const deployment = str(input.config.deployment) ?? '-';
    const read = num(r.read);
    if (read !== null && read >= 0) m.opeRowsRead.labels(deployment).inc(read);
    if (isObj(r.skipped)) for (const [reason, n] of Object.entries(r.skipped)) if ((num(n) ?? 0) > 0) m.opeRowsSkipped.labels(deployment, reason).inc(n as number);
    m.opeChunks.labels(deployment).inc();
  },
  opeEstimate: (m, input, r) => {
    if (!isObj(r)) return;
    const prepared = isObj(input.prepared) ? input.prepared : {};
    const config = isObj(prepared.config) ? prepared.config : {};
    const model = isObj(config.candidate) ? str(config.candidate.model) ?? '-' : '-';
    const verdict = str(r.verdict);
    if (verdict !== null) m.opeEvaluations.labels(model, verdict).inc();
    if (isObj(r.estimates)) {
      for (const [estimator, e] of Object.entries(r.estimates)) {
        if (!isObj(e)) continue;
        for (const bound of ['value', 'lower', 'upper'] as const) setIf(m.opeEstimate.labels(model, estimator, bound), e[bound]);
      }
    }
    m.opeProgress.labels('load').set(1);
  },
  // Bandit snapshots (contracts/bandit-snapshot.ts)
  banditSnapshotStep: (m, input, r) => {
    const deployment = str(input.deployment);
    if (deployment === null || !isObj(r) || !isObj(r.estimate)) return;
    const e = r.estimate;
    setIf(m.banditRegret.labels(deployment), e.regret);
    setIf(m.banditRegretRatio.labels(deployment), e.regretRatio);
    setIf(m.banditMeanReward.labels(deployment), e.meanReward);
    setIf(m.banditRounds.labels(deployment), e.rounds);
  },
  // Drift (contracts/drift-monitor.ts)
  driftCheck: (m, input, r) => {
    const deployment = str(input.deployment);
    if (deployment === null || !isObj(r) || typeof r.drift !== 'boolean') return;
    m.driftChecks.labels(deployment, String(r.drift)).inc();
    if (r.drift) m.driftDetected.labels(deployment).inc();
    else m.driftDetected.labels(deployment).inc(0);
    if (isObj(r.metrics)) for (const [name, v] of Object.entries(r.metrics)) setIf(m.driftStatistic.labels(deployment, name), v);
    // Calibration per model of the window's logged predictions (contracts/drift-monitor.ts ModelCalibration).
    if (Array.isArray(r.calibration)) {
      for (const c of r.calibration) {
        const model = isObj(c) ? str(c.model) : null;
        if (model !== null && isObj(c.report) && Array.isArray(c.report.bins)) m.calibration.set(deployment, model, c.report as unknown as CalibrationReport);
      }
    }
  },
  // Canary (contracts/canary.ts)
  canaryInitialize: (m, input) => {
    const model = str(input.model);
    if (model === null) return;
    m.canaryStarted.labels(model).set(Date.now() / 1000);
    m.canaryLastCheck.labels(model).set(Date.now() / 1000);
    m.canaryRollbacks.labels(model).inc(0);
  },
  canaryCheck: (m, input, r) => {
    const model = str(input.model);
    if (model === null || !isObj(r)) return;
    const outcome = str(r.outcome) ?? 'unknown';
    m.canaryChecks.labels(model, outcome).inc();
    if (r.breach === true) m.canaryBreaches.labels(model).inc();
    m.canaryLastCheck.labels(model).set(Date.now() / 1000);
  },
  canarySetWeight: (m, input) => {
    const model = str(input.model);
    if (model !== null) setIf(m.canaryWeight.labels(model), input.weight);
  },
  canaryRollback: (m, input) => {
    const model = str(input.model);
    if (model === null) return;
    m.canaryRollbacks.labels(model).inc();
    m.canaryWeight.labels(model).set(0);
    m.canaryFinished.labels(model).set(Date.now() / 1000);
  },
  canaryPromote: (m, input) => {
    const model = str(input.model);
    if (model === null) return;
    m.canaryPromotions.labels(model).inc();
    m.canaryWeight.labels(model).set(0);
    m.canaryFinished.labels(model).set(Date.now() / 1000);
  },
};

export function observeHeartbeat(m: WorkerMetrics, activity: string, details: unknown): void {
  const o = heartbeats[activity];
  if (o === undefined || !isObj(details)) return;
  try {
    o(m, details);
  } catch {
    // a metric is never worth failing the activity for (see the header)
  }
}

export function observeResult(m: WorkerMetrics, activity: string, input: unknown, result: unknown): void {
  const o = results[activity];
  if (o === undefined) return;
  try {
    o(m, isObj(input) ? input : {}, result);
  } catch {
    // as above
  }
}

/** The activity types whose heartbeats or results feed metrics (tests check they are registered). */
export const observedActivities = { heartbeats: Object.keys(heartbeats), results: Object.keys(results) };
