/**
 * driftCheck's calibration, as run metrics and drift reasons (calibrationFindings) and as the worker's
 * Prometheus gauges (the driftCheck observer), read back from the exposition text.
 */
import { parseExposition, sampleValue } from '../../infra/grafana/exposition';
import { calibrationReport } from '../../ml/calibration';
import { observeResult } from '../metrics/observers';
import { WorkerMetrics } from '../metrics/worker-metrics';
import { calibrateModels, calibrationFindings } from './read';

// A constant 0.9 forecast of events that happen 30% of the time; a calibrated forecast of the same events.
const y = Array.from({ length: 200 }, (_, i) => (i % 10 < 3 ? 1 : 0));
const over = { model: 'over', predicted: new Array<number>(200).fill(0.9), realised: y };
const fair = { model: 'fair', predicted: new Array<number>(200).fill(0.3), realised: y };

describe('calibration findings of a window', () => {
  it('records every defined figure per model and names the breaches', () => {
    const models = calibrateModels([fair, over], 10);
    const { metrics, reasons } = calibrationFindings(models, { maxEce: 0.1, maxBrier: 0.3 });
    expect(metrics['calibration/over/ece']).toBeCloseTo(0.6, 12);
    expect(metrics['calibration/fair/ece']).toBeCloseTo(0, 12);
    expect(metrics['calibration/over/pairs']).toBe(200);
    expect(metrics['calibration/fair/brier']).toBeCloseTo(0.21, 12); // 0.3·0.7² + 0.7·0.3²
    expect('calibration/over/correlation' in metrics).toBe(false); // constant prediction: undefined, not 0
    expect(reasons).toEqual(['calibration of model over: ECE 0.600 > 0.1 over 200 pairs', 'calibration of model over: Brier 0.570 > 0.3 over 200 pairs']);
    expect(calibrationFindings(models, undefined).reasons).toEqual([]);
  });
});

describe('calibration gauges on the worker\'s /metrics', () => {
  it('driftCheck results set autopilot_calibration_*{deployment,model} and the reliability table; a later window replaces them', async () => {
    const m = new WorkerMetrics({ defaultMetrics: false });
    const report = calibrationReport([0.1, 0.4, 0.8, 0.9], [0, 1, 1, 0], { bins: 2 });
    observeResult(m, 'driftCheck', { deployment: 'router' }, { drift: false, reasons: [], metrics: {}, calibration: [{ model: 'router', report }] });
    let e = parseExposition(await m.registry.metrics());
    const l = { deployment: 'router', model: 'router' };
    expect(sampleValue(e, 'autopilot_calibration_ece', l)).toBeCloseTo(0.3, 12);
    expect(sampleValue(e, 'autopilot_calibration_brier', l)).toBeCloseTo(0.305, 12);
    expect(sampleValue(e, 'autopilot_calibration_pairs', l)).toBe(4);
    expect(sampleValue(e, 'autopilot_calibration_correlation', l)).toBeCloseTo(0.1 / Math.sqrt(0.41), 12);
    expect(sampleValue(e, 'autopilot_calibration_reliability', { ...l, bin: '0.5', stat: 'predicted' })).toBeCloseTo(0.25, 12);
    expect(sampleValue(e, 'autopilot_calibration_reliability', { ...l, bin: '1', stat: 'observed' })).toBe(0.5);
    // A window with a constant prediction: its correlation series goes away rather than staying stale.
    observeResult(m, 'driftCheck', { deployment: 'router' }, { drift: true, reasons: ['x'], metrics: {}, calibration: [{ model: 'router', report: calibrationReport([0.9, 0.9], [1, 0], { bins: 2 }) }] });
    e = parseExposition(await m.registry.metrics());
    expect(sampleValue(e, 'autopilot_calibration_ece', l)).toBeCloseTo(0.4, 12);
    expect(sampleValue(e, 'autopilot_calibration_correlation', l)).toBeNull();
    expect(sampleValue(e, 'autopilot_calibration_reliability', { ...l, bin: '0.5', stat: 'predicted' })).toBeNull();
    expect(sampleValue(e, 'autopilot_calibration_reliability', { ...l, bin: '0.5', stat: 'count' })).toBe(0);
  });
});
