import type { Context } from '@temporalio/activity';
import { parseExposition, sampleValue } from '../../infra/grafana/exposition';
import { activityMetricsInterceptor } from './interceptor';
import { observeResult } from './observers';
import { WorkerMetrics } from './worker-metrics';

const scrape = async (m: WorkerMetrics) => parseExposition(await m.registry.metrics());

/** What the interceptor reads of an activity's Context: its type and its heartbeat. */
function context(activityType: string, sent: unknown[]): Context {
  return { info: { activityType }, heartbeat: (d?: unknown) => sent.push(d) } as unknown as Context;
}

describe('worker metrics: the activity interceptor', () => {
  it('times completed and failed executions by activity and counts failures by error name', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    const factory = activityMetricsInterceptor(m, 'rollout');
    const ok = factory(context('driftCheck', [])).inbound!;
    await ok.execute!({ args: [{ deployment: 'd1' }], headers: {} }, async () => ({ drift: true, reasons: ['x'], metrics: { psi: 0.4, ks: 0.2 } }));
    const bad = factory(context('canaryCheck', [])).inbound!;
    class GateError extends Error { override name = 'GateError'; }
    await expect(bad.execute!({ args: [{ model: 'm' }], headers: {} }, async () => { throw new GateError('boom'); })).rejects.toThrow('boom');
    const e = await scrape(m);
    expect(sampleValue(e, 'autopilot_activity_duration_seconds_count', { activity: 'driftCheck', outcome: 'completed', task_queue: 'rollout' })).toBe(1);
    expect(sampleValue(e, 'autopilot_activity_duration_seconds_count', { activity: 'canaryCheck', outcome: 'failed' })).toBe(1);
    expect(sampleValue(e, 'autopilot_activity_failures_total', { activity: 'canaryCheck', error: 'GateError' })).toBe(1);
    expect(sampleValue(e, 'autopilot_activity_running', { activity: 'canaryCheck' })).toBe(0);
    // the result fed the drift metrics; the failed check fed no canary metric
    expect(sampleValue(e, 'autopilot_drift_detected_total', { deployment: 'd1' })).toBe(1);
    expect(sampleValue(e, 'autopilot_drift_statistic', { deployment: 'd1', statistic: 'psi' })).toBe(0.4);
    expect(sampleValue(e, 'autopilot_canary_checks_total', { model: 'm', outcome: 'fail' })).toBeNull();
  });

  it('reads Oumi progress from heartbeats and still sends them on unchanged', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    const sent: unknown[] = [];
    const ctx = context('oumiTrain', sent);
    const inbound = activityMetricsInterceptor(m, 'oumi')(ctx).inbound!;
    const beat = { stage: 'sft', step: 7, totalSteps: 20, loss: 1.25, epoch: 0.5 };
    await inbound.execute!({ args: [{ stage: 'sft' }], headers: {} }, async () => {
      ctx.heartbeat(beat);
      const e = await scrape(m);
      expect(sampleValue(e, 'autopilot_oumi_step', { stage: 'sft' })).toBe(7);
      expect(sampleValue(e, 'autopilot_oumi_loss', { stage: 'sft' })).toBe(1.25);
      return { stage: 'sft', progress: { step: 20, totalSteps: 20, loss: 0.5, epoch: 1 } };
    });
    expect(sent).toEqual([beat]);
    const e = await scrape(m);
    expect(sampleValue(e, 'autopilot_oumi_step', { stage: 'sft' })).toBe(20);
    expect(sampleValue(e, 'autopilot_oumi_loss', { stage: 'sft' })).toBe(0.5);
  });
});

