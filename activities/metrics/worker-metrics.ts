/**
 * A worker process's own Prometheus metrics (prom-client, one Registry per instance so two workers in
 * one process — as in tests — never share series), fed by an activity interceptor:
 *
 * - every activity: `autopilot_activity_duration_seconds{activity,task_queue,outcome}` (a histogram: its
 *   `_count` is the number of executions), `autopilot_activity_failures_total{activity,task_queue,error}`,
 *   `autopilot_activity_running{activity,task_queue}`;
 * - what an activity reports, read from its heartbeat details while it runs and from its result when it
 *   completes (./observers.ts): PPO iterations and returns, Oumi step and loss, OPE progress and estimates,
 *   bandit regret, drift statistics and detections, canary checks, rollbacks and promotions.
 *
 * The interceptor: ./interceptor.ts. Names follow `autopilot_<subsystem>_<name>_<unit>`; Node's default process metrics keep their standard
 * names (`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, …) so stock dashboards work.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CalibrationExporter } from '../../ml/calibration/exposition';

/** Activity durations span a millisecond probe to an hours-long Oumi stage. */
const DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 10, 30, 60, 300, 900, 3600, 4 * 3600];

export class WorkerMetrics {
  readonly registry = new Registry();
  readonly activityDuration: Histogram<'activity' | 'task_queue' | 'outcome'>;
  readonly activityFailures: Counter<'activity' | 'task_queue' | 'error'>;
  readonly activityRunning: Gauge<'activity' | 'task_queue'>;

  readonly ppoIterations: Counter<string>;
  readonly ppoEpisodicReturn: Gauge<string>;
  readonly ppoRolloutSteps: Counter<string>;
  readonly ppoRolloutEpisodes: Counter<string>;
  readonly ppoRolloutReturn: Gauge<string>;
  readonly ppoLoss: Gauge<'loss'>;
  readonly ppoApproxKl: Gauge<string>;

  readonly oumiStep: Gauge<'stage'>;
  readonly oumiTotalSteps: Gauge<'stage'>;
  readonly oumiLoss: Gauge<'stage'>;
  readonly oumiEpoch: Gauge<'stage'>;

  readonly opeRowsRead: Counter<'deployment'>;
  readonly opeRowsSkipped: Counter<'deployment' | 'reason'>;
  readonly opeChunks: Counter<'deployment'>;
  readonly opeProgress: Gauge<'phase'>;
  readonly opeEstimate: Gauge<'model' | 'estimator' | 'bound'>;
  readonly opeEvaluations: Counter<'model' | 'verdict'>;

  readonly banditRegret: Gauge<'deployment'>;
  readonly banditRegretRatio: Gauge<'deployment'>;
  readonly banditMeanReward: Gauge<'deployment'>;
  readonly banditRounds: Gauge<'deployment'>;

  readonly driftChecks: Counter<'deployment' | 'drift'>;
  readonly driftDetected: Counter<'deployment'>;
  readonly driftStatistic: Gauge<'deployment' | 'statistic'>;
  /** `autopilot_calibration_*{deployment,model}` of driftMonitor's last window (ml/calibration/exposition.ts). */
  readonly calibration: CalibrationExporter;

