/**
 * Autopilot's Grafana dashboards as code (@grafana/grafana-foundation-sdk, typed builders); written as
 * JSON into infra/grafana/dashboards/ by ./build.ts (`make dashboards`) and provisioned by the Compose
 * stack. Every query reads metrics the processes export (inference/metrics.ts, activities/metrics/,
 * the Temporal SDK's exporter through workers/metrics.ts); infra/grafana/dashboards.int.test.ts checks
 * each name against a real inference server and worker.
 *
 *   (a) autopilot-episodes — seed 002 §17: reward per episode with moving average and gate breaches,
 *       quality vs cost, variant breakdown, latency p50/p95 canary vs baseline
 *   (b) autopilot-serving  — decide RPS, p50/p99 by model/arm, errors, fallbacks, swaps, canary weight,
 *       decision-log health
 *   (c) autopilot-learning — bandit regret and arm shares, drift statistics, Oumi loss, OPE estimates
 *       with intervals, PPO, workers
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import { DashboardBuilder, RowBuilder, type Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as BarGaugeBuilder } from '@grafana/grafana-foundation-sdk/bargauge';
import { PanelBuilder as XYChartBuilder, SeriesMapping, XYSeriesConfigBuilder } from '@grafana/grafana-foundation-sdk/xychart';

/** The provisioned datasource (infra/compose/grafana-datasources.yaml). */
export const DATASOURCE = { type: 'prometheus', uid: 'prometheus' };

const WIDTH = 24;

/** Lays panels out left to right, `w` wide and `h` high, wrapping at the dashboard's 24 columns. */
class Layout {
  private x = 0;
  private y = 0;
  private rowH = 0;
  next(w: number, h: number): { x: number; y: number; w: number; h: number } {
    if (this.x + w > WIDTH) this.row();
    const pos = { x: this.x, y: this.y, w, h };
    this.x += w;
    this.rowH = Math.max(this.rowH, h);
    return pos;
  }
  row(): number {
    if (this.x > 0) {
      this.y += this.rowH;
      this.x = 0;
      this.rowH = 0;
    }
    return this.y++;
  }
}

const q = (expr: string, legend: string, refId: string, instant = false) => {
  const b = new DataqueryBuilder().expr(expr).legendFormat(legend).refId(refId).datasource(DATASOURCE);
  return instant ? b.instant().format('table' as never) : b.range();
};

type Query = [expr: string, legend: string];

interface PanelSpec {
  title: string;
  description: string;
  unit?: string;
  queries: Query[];
  w?: number;
  h?: number;
}

class Board {
  readonly builder: DashboardBuilder;
  private readonly layout = new Layout();

  constructor(uid: string, title: string, description: string, tags: string[]) {
    this.builder = new DashboardBuilder(title)
      .uid(uid)
      .description(description)
      .tags(['autopilot', ...tags])
      .refresh('30s')
      .time({ from: 'now-6h', to: 'now' })
      .timezone('utc')
      .tooltip(1 as never) // shared crosshair
      .readonly();
  }

  row(title: string): this {
    const y = this.layout.row();
    this.builder.withRow(new RowBuilder(title).gridPos({ x: 0, y, w: WIDTH, h: 1 }));
    return this;
  }

  private targets<T extends { withTarget(t: DataqueryBuilder): T }>(panel: T, queries: Query[], instant = false): T {
    queries.forEach(([expr, legend], i) => panel.withTarget(q(expr, legend, String.fromCharCode(65 + i), instant)));
    return panel;
  }

