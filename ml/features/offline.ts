/**
 * Training sets from logged decisions, point-in-time correct: each decision's features are computed
 * with the same FeatureSet.compute the server ran, over the windows as they were at the decision's
 * feature time `asOf` — only events strictly before it (later decisions, and rewards that arrived
 * after it, even rewards of earlier decisions, are not seen).
 *
 *   const rows = pointInTimeFeatures(set, decisions, events);
 *
 * `events`: every event the online store applied (decision events: one per logged decision computed
 * with this set, at its asOf; reward events at the time the server recorded them). Two events in the
 * same millisecond as a decision are a tie the online store broke by arrival: offline they count as
 * later (not seen).
 */
import type { FeatureRequest, FeatureSet } from './feature-set';
import { BucketStore, type FeatureEvent } from './windows';

export interface LoggedFeatureDecision {
  decisionId: string;
  /** When the server computed the features (ms since the epoch). */
  asOf: number;
  request: FeatureRequest;
}

export interface PointInTimeRow {
  decisionId: string;
  asOf: number;
  values: Float64Array;
}

/** `decisions`' features as of each one's asOf; rows in the order of `decisions`. */
export function pointInTimeFeatures(set: FeatureSet, decisions: readonly LoggedFeatureDecision[], events: readonly FeatureEvent[]): PointInTimeRow[] {
  const store = new BucketStore(set.bucketSizes);
  const sorted = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.time - b.e.time || a.i - b.i);
  const order = decisions.map((d, i) => ({ d, i })).sort((a, b) => a.d.asOf - b.d.asOf || a.i - b.i);
  const out: PointInTimeRow[] = new Array(decisions.length);
  let k = 0;
  for (const { d, i } of order) {
    while (k < sorted.length && sorted[k].e.time < d.asOf) store.apply(sorted[k++].e);
    const windows = set.seriesFor(d.request).map((r) => store.window(r, d.asOf));
    out[i] = { decisionId: d.decisionId, asOf: d.asOf, values: set.compute(d.request, d.asOf, windows) };
  }
  return out;
}

/** The decision events of logged decisions (each counted for its entities at its asOf). */
export function decisionEvents(set: FeatureSet, decisions: readonly LoggedFeatureDecision[]): FeatureEvent[] {
  return decisions.map((d) => set.decisionEvent(d.request, d.asOf));
}
