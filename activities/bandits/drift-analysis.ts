/**
 * Drift analysis of one deployment's logged decisions (pure): a reference window followed by the
 * current window, in time order.
 *  - rewards and latencies: ADWIN and Page–Hinkley (ml/drift, River's parameters) run over the whole
 *    stream; a detection at an index inside the current window is a drift of the current window;
 *  - each numeric feature: the two-sample Kolmogorov–Smirnov test (drift when p < ksAlpha) and PSI on
 *    the reference window's quantiles (drift in the "significant" band, ≥ 0.25).
 */
import type { DriftParams, DriftReport } from '../../contracts/drift-monitor';
import { ADWIN, PageHinkley, detectAll, ksTwoSample, psi } from '../../ml/drift';

export interface DriftSample {
  reward: number | null;
  latencyMs: number | null;
  features: Record<string, number>;
}

export type { DriftParams, DriftReport };

function streamDrift(name: string, ref: number[], cur: number[], p: DriftParams, out: DriftReport): void {
  const min = p.minSamples ?? 30;
  if (ref.length < min || cur.length < min) return;
  const all = [...ref, ...cur];
  for (const [det, label] of [[new ADWIN(p.adwin), 'adwin'], [new PageHinkley(p.pageHinkley), 'page_hinkley']] as const) {
    const hits = detectAll(det, all).filter((i) => i >= ref.length);
    out.metrics[`drift/${name}/${label}`] = hits.length > 0 ? 1 : 0;
    if (hits.length > 0) out.reasons.push(`${name}: ${label} detected a change ${hits[0] - ref.length} values into the current window`);
  }
  out.metrics[`drift/${name}/reference_mean`] = ref.reduce((s, v) => s + v, 0) / ref.length;
  out.metrics[`drift/${name}/current_mean`] = cur.reduce((s, v) => s + v, 0) / cur.length;
}

export function analyseDrift(reference: readonly DriftSample[], current: readonly DriftSample[], params: DriftParams = {}): DriftReport {
  const out: DriftReport = { drift: false, reasons: [], metrics: { 'drift/reference_n': reference.length, 'drift/current_n': current.length } };
  const pick = (xs: readonly DriftSample[], f: (s: DriftSample) => number | null) => xs.map(f).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  streamDrift('reward', pick(reference, (s) => s.reward), pick(current, (s) => s.reward), params, out);
  streamDrift('latency', pick(reference, (s) => s.latencyMs), pick(current, (s) => s.latencyMs), params, out);
  const min = params.minSamples ?? 30;
  const names = new Set<string>();
  for (const s of reference) for (const k of Object.keys(s.features)) names.add(k);
  for (const name of [...names].sort()) {
    const ref = pick(reference, (s) => s.features[name] ?? null);
    const cur = pick(current, (s) => s.features[name] ?? null);
    if (ref.length < min || cur.length < min) continue;
    const ks = ksTwoSample(ref, cur);
    const p = psi(ref, cur);
    out.metrics[`drift/feature/${name}/ks_statistic`] = ks.statistic;
    out.metrics[`drift/feature/${name}/ks_p_value`] = ks.pValue;
    out.metrics[`drift/feature/${name}/psi`] = p.psi;
    if (ks.pValue < (params.ksAlpha ?? 0.01)) out.reasons.push(`feature ${name}: KS D = ${ks.statistic.toFixed(3)}, p = ${ks.pValue.toExponential(2)}`);
    if (p.band === 'significant') out.reasons.push(`feature ${name}: PSI ${p.psi.toFixed(3)} (significant, ≥ 0.25)`);
  }
  out.drift = out.reasons.length > 0;
  out.metrics['drift/detected'] = out.drift ? 1 : 0;
  return out;
}
