/**
 * From a forecast to numbers operators use: Gaussian forecast quantiles and a replica count.
 *
 *   q_p(h) = ŷ_{n+h} + Φ⁻¹(p) · sd_h                         (the forecast's p-quantile at step h)
 *   replicas = ⌈ max_h q_p(h) / (capacity per replica · target utilisation) ⌉, at least `minReplicas`
 *
 * The capacity per replica is the request rate one replica serves within the latency target (e.g.
 * the p99 target), measured, not assumed; target utilisation < 1 keeps headroom for bursts shorter
 * than the forecast's time step.
 */
import { normalQuantile } from '../stats/normal';
import type { Forecast } from './types';

/** The p-quantile of the forecast at each step (Gaussian forecast errors). */
export function forecastQuantile(forecast: Forecast, p: number): number[] {
  if (!(p > 0 && p < 1)) throw new Error(`forecastQuantile: p is ${p}, expected a number in (0, 1)`);
  const z = normalQuantile(p);
  return forecast.mean.map((m, h) => m + z * forecast.sd[h]);
}

export interface CapacityOptions {
  /** Requests per second one replica serves within the latency target (measured). */
  capacityPerReplica: number;
  /** The forecast quantile to provision for (default 0.95: the upper end of a 90% interval). */
  quantile?: number;
  /** Fraction of capacityPerReplica to plan for (default 0.8). */
  targetUtilisation?: number;
  minReplicas?: number;
}

export interface CapacityRecommendation {
  replicas: number;
  /** The largest forecast quantile over the horizon and the step it occurs at (0-based). */
  peakRate: number;
  peakStep: number;
}

export function recommendReplicas(forecast: Forecast, options: CapacityOptions): CapacityRecommendation {
  const { capacityPerReplica } = options;
  const quantile = options.quantile ?? 0.95;
  const utilisation = options.targetUtilisation ?? 0.8;
  const minReplicas = options.minReplicas ?? 1;
  if (!(capacityPerReplica > 0 && Number.isFinite(capacityPerReplica))) throw new Error(`recommendReplicas: capacityPerReplica is ${capacityPerReplica}, expected a finite number > 0`);
  if (!(utilisation > 0 && utilisation <= 1)) throw new Error(`recommendReplicas: targetUtilisation is ${utilisation}, expected a number in (0, 1]`);
  if (!(Number.isInteger(minReplicas) && minReplicas >= 0)) throw new Error(`recommendReplicas: minReplicas is ${minReplicas}, expected an integer >= 0`);
  if (forecast.mean.length === 0) throw new Error('recommendReplicas: the forecast has no steps, expected at least one');
  const upper = forecastQuantile(forecast, quantile);
  let peakStep = 0;
  for (let h = 1; h < upper.length; h++) if (upper[h] > upper[peakStep]) peakStep = h;
  const peakRate = Math.max(upper[peakStep], 0);
  return { replicas: Math.max(minReplicas, Math.ceil(peakRate / (capacityPerReplica * utilisation))), peakRate, peakStep };
}