  timeseries(p: PanelSpec & { bars?: boolean; stack?: boolean; min?: number; max?: number }): this {
    const panel = new TimeseriesBuilder()
      .title(p.title)
      .description(p.description)
      .datasource(DATASOURCE)
      .gridPos(this.layout.next(p.w ?? 12, p.h ?? 8))
      .unit(p.unit ?? 'short')
      .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
      .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
    if (p.bars) panel.drawStyle(common.GraphDrawStyle.Bars).fillOpacity(80);
    if (p.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)).fillOpacity(40);
    if (p.min !== undefined) panel.min(p.min);
    if (p.max !== undefined) panel.max(p.max);
    this.builder.withPanel(this.targets(panel, p.queries));
    return this;
  }

  stat(p: PanelSpec): this {
    const panel = new StatBuilder()
      .title(p.title)
      .description(p.description)
      .datasource(DATASOURCE)
      .gridPos(this.layout.next(p.w ?? 6, p.h ?? 4))
      .unit(p.unit ?? 'short');
    this.builder.withPanel(this.targets(panel, p.queries));
    return this;
  }

  bars(p: PanelSpec): this {
    const panel = new BarGaugeBuilder()
      .title(p.title)
      .description(p.description)
      .datasource(DATASOURCE)
      .gridPos(this.layout.next(p.w ?? 12, p.h ?? 8))
      .unit(p.unit ?? 'short')
      .orientation(common.VizOrientation.Horizontal);
    this.builder.withPanel(this.targets(panel, p.queries, true));
    return this;
  }

  /** An XY scatter of two instant queries joined on `by` (x = the first query, y = the second). */
  scatter(p: PanelSpec & { by: string; x: string; y: string }): this {
    const panel = new XYChartBuilder()
      .title(p.title)
      .description(p.description)
      .datasource(DATASOURCE)
      .gridPos(this.layout.next(p.w ?? 12, p.h ?? 8))
      .mapping(SeriesMapping.Manual)
      .series([new XYSeriesConfigBuilder().name({ fixed: p.title }).x({ matcher: { id: 'byName', options: p.x } }).y({ matcher: { id: 'byName', options: p.y } })])
      .pointSize({ fixed: 9 })
      .withTransformation({ id: 'merge', options: {} })
      .withTransformation({ id: 'organize', options: { renameByName: { 'Value #A': p.x, 'Value #B': p.y }, indexByName: { [p.by]: 0 } } });
    this.builder.withPanel(this.targets(panel, p.queries, true));
    return this;
  }

  build(): Dashboard {
    return this.builder.build();
  }
}

/** Mean reward per arm over a window: the gauge-sum's change over the counter's increase. */
const meanReward = (by: string, w: string, sel = '') =>
  `sum by (${by}) (delta(autopilot_rewards_sum${sel}[${w}])) / sum by (${by}) (increase(autopilot_rewards_received_total${sel}[${w}]))`;
const decideLatency = (quantile: number, by: string, w = '5m') =>
  `histogram_quantile(${quantile}, sum by (le, ${by}) (rate(autopilot_inference_request_duration_seconds_bucket{route="decide"}[${w}])))`;
const share = (metric: string, sel: string, by: string, of: string, w = '5m') =>
  `sum by (${by}) (rate(${metric}${sel}[${w}])) / ignoring(arm) group_left sum by (${of}) (rate(${metric}${sel}[${w}]))`;

export function episodesDashboard(): Dashboard {
  return new Board(
    'autopilot-episodes',
    'Autopilot · Episodes and rewards (seed 002 §17)',
    'Reward per episode with a moving average and gate breaches, quality vs cost per arm, the variant breakdown and decide latency of canary vs baseline.',
    ['seed-002', 'rewards'],
  )
    .row('Reward per episode')
    .timeseries({
      title: 'Training reward per episode (PPO) and moving average',
      description: 'Mean episodic return of the episodes each PPO rollout finished, and its 30-minute moving average.',
      queries: [
        ['autopilot_ppo_rollout_return', 'rollout return'],
        ['avg_over_time(autopilot_ppo_rollout_return[30m])', '30m moving average'],
        ['autopilot_ppo_episodic_return', 'update: episodic return'],
      ],
    })
    .timeseries({
      title: 'Served reward per arm and 1 h moving average',
      description: 'Mean reward of the decisions rewarded in each 5-minute window, by deployment and arm, and its 1-hour moving average (a subquery).',
      queries: [
        [meanReward('deployment, arm', '5m'), '{{deployment}} {{arm}}'],
        [`avg_over_time((${meanReward('deployment, arm', '5m')})[1h:5m])`, '{{deployment}} {{arm}} (1h avg)'],
      ],
    })
    .timeseries({
      title: 'Gate breaches',
      description: 'Canary checks that demanded a rollback (breach) and checks that failed their gates, per 5 minutes, by model; rollbacks as they happen.',
      bars: true,
      queries: [
        ['sum by (model) (increase(autopilot_canary_breaches_total[5m]))', '{{model}} breach'],
        ['sum by (model) (increase(autopilot_canary_checks_total{outcome="fail"}[5m]))', '{{model}} failed check'],
        ['sum by (model) (increase(autopilot_canary_rollbacks_total[5m]))', '{{model}} rollback'],
      ],
    })
    .scatter({
      title: 'Quality vs cost per arm',
      description: 'Each arm as a point: its mean cost component (x) against its mean quality component (y) over the last hour (reward components of the deployment\'s reward spec). The Pareto frontier is not drawn: neither PromQL nor the panel computes it.',
      by: 'arm',
      x: 'cost',
      y: 'quality',
      queries: [
        ['sum by (arm) (delta(autopilot_rewards_component_sum{component=~".*cost.*"}[1h])) / sum by (arm) (increase(autopilot_rewards_component_received_total{component=~".*cost.*"}[1h]))', '{{arm}}'],
        ['sum by (arm) (delta(autopilot_rewards_component_sum{component!~".*cost.*"}[1h])) / sum by (arm) (increase(autopilot_rewards_component_received_total{component!~".*cost.*"}[1h]))', '{{arm}}'],
      ],
    })
    .row('Variant breakdown')
    .timeseries({
      title: 'Share of each action value',
      description: 'Fraction of each deployment\'s decisions that chose each arm (action value), stacked to 1.',
      unit: 'percentunit',
      stack: true,
      min: 0,
      queries: [[share('autopilot_decisions_total', '', 'deployment, arm', 'deployment'), '{{deployment}} {{arm}}']],
    })
    .bars({
      title: 'Conditional return per arm (last hour)',
      description: 'Mean reward of the decisions that chose each arm, over the last hour.',
      queries: [[meanReward('deployment, arm', '1h'), '{{deployment}} {{arm}}']],
    })
    .row('Latency per episode')
    .timeseries({
      title: 'Decide latency p50 / p95: canary vs baseline',
      description: 'Decide latency quantiles by arm (champion = baseline, canary, and bandit arms), over 5-minute windows.',
      unit: 's',
      w: 24,
      queries: [
        [decideLatency(0.5, 'arm'), '{{arm}} p50'],
        [decideLatency(0.95, 'arm'), '{{arm}} p95'],
      ],
    })
    .build();
}

