/**
 * The dashboards' metric-existence check: every metric name a panel query selects must be exported by
 * one of the processes (their /metrics expositions), else the panel points at nothing.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { panelQueries } from './dashboards';
import { metricNames } from './promql';

/** Series Prometheus itself adds to every target (not in any exposition). */
export const SCRAPE_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

export interface Missing {
  dashboard: string;
  panel: string;
  metric: string;
  expr: string;
}

/** The (dashboard, panel, metric) triples whose metric `exported` lacks. */
export function missingMetrics(dashboards: Record<string, Dashboard>, exported: ReadonlySet<string>): Missing[] {
  const out: Missing[] = [];
  for (const [file, d] of Object.entries(dashboards)) {
    for (const { panel, expr } of panelQueries(d)) {
      for (const metric of metricNames(expr)) {
        if (!exported.has(metric) && !SCRAPE_SERIES.has(metric)) out.push({ dashboard: file, panel, metric, expr });
      }
    }
  }
  return out;
}

/** Every metric name the dashboards use. */
export function dashboardMetricNames(dashboards: Record<string, Dashboard>): string[] {
  const names = new Set<string>();
  for (const d of Object.values(dashboards)) for (const { expr } of panelQueries(d)) for (const n of metricNames(expr)) names.add(n);
  return [...names].sort();
}