describe('worker metrics: activity results', () => {
  it('PPO updates and rollouts, OPE estimates, bandit regret, canary rollbacks', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    observeResult(m, 'rollout', {}, { steps: 128, episodes: 3, episodicReturnMean: 4.5 });
    observeResult(m, 'update', {}, { summary: { iteration: 1, episodicReturn: 5, policyLoss: -0.1, valueLoss: 2, entropy: 0.7, approxKl: 0.01 } });
    observeResult(m, 'update', {}, { summary: { iteration: 2, episodicReturn: null } });
    observeResult(m, 'opeEstimate', { prepared: { config: { candidate: { model: 'rag' } } } }, { verdict: 'pass', estimates: { dr: { value: 0.6, lower: 0.5, upper: 0.7 } } });
    observeResult(m, 'banditSnapshotStep', { deployment: 'b' }, { estimate: { rounds: 100, regret: 3, regretRatio: 0.05, meanReward: 0.6 } });
    observeResult(m, 'canaryInitialize', { model: 'rag' }, {});
    observeResult(m, 'canaryRollback', { model: 'rag' }, {});
    observeResult(m, 'update', {}, 'not an object'); // ignored, never thrown
    const e = await scrape(m);
    expect(sampleValue(e, 'autopilot_ppo_iterations_total')).toBe(2);
    expect(sampleValue(e, 'autopilot_ppo_episodic_return')).toBe(5); // a null return leaves the last one
    expect(sampleValue(e, 'autopilot_ppo_rollout_steps_total')).toBe(128);
    expect(sampleValue(e, 'autopilot_ppo_loss', { loss: 'value' })).toBe(2);
    expect(sampleValue(e, 'autopilot_ope_estimate', { model: 'rag', estimator: 'dr', bound: 'lower' })).toBe(0.5);
    expect(sampleValue(e, 'autopilot_ope_evaluations_total', { model: 'rag', verdict: 'pass' })).toBe(1);
    expect(sampleValue(e, 'autopilot_bandit_regret', { deployment: 'b' })).toBe(3);
    expect(sampleValue(e, 'autopilot_canary_rollbacks_total', { model: 'rag' })).toBe(1);
    expect(sampleValue(e, 'autopilot_canary_finished_timestamp_seconds', { model: 'rag' })).toBeGreaterThanOrEqual(sampleValue(e, 'autopilot_canary_started_timestamp_seconds', { model: 'rag' })!);
  });
});

describe('worker metrics: the forecast gauge', () => {
  it('exports nothing until a forecast source is tracked, then the source\'s values at each scrape', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    expect(await m.registry.metrics()).not.toMatch(/^autopilot_forecast_requests_per_second\{/m);
    let mean = 12.5;
    m.trackForecasts(async () => [
      { deployment: 'router', quantile: '0.025', value: mean - 4 },
      { deployment: 'router', quantile: '0.5', value: mean },
      { deployment: 'router', quantile: '0.975', value: mean + 4 },
    ]);
    let text = await m.registry.metrics();
    expect(text).toContain('autopilot_forecast_requests_per_second{deployment="router",quantile="0.5"} 12.5');
    expect(text).toContain('autopilot_forecast_requests_per_second{deployment="router",quantile="0.975"} 16.5');
    mean = 20;
    text = await m.registry.metrics();
    expect(text).toContain('autopilot_forecast_requests_per_second{deployment="router",quantile="0.5"} 20');
  });
});

describe('worker metrics: the decision log partition gauges', () => {
  it('exports nothing until a source is tracked, then how far ahead partitions exist and the rows waiting in the default partitions', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    expect(await m.registry.metrics()).not.toMatch(/^autopilot_decision_log_partitions_ahead_seconds\{/m);
    let ahead = 7 * 86400;
    m.trackDecisionLog(async () => [
      { table: 'decisions', aheadSeconds: ahead, defaultRows: 0 },
      { table: 'rewards', aheadSeconds: ahead, defaultRows: 3 },
    ]);
    let text = await m.registry.metrics();
    expect(text).toContain('autopilot_decision_log_partitions_ahead_seconds{table="decisions"} 604800');
    expect(text).toContain('autopilot_decision_log_default_partition_rows{table="rewards"} 3');
    ahead = -60;
    text = await m.registry.metrics();
    expect(text).toContain('autopilot_decision_log_partitions_ahead_seconds{table="rewards"} -60');
  });
});