export function servingDashboard(): Dashboard {
  return new Board(
    'autopilot-serving',
    'Autopilot · Serving',
    'Decide traffic, latency, errors, fallbacks, swaps, canary weight and the decision log of the inference servers.',
    ['serving'],
  )
    .row('Overview')
    .stat({ title: 'Decide RPS', description: 'Decide requests per second, all servers.', unit: 'reqps', queries: [['sum(rate(autopilot_inference_request_duration_seconds_count{route="decide"}[1m]))', 'decide/s']] })
    .stat({ title: 'Servers up', description: 'Inference servers Prometheus scrapes successfully.', queries: [['sum(up{job="autopilot-inference"})', 'up']] })
    .stat({ title: 'Deployments served', description: 'Deployments served, by kind (max over servers).', queries: [['max by (kind) (autopilot_deployments_served)', '{{kind}}']] })
    .stat({ title: 'Models loaded', description: 'ONNX sessions loaded, all servers.', queries: [['sum(autopilot_models_loaded)', 'sessions']] })
    .row('Traffic and latency')
    .timeseries({
      title: 'Decisions per second by deployment',
      description: 'Decisions served per second, by deployment (fallback decisions included).',
      unit: 'reqps',
      queries: [
        ['sum by (deployment) (rate(autopilot_decisions_total[1m]))', '{{deployment}}'],
        ['sum(rate(autopilot_inference_request_duration_seconds_count{route="decide"}[1m]))', 'all decide requests'],
      ],
    })
    .timeseries({
      title: 'Decide latency p50 / p99 by model and arm',
      description: 'The latency histogram carries model/version/arm (no deployment label): quantiles by model and arm; the SLO is p99 < 10 ms.',
      unit: 's',
      queries: [
        [decideLatency(0.5, 'model, arm'), '{{model}} {{arm}} p50'],
        [decideLatency(0.99, 'model, arm'), '{{model}} {{arm}} p99'],
      ],
    })
    .row('Errors, fallbacks, swaps')
    .timeseries({
      title: 'Errors by route and status',
      description: 'Responses with status >= 400 per second; the availability SLO counts decide 5xx only.',
      unit: 'reqps',
      queries: [
        ['sum by (route, status) (rate(autopilot_inference_errors_total[5m]))', '{{route}} {{status}}'],
        ['sum(rate(autopilot_inference_errors_total{route="decide",status=~"5.."}[5m])) / sum(rate(autopilot_inference_request_duration_seconds_count{route="decide"}[5m]))', 'decide 5xx ratio'],
      ],
    })
    .timeseries({
      title: 'Errors by deployment',
      description: 'Responses with status >= 400 per second by the deployment they were routed to ("unknown": a malformed body or a name not served here).',
      unit: 'reqps',
      queries: [['sum by (deployment, status) (rate(autopilot_inference_errors_total[5m]))', '{{deployment}} {{status}}']],
    })
    .timeseries({
      title: 'Fallbacks by deployment and reason',
      description: 'Decisions answered with the static fallback action, per second.',
      unit: 'reqps',
      queries: [['sum by (deployment, reason) (rate(autopilot_fallbacks_total[5m]))', '{{deployment}} {{reason}}']],
    })
    .timeseries({
      title: 'Swaps and model loads',
      description: 'Atomic swaps of a deployment\'s serving state and model loads by outcome, per 5 minutes.',
      bars: true,
      queries: [
        ['sum by (deployment) (increase(autopilot_model_swaps_total[5m]))', 'swap {{deployment}}'],
        ['sum by (outcome) (increase(autopilot_model_loads_total[5m]))', 'load {{outcome}}'],
        ['sum by (deployment, reason) (increase(autopilot_canary_ejections_total[5m]))', 'canary ejected {{deployment}} {{reason}}'],
      ],
    })
    .timeseries({
      title: 'Canary weight over time',
      description: 'Percent of traffic routed to the canary, as the canary workflow last set it (0 after rollback or promotion).',
      unit: 'percent',
      min: 0,
      max: 100,
      queries: [['max by (model) (autopilot_canary_weight_percent)', '{{model}}']],
    })
    .row('Decision log')
    .timeseries({
      title: 'Decision rows: written, spilled, rejected, lost',
      description: 'Rows per second written to the registry, spilled to the local journal, refused by the database, and lost (must stay 0).',
      unit: 'rowsps' as string,
      queries: [
        ['sum(rate(autopilot_decision_log_rows_written_total[5m]))', 'written'],
        ['sum(rate(autopilot_decision_log_rows_spilled_total[5m]))', 'spilled'],
        ['sum(rate(autopilot_decision_log_rows_rejected_total[5m]))', 'rejected'],
        ['sum(rate(autopilot_decision_log_rows_lost_total[5m]))', 'lost'],
      ],
    })
    .timeseries({
      title: 'Rows at risk: queue and journal',
      description: 'Rows waiting in memory (lost if the process dies; the writer spills at 20000) and rows in the journal not yet replayed, by instance.',
      queries: [
        ['autopilot_decision_log_queue_depth', 'queue {{instance}}'],
        ['autopilot_decision_log_journal_pending', 'journal {{instance}}'],
      ],
    })
    .timeseries({
      title: 'Retention: day partitions ahead, rows in the default partition',
      description: 'Days of decision log partitions left ahead of now (the retention workflow keeps about 7; the alert fires under 2) and rows waiting in a DEFAULT partition, by table (the rollout worker reads them at each scrape).',
      queries: [
        ['min by (table) (autopilot_decision_log_partitions_ahead_seconds) / 86400', 'days ahead {{table}}'],
        ['max by (table) (autopilot_decision_log_default_partition_rows)', 'default rows {{table}}'],
      ],
    })
    .build();
}