  readonly canaryChecks: Counter<'model' | 'outcome'>;
  readonly canaryBreaches: Counter<'model'>;
  readonly canaryLastCheck: Gauge<'model'>;
  readonly canaryStarted: Gauge<'model'>;
  readonly canaryFinished: Gauge<'model'>;
  readonly canaryRollbacks: Counter<'model'>;
  readonly canaryWeight: Gauge<'model'>;
  readonly canaryPromotions: Counter<'model'>;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.activityDuration = new Histogram({
      name: 'autopilot_activity_duration_seconds',
      help: 'Activity executions (attempts) by activity type, task queue and outcome (completed, failed, cancelled); _count counts them.',
      labelNames: ['activity', 'task_queue', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.activityFailures = new Counter({
      name: 'autopilot_activity_failures_total',
      help: 'Activity attempts that threw, by activity type, task queue and error name (CancelledFailure included).',
      labelNames: ['activity', 'task_queue', 'error'],
      registers,
    });
    this.activityRunning = new Gauge({ name: 'autopilot_activity_running', help: 'Activities executing now in this worker.', labelNames: ['activity', 'task_queue'], registers });

    this.ppoIterations = new Counter({ name: 'autopilot_ppo_iterations_total', help: 'PPO update iterations completed (activity `update`).', registers });
    this.ppoEpisodicReturn = new Gauge({ name: 'autopilot_ppo_episodic_return', help: 'Mean episodic return of the training episodes of the last PPO update (charts/episodic_return).', registers });
    this.ppoRolloutSteps = new Counter({ name: 'autopilot_ppo_rollout_steps_total', help: 'Environment steps collected by PPO rollouts.', registers });
    this.ppoRolloutEpisodes = new Counter({ name: 'autopilot_ppo_rollout_episodes_total', help: 'Episodes finished in PPO rollouts.', registers });
    this.ppoRolloutReturn = new Gauge({ name: 'autopilot_ppo_rollout_return', help: 'Mean episodic return of the last PPO rollout that finished an episode.', registers });
    this.ppoLoss = new Gauge({ name: 'autopilot_ppo_loss', help: 'Losses of the last PPO update, by loss (policy, value, entropy).', labelNames: ['loss'], registers });
    this.ppoApproxKl = new Gauge({ name: 'autopilot_ppo_approx_kl', help: 'Approximate KL divergence of the last PPO update.', registers });

    this.oumiStep = new Gauge({ name: 'autopilot_oumi_step', help: 'Training step an Oumi stage has reached (from its heartbeats), by stage.', labelNames: ['stage'], registers });
    this.oumiTotalSteps = new Gauge({ name: 'autopilot_oumi_total_steps', help: 'Steps an Oumi stage will run, when known, by stage.', labelNames: ['stage'], registers });
    this.oumiLoss = new Gauge({ name: 'autopilot_oumi_loss', help: 'Last training loss an Oumi stage reported, by stage.', labelNames: ['stage'], registers });
    this.oumiEpoch = new Gauge({ name: 'autopilot_oumi_epoch', help: 'Epoch an Oumi stage has reached, by stage.', labelNames: ['stage'], registers });

    this.opeRowsRead = new Counter({ name: 'autopilot_ope_rows_read_total', help: 'Rewarded decisions OPE read from the registry, by deployment evaluated.', labelNames: ['deployment'], registers });
    this.opeRowsSkipped = new Counter({ name: 'autopilot_ope_rows_skipped_total', help: 'Decisions OPE left out, by deployment and reason.', labelNames: ['deployment', 'reason'], registers });
    this.opeChunks = new Counter({ name: 'autopilot_ope_chunks_scored_total', help: 'OPE chunks scored and stored.', labelNames: ['deployment'], registers });
    this.opeProgress = new Gauge({ name: 'autopilot_ope_progress_ratio', help: 'Progress of the running OPE phase (done / total), from its heartbeats, by phase (score: rows of the chunk, load: chunks).', labelNames: ['phase'], registers });
    this.opeEstimate = new Gauge({ name: 'autopilot_ope_estimate', help: 'Last OPE estimate of a candidate\'s value, by model, estimator and bound (value, lower, upper).', labelNames: ['model', 'estimator', 'bound'], registers });
    this.opeEvaluations = new Counter({ name: 'autopilot_ope_evaluations_total', help: 'OPE evaluations finished, by model and verdict.', labelNames: ['model', 'verdict'], registers });

    this.banditRegret = new Gauge({ name: 'autopilot_bandit_regret', help: 'Estimated cumulative regret of a bandit deployment at its last snapshot.', labelNames: ['deployment'], registers });
    this.banditRegretRatio = new Gauge({ name: 'autopilot_bandit_regret_ratio', help: 'Regret / (rounds × best arm mean) at the last snapshot.', labelNames: ['deployment'], registers });
    this.banditMeanReward = new Gauge({ name: 'autopilot_bandit_mean_reward', help: 'Mean reward per round at the last snapshot.', labelNames: ['deployment'], registers });
    this.banditRounds = new Gauge({ name: 'autopilot_bandit_rounds', help: 'Rounds (rewarded decisions) the learner has seen at the last snapshot.', labelNames: ['deployment'], registers });

    this.driftChecks = new Counter({ name: 'autopilot_drift_checks_total', help: 'Drift checks, by deployment and result (drift="true" when drift was found).', labelNames: ['deployment', 'drift'], registers });
    this.driftDetected = new Counter({ name: 'autopilot_drift_detected_total', help: 'Drift checks that found drift, by deployment.', labelNames: ['deployment'], registers });
    this.calibration = new CalibrationExporter((name, help, labelNames) => new Gauge({ name, help, labelNames, registers }));
    this.driftStatistic = new Gauge({ name: 'autopilot_drift_statistic', help: 'Statistics of the last drift check, by deployment and statistic name.', labelNames: ['deployment', 'statistic'], registers });

    this.canaryChecks = new Counter({ name: 'autopilot_canary_checks_total', help: 'Canary analysis checks, by model and outcome (pass, fail, inconclusive).', labelNames: ['model', 'outcome'], registers });
    this.canaryBreaches = new Counter({ name: 'autopilot_canary_breaches_total', help: 'Canary checks that demanded an immediate rollback (burn rate, ejection, failed webhook).', labelNames: ['model'], registers });
    this.canaryLastCheck = new Gauge({ name: 'autopilot_canary_last_check_timestamp_seconds', help: 'Unix time of the last canary check, by model.', labelNames: ['model'], registers });
    // A canary is in progress while max(started) > max(finished) over the workers (any worker may run any step).
    this.canaryStarted = new Gauge({ name: 'autopilot_canary_started_timestamp_seconds', help: 'Unix time a canary of this model was last initialized (by this worker), by model.', labelNames: ['model'], registers });
    this.canaryFinished = new Gauge({ name: 'autopilot_canary_finished_timestamp_seconds', help: 'Unix time a canary of this model was last rolled back or promoted (by this worker), by model.', labelNames: ['model'], registers });
    this.canaryWeight = new Gauge({ name: 'autopilot_canary_weight_percent', help: 'Percent of traffic (0-100) routed to the canary, as last set by the canary workflow (0 after rollback or promotion), by model.', labelNames: ['model'], registers });
    this.canaryRollbacks = new Counter({ name: 'autopilot_canary_rollbacks_total', help: 'Canary rollbacks, by model.', labelNames: ['model'], registers });
    this.canaryPromotions = new Counter({ name: 'autopilot_canary_promotions_total', help: 'Canary promotions, by model.', labelNames: ['model'], registers });

    // The latest workloadForecast at scrape time (trackForecasts; the rollout worker, which runs the workflow).
    const source = (): (() => Promise<{ deployment: string; quantile: string; value: number }[]>) | null => this.forecastSource;
    this.forecastRequests = new Gauge({
      name: 'autopilot_forecast_requests_per_second',
      help: 'Forecast request rate of a deployment now, from its latest workloadForecast (hourly): the interval bounds and the mean, by quantile.',
      labelNames: ['deployment', 'quantile'],
      registers,
      async collect() {
        const read = source();
        if (read === null) return;
        const values = await read();
        this.reset();
        for (const v of values) this.set({ deployment: v.deployment, quantile: v.quantile }, v.value);
      },
    });

    // The decision log's day partitions at scrape time (trackDecisionLog; the rollout worker, which runs retention).
    // Both gauges below read the same query: one scrape collects them together, so they share its read.
    let inFlight: Promise<{ table: string; aheadSeconds: number; defaultRows: number }[]> | null = null;
    const health = () => {
      const source = this.partitionSource;
      if (source === null) return null;
      inFlight ??= source().finally(() => {
        inFlight = null;
      });
      return inFlight;
    };
    this.decisionLogAhead = new Gauge({
      name: 'autopilot_decision_log_partitions_ahead_seconds',
      help: 'How far ahead of now day partitions of the decision log table exist (end of the last one − now); the retention workflow keeps about 7 days.',
      labelNames: ['table'],
      registers,
      async collect() {
        const values = await health();
        if (values === null) return;
        this.reset();
        for (const v of values) this.set({ table: v.table }, v.aheadSeconds);
      },
    });
    this.decisionLogDefaultRows = new Gauge({
      name: 'autopilot_decision_log_default_partition_rows',
      help: 'Rows of the decision log table waiting in its DEFAULT partition (a day with no partition yet; the next retention run moves them into their day).',
      labelNames: ['table'],
      registers,
      async collect() {
        const values = await health();
        if (values === null) return;
        this.reset();
        for (const v of values) this.set({ table: v.table }, v.defaultRows);
      },
    });

    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  readonly decisionLogAhead: Gauge<'table'>;
  readonly decisionLogDefaultRows: Gauge<'table'>;
  private partitionSource: (() => Promise<{ table: string; aheadSeconds: number; defaultRows: number }[]>) | null = null;

  /** Reads `source` at each scrape into the decision log partition gauges (decision-log/partitions.ts partitionHealth). */
  trackDecisionLog(source: () => Promise<{ table: string; aheadSeconds: number; defaultRows: number }[]>): void {
    this.partitionSource = source;
  }

  readonly forecastRequests: Gauge<'deployment' | 'quantile'>;
  private forecastSource: (() => Promise<{ deployment: string; quantile: string; value: number }[]>) | null = null;

  /** Reads `source` at each scrape into autopilot_forecast_requests_per_second (registry/optimisers.ts forecastGaugeValues). */
  trackForecasts(source: () => Promise<{ deployment: string; quantile: string; value: number }[]>): void {
    this.forecastSource = source;
  }
}
