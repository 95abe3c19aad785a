/**
 * Feature freshness as a metric: wraps the online feature store so every read of an entity's hash
 * observes now − `_updated_at` (set by `autopilot features put` and by the batch loader; see
 * feature-store/) in the histogram `autopilot_feature_age_seconds`, and counts reads of
 * hashes that carry no timestamp.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { UPDATED_AT_FIELD } from '../../feature-store';
import type { FeatureStore } from '../features';

export function withFreshness(store: FeatureStore, registry: Registry, now: () => number = Date.now): FeatureStore {
  const age = new Histogram({
    name: 'autopilot_feature_age_seconds',
    help: 'Age of the online features read at decide time: now minus the time the entity\'s values became valid.',
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86_400, 7 * 86_400],
    registers: [registry],
  });
  const untimed = new Counter({
    name: 'autopilot_feature_reads_without_timestamp_total',
    help: `Online feature reads of hashes without the ${UPDATED_AT_FIELD} field (freshness unknown).`,
    registers: [registry],
  });
  return {
    async hgetall(key) {
      const h = await store.hgetall(key);
      const t = h[UPDATED_AT_FIELD];
      if (t !== undefined) age.observe(Math.max(0, (now() - Number(t)) / 1000));
      else if (Object.keys(h).length > 0) untimed.inc();
      return h;
    },
  };
}