export function learningDashboard(): Dashboard {
  return new Board(
    'autopilot-learning',
    'Autopilot · Learning',
    'Bandit regret and arm shares, drift, Oumi training, off-policy evaluation, PPO and the workers that run them.',
    ['learning'],
  )
    .row('Bandits')
    .timeseries({
      title: 'Bandit regret',
      description: 'Estimated cumulative regret at each snapshot (banditSnapshot workflow), by deployment.',
      queries: [['autopilot_bandit_regret', '{{deployment}} regret']],
    })
    .timeseries({
      title: 'Regret ratio and mean reward',
      description: 'Regret / (rounds × best arm mean) and the mean reward per round at each snapshot.',
      queries: [
        ['autopilot_bandit_regret_ratio', '{{deployment}} regret ratio'],
        ['autopilot_bandit_mean_reward', '{{deployment}} mean reward'],
      ],
    })
    .timeseries({
      title: 'Arm shares (bandit deployments)',
      description: 'Fraction of each bandit deployment\'s decisions per arm.',
      unit: 'percentunit',
      stack: true,
      min: 0,
      queries: [[share('autopilot_decisions_total', '{version="bandit"}', 'deployment, arm', 'deployment'), '{{deployment}} {{arm}}']],
    })
    .timeseries({
      title: 'Reward per arm (bandit deployments)',
      description: 'Mean reward of each arm\'s rewarded decisions per 5 minutes, and rewards received per second.',
      queries: [
        [meanReward('deployment, arm', '5m', '{version="bandit"}'), '{{deployment}} {{arm}} mean'],
        ['sum by (deployment, arm) (rate(autopilot_rewards_received_total{version="bandit"}[5m]))', '{{deployment}} {{arm}} rewards/s'],
      ],
    })
    .row('Model selection (seed 001 use case 1)')
    .timeseries({
      title: 'Model selection: cost and quality per arm',
      description: 'The model-router bandit of make demo (configs/bandits/model-selection.yaml): mean cost in USD and mean graded quality of each model\'s answers per 5 minutes, from the reward components. `autopilot traffic --scenario model-selection` prints the saving against always premium.',
      queries: [
        ['sum by (arm) (delta(autopilot_rewards_component_sum{deployment="model-router", component="cost_usd"}[5m])) / sum by (arm) (increase(autopilot_rewards_component_received_total{deployment="model-router", component="cost_usd"}[5m]))', '{{arm}} cost USD'],
        ['sum by (arm) (delta(autopilot_rewards_component_sum{deployment="model-router", component="quality"}[5m])) / sum by (arm) (increase(autopilot_rewards_component_received_total{deployment="model-router", component="quality"}[5m]))', '{{arm}} quality'],
      ],
    })
    .timeseries({
      title: 'Model selection: share of requests per model',
      description: 'Fraction of model-router\'s decisions that went to each model (cheap, mid, premium).',
      unit: 'percentunit',
      stack: true,
      min: 0,
      queries: [[share('autopilot_decisions_total', '{deployment="model-router"}', 'deployment, arm', 'deployment'), '{{arm}}']],
    })
    .row('Drift')
    .timeseries({
      title: 'Drift statistics',
      description: 'The statistics of the last drift check, by deployment and statistic.',
      queries: [['autopilot_drift_statistic', '{{deployment}} {{statistic}}']],
    })
    .timeseries({
      title: 'Drift detections and checks',
      description: 'Checks per hour by result; any drift=true check is a detection.',
      bars: true,
      queries: [
        ['sum by (deployment) (increase(autopilot_drift_detected_total[1h]))', '{{deployment}} drift detected'],
        ['sum by (deployment, drift) (increase(autopilot_drift_checks_total[1h]))', '{{deployment}} checks drift={{drift}}'],
      ],
    })
    .row('Accuracy and calibration')
    .timeseries({
      title: 'Calibration error and Brier score',
      description: 'Expected calibration error (alert above 0.1), Brier score and log loss of each model\'s predictions vs what was realised: driftMonitor\'s last window of logged decisions (bandits, predictors) and online models\' rolling window of labels.',
      queries: [
        ['max by (deployment, model) (autopilot_calibration_ece)', '{{deployment}} {{model}} ECE'],
        ['max by (deployment, model) (autopilot_calibration_brier)', '{{deployment}} {{model}} Brier'],
        ['max by (deployment, model) (autopilot_calibration_log_loss)', '{{deployment}} {{model}} log loss'],
      ],
    })
    .timeseries({
      title: 'Predicted vs realised: correlation',
      description: 'Pearson correlation of predicted vs realised reward, per decision and over the reliability bins (seed 001 KPI: > 0.7).',
      min: -1,
      max: 1,
      queries: [
        ['max by (deployment, model) (autopilot_calibration_binned_correlation)', '{{deployment}} {{model}} binned r'],
        ['max by (deployment, model) (autopilot_calibration_correlation)', '{{deployment}} {{model}} r'],
      ],
    })
    .timeseries({
      title: 'Reliability table',
      description: 'Mean realised value per bin of the prediction (label bin = the bin\'s upper edge): on the diagonal when calibrated.',
      queries: [['max by (deployment, model, bin) (autopilot_calibration_reliability{stat="observed"})', '{{deployment}} {{model}} ≤{{bin}} observed']],
    })
    .row('Oumi training')
    .timeseries({
      title: 'Oumi loss',
      description: 'Training loss each Oumi stage reported last (from its heartbeats), by stage.',
      queries: [['autopilot_oumi_loss', '{{stage}} loss']],
    })
    .timeseries({
      title: 'Oumi progress',
      description: 'Step reached over steps planned, by stage; failed Oumi activity attempts per hour.',
      unit: 'percentunit',
      queries: [
        ['autopilot_oumi_step / autopilot_oumi_total_steps', '{{stage}} progress'],
        ['sum by (activity) (increase(autopilot_activity_failures_total{activity=~"oumiTrain|policyTrain"}[1h]))', '{{activity}} failures/h'],
      ],
    })
    .timeseries({
      title: 'Human override rate (text policy)',
      description: 'Of the reviewed decisions the text policy approved, the share reviewers flagged over a day (POST /v1/feedback; seed 003 target < 10%), and reviews per hour by served and given verdict.',
      queries: [
        ['sum by (deployment) (increase(autopilot_policy_feedback_total{served="APPROVE", verdict="FLAG"}[1d])) / sum by (deployment) (increase(autopilot_policy_feedback_total{served="APPROVE"}[1d]))', '{{deployment}} override rate'],
        ['sum by (deployment, served, verdict) (increase(autopilot_policy_feedback_total[1h]))', '{{deployment}} served {{served}} → {{verdict}} /h'],
      ],
    })
    .row('Off-policy evaluation')
    .timeseries({
      title: 'OPE estimates with intervals',
      description: 'The candidate\'s estimated value per estimator with the lower and upper bounds of its interval (last evaluation).',
      queries: [['autopilot_ope_estimate', '{{model}} {{estimator}} {{bound}}']],
    })
    .timeseries({
      title: 'OPE progress',
      description: 'Rows read per second, rows skipped by reason, and the loading phase\'s progress.',
      queries: [
        ['sum by (deployment) (rate(autopilot_ope_rows_read_total[5m]))', '{{deployment}} rows/s'],
        ['sum by (reason) (rate(autopilot_ope_rows_skipped_total[5m]))', 'skipped {{reason}}'],
        ['autopilot_ope_progress_ratio', 'phase {{phase}}'],
      ],
    })
    .row('PPO')
    .timeseries({
      title: 'PPO iterations and return',
      description: 'Update iterations per minute and the last update\'s mean episodic return.',
      queries: [
        ['sum(rate(autopilot_ppo_iterations_total[5m])) * 60', 'iterations/min'],
        ['autopilot_ppo_episodic_return', 'episodic return'],
      ],
    })
    .timeseries({
      title: 'PPO losses and KL',
      description: 'Losses of the last update by loss, and the approximate KL divergence.',
      queries: [
        ['autopilot_ppo_loss', '{{loss}}'],
        ['autopilot_ppo_approx_kl', 'approx KL'],
      ],
    })
    .row('Workers')
    .timeseries({
      title: 'Activities per second and failures',
      description: 'Activity executions per second by activity, and failures by activity and error.',
      queries: [
        ['sum by (activity) (rate(autopilot_activity_duration_seconds_count[5m]))', '{{activity}}'],
        ['sum by (activity, error) (rate(autopilot_activity_failures_total[5m]))', 'failed {{activity}} {{error}}'],
      ],
    })
    .timeseries({
      title: 'Activity duration p95 and task slots',
      description: 'p95 activity duration by activity (Autopilot\'s histogram) and the Temporal SDK\'s free activity/workflow task slots per worker.',
      unit: 's',
      queries: [
        ['histogram_quantile(0.95, sum by (le, activity) (rate(autopilot_activity_duration_seconds_bucket[15m])))', '{{activity}} p95'],
        ['sum by (instance, worker_type) (temporal_worker_task_slots_available)', 'free slots {{instance}} {{worker_type}}'],
        ['sum by (job) (up{job="autopilot-worker"})', 'workers up'],
      ],
    })
    .build();
}

/** File name (under infra/grafana/dashboards/) → dashboard. */
export function allDashboards(): Record<string, Dashboard> {
  return {
    'autopilot-episodes.json': episodesDashboard(),
    'autopilot-serving.json': servingDashboard(),
    'autopilot-learning.json': learningDashboard(),
  };
}

/** The PromQL of every panel target, with where it is (for the metric-existence check). */
export function panelQueries(d: Dashboard): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  for (const p of d.panels ?? []) {
    if (!('targets' in p) || !p.targets) continue;
    for (const t of p.targets as { expr?: string }[]) if (typeof t.expr === 'string') out.push({ panel: p.title ?? '(untitled)', expr: t.expr });
  }
  return out;
}
