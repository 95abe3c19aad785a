/**
 * The calibration figures as Prometheus gauges (names, help, value), one table shared by the worker
 * (driftMonitor's windows of the decision log) and the inference server (online models' rolling
 * window of labels), both labelled `deployment` and `model`. Pure: the processes build their prom-client
 * gauges from it. A figure that is undefined (no pairs, a constant side) has no series.
 */
import type { CalibrationReport } from './metrics';

export interface CalibrationGaugeSpec {
  name: string;
  help: string;
  value(r: CalibrationReport): number | null;
}

export const CALIBRATION_GAUGES: readonly CalibrationGaugeSpec[] = [
  { name: 'autopilot_calibration_pairs', help: '(prediction, realised) pairs the calibration figures are computed over, by deployment and model.', value: (r) => r.n },
  { name: 'autopilot_calibration_ece', help: 'Expected calibration error Σ_b (n_b/N)|ȳ_b − p̄_b| over equal-width bins of the prediction, by deployment and model.', value: (r) => r.ece },
  { name: 'autopilot_calibration_mce', help: 'Maximum calibration error max_b |ȳ_b − p̄_b| over the non-empty bins, by deployment and model.', value: (r) => r.mce },
  { name: 'autopilot_calibration_brier', help: 'Brier score (mean squared error of prediction vs realised), by deployment and model.', value: (r) => r.brier },
  { name: 'autopilot_calibration_log_loss', help: 'Log loss of the predicted probabilities (only while predictions and outcomes lie in [0, 1]), by deployment and model.', value: (r) => r.logLoss },
  { name: 'autopilot_calibration_correlation', help: 'Pearson correlation of predicted vs realised reward per decision (seed 001 KPI: > 0.7), by deployment and model.', value: (r) => r.correlation },
  { name: 'autopilot_calibration_binned_correlation', help: 'Count-weighted Pearson correlation of the reliability bins\' mean predicted vs mean realised, by deployment and model.', value: (r) => r.binnedCorrelation },
];

/** The reliability table: one series per (deployment, model, bin, stat); `bin` is the bin's upper edge, `stat` count | predicted | observed. */
export const CALIBRATION_RELIABILITY = {
  name: 'autopilot_calibration_reliability',
  help: 'Reliability table of the last calibration window: per bin (label bin = the bin\'s upper edge) its count, mean predicted and mean observed (label stat), by deployment and model.',
} as const;

/** The reliability series of a report: `[bin, stat, value]`, empty bins with count 0 only. */
export function reliabilitySeries(r: CalibrationReport): [string, 'count' | 'predicted' | 'observed', number][] {
  const out: [string, 'count' | 'predicted' | 'observed', number][] = [];
  for (const b of r.bins) {
    const bin = String(Number(b.hi.toPrecision(6)));
    out.push([bin, 'count', b.count]);
    if (b.meanPredicted !== null) out.push([bin, 'predicted', b.meanPredicted]);
    if (b.meanObserved !== null) out.push([bin, 'observed', b.meanObserved]);
  }
  return out;
}

/** What the exporter needs of a gauge (prom-client's `Gauge` has it). */
export interface GaugeLike {
  set(labels: Record<string, string>, value: number): void;
  remove(labels: Record<string, string>): void;
}

/**
 * Sets the calibration gauges of one (deployment, model) from a report; `makeGauge` builds each gauge
 * of the tables above in the caller's metrics registry (prom-client in the processes).
 */
export class CalibrationExporter {
  private readonly gauges: GaugeLike[];
  private readonly reliability: GaugeLike;
  /** The reliability series set per (deployment, model), to remove those a later report no longer has. */
  private readonly binsSet = new Map<string, Record<string, string>[]>();

  constructor(makeGauge: (name: string, help: string, labelNames: string[]) => GaugeLike) {
    this.gauges = CALIBRATION_GAUGES.map((g) => makeGauge(g.name, g.help, ['deployment', 'model']));
    this.reliability = makeGauge(CALIBRATION_RELIABILITY.name, CALIBRATION_RELIABILITY.help, ['deployment', 'model', 'bin', 'stat']);
  }

  set(deployment: string, model: string, r: CalibrationReport): void {
    const labels = { deployment, model };
    CALIBRATION_GAUGES.forEach((g, i) => {
      const v = g.value(r);
      if (v === null || !Number.isFinite(v)) this.gauges[i].remove(labels);
      else this.gauges[i].set(labels, v);
    });
    const key = `${deployment}\u0000${model}`;
    for (const l of this.binsSet.get(key) ?? []) this.reliability.remove(l);
    const set: Record<string, string>[] = [];
    for (const [bin, stat, v] of reliabilitySeries(r)) {
      const l = { deployment, model, bin, stat };
      this.reliability.set(l, v);
      set.push(l);
    }
    this.binsSet.set(key, set);
  }

  /** Drops every series of (deployment, model), e.g. when a deployment is no longer served. */
  remove(deployment: string, model: string): void {
    const labels = { deployment, model };
    for (const g of this.gauges) g.remove(labels);
    const key = `${deployment}\u0000${model}`;
    for (const l of this.binsSet.get(key) ?? []) this.reliability.remove(l);
    this.binsSet.delete(key);
  }
}
