import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DASHBOARD_DIR, differences, renderDashboards } from './build';
import { missingMetrics, dashboardMetricNames } from './check';
import { allDashboards, panelQueries } from './dashboards';
import { metricNames } from './promql';

describe('dashboards as code', () => {
  it('the checked-in JSON is exactly what infra/grafana/build.ts writes', () => {
    expect(differences()).toEqual([]);
    for (const [file, text] of Object.entries(renderDashboards())) expect(readFileSync(join(DASHBOARD_DIR, file), 'utf8')).toBe(text);
  });

  it('a hand-edited or stale JSON file is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboards-'));
    cpSync(DASHBOARD_DIR, dir, { recursive: true });
    const file = join(dir, 'autopilot-serving.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('Decide RPS', 'Decide QPS'));
    writeFileSync(join(dir, 'old.json'), '{}');
    expect(differences(dir)).toEqual(['autopilot-serving.json: differs from infra/grafana/dashboards.ts (run make dashboards)', 'old.json: not built by infra/grafana/dashboards.ts (delete it)']);
  });

  it('every dashboard has a unique uid, panels with queries, and the provisioned datasource', () => {
    const dashboards = Object.values(allDashboards());
    expect(new Set(dashboards.map((d) => d.uid)).size).toBe(3);
    for (const d of dashboards) {
      expect(panelQueries(d).length).toBeGreaterThan(8);
      for (const p of d.panels ?? []) if ('targets' in p) expect(p.datasource).toEqual({ type: 'prometheus', uid: 'prometheus' });
    }
  });
});

describe('metric names in PromQL', () => {
  it.each([
    ['histogram_quantile(0.95, sum by (le, arm) (rate(autopilot_inference_request_duration_seconds_bucket{route="decide"}[5m])))', ['autopilot_inference_request_duration_seconds_bucket']],
    ['sum by (deployment, arm) (rate(x_total{version="bandit"}[5m])) / ignoring(arm) group_left sum by (deployment) (rate(x_total[5m]))', ['x_total']],
    ['avg_over_time((sum by (a) (delta(s[5m])) / sum by (a) (increase(c_total[5m])))[1h:5m])', ['c_total', 's']],
    ['a / b offset 1h and on(job) c > bool 0.5e-3', ['a', 'b', 'c']],
    ['rate(m[$__rate_interval]) * 60 or vector(0)', ['m']],
    ['job:autopilot_decisions:rate5m unless up{job="x, y"}', ['job:autopilot_decisions:rate5m', 'up']],
    ['sum without (instance) (m) # comment names_nothing', ['m']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  it('rejects unbalanced expressions', () => {
    expect(() => metricNames('sum(rate(m[5m])')).not.toThrow(); // parentheses are Prometheus' to reject
    expect(() => metricNames('m{a="b"')).toThrow(/unbalanced "\{"/);
  });
});

describe('the metric-existence check', () => {
  it('passes when every name is exported and names each missing one (planted) with its panel', () => {
    const dashboards = allDashboards();
    const names = dashboardMetricNames(dashboards);
    expect(names).toContain('autopilot_rewards_sum');
    expect(missingMetrics(dashboards, new Set(names))).toEqual([]);
    // a planted panel whose query names a metric nobody exports
    const planted = dashboards['autopilot-serving.json'];
    planted.panels!.push({ type: 'timeseries', title: 'Planted', targets: [{ refId: 'A', expr: 'rate(autopilot_planted_missing_total[5m])' } as never] } as never);
    expect(missingMetrics(dashboards, new Set(names))).toEqual([
      { dashboard: 'autopilot-serving.json', panel: 'Planted', metric: 'autopilot_planted_missing_total', expr: 'rate(autopilot_planted_missing_total[5m])' },
    ]);
  });
});
