/**
 * The (predicted, realised) pairs of a deployment's logged decisions over a window, and their
 * calibration per model. Generic over kinds: any decision whose `metadata.prediction` is a number —
 * a bandit's expected reward of the arm it served (inference/bandits/decide.ts), a predictor's
 * probability — is paired with its reward; decisions without one, or without a reward yet, are left out.
 */
import type { Pool } from 'pg';
import type { CalibrationThresholds, ModelCalibration } from '../../contracts/drift-monitor';
import { calibrationBreaches, calibrationReport } from '../../ml/calibration';

export type { ModelCalibration };

export interface PredictionPairs {
  model: string;
  predicted: number[];
  realised: number[];
}

/** Pairs per model, in time order (at most `limit` rows in all, the earliest of the window). */
export async function readPredictionPairs(pool: Pool, deployment: string, from: Date, to: Date, limit = 200_000): Promise<PredictionPairs[]> {
  const { rows } = await pool.query<{ model: string; prediction: number; reward: number }>(
    `SELECT d.model, (d.metadata->>'prediction')::double precision AS prediction, r.reward
       FROM decisions d JOIN rewards r USING (decision_id)
      WHERE d.deployment = $1 AND d.time >= $2 AND d.time < $3 AND json_typeof(d.metadata->'prediction') = 'number'
      ORDER BY d.time, d.decision_id LIMIT $4`,
    [deployment, from.toISOString(), to.toISOString(), limit],
  );
  const byModel = new Map<string, PredictionPairs>();
  for (const r of rows) {
    if (!Number.isFinite(r.prediction) || !Number.isFinite(r.reward)) continue;
    let m = byModel.get(r.model);
    if (m === undefined) byModel.set(r.model, (m = { model: r.model, predicted: [], realised: [] }));
    m.predicted.push(r.prediction);
    m.realised.push(r.reward);
  }
  return [...byModel.values()].sort((a, b) => a.model.localeCompare(b.model));
}

/** Each model's report (bins over [0, 1] for probabilities, else the predictions' range). */
export function calibrateModels(pairs: readonly PredictionPairs[], bins?: number): ModelCalibration[] {
  return pairs.map((p) => ({ model: p.model, report: calibrationReport(p.predicted, p.realised, { bins }) }));
}

/** Run-metric names and values of the reports (`calibration/<model>/<metric>`), and the breaches of `t`. */
export function calibrationFindings(models: readonly ModelCalibration[], t: CalibrationThresholds | undefined): { metrics: Record<string, number>; reasons: string[] } {
  const metrics: Record<string, number> = {};
  const reasons: string[] = [];
  for (const { model, report: r } of models) {
    metrics[`calibration/${model}/pairs`] = r.n;
    for (const [k, v] of [['ece', r.ece], ['mce', r.mce], ['brier', r.brier], ['log_loss', r.logLoss], ['correlation', r.correlation], ['binned_correlation', r.binnedCorrelation]] as const) {
      if (v !== null) metrics[`calibration/${model}/${k}`] = v;
    }
    if (t !== undefined) reasons.push(...calibrationBreaches(r, t, `calibration of model ${model}`));
  }
  return { metrics, reasons };
}
