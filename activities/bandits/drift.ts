/**
 * Activities of driftMonitor: read a deployment's logged decisions (with rewards) for a reference and
 * a current window, analyse them (./drift-analysis.ts) and the calibration of the window's logged
 * predictions (../calibration/read.ts), record the figures as run metrics (with the
 * Prometheus-style counter `drift/alerts_total`), and POST an alert to a webhook (signed, allow-listed,
 * no redirects: activities/webhooks).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { JsonObject } from '../../registry/types';
import type { DriftCheckInput, DriftMonitorActivities, DriftReport } from '../../contracts/drift-monitor';
import { analyseDrift, type DriftSample } from './drift-analysis';
import { calibrateModels, calibrationFindings, readPredictionPairs } from '../calibration/read';
import { createWebhookSender, hostRefusal, loadOutboundSettings, type OutboundSettings } from '../webhooks';

export type { DriftCheckInput };

export function createDriftActivities(deps: { pool: Pool; store: ArtifactStore; outbound?: OutboundSettings; fetch?: typeof fetch }): DriftMonitorActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  const outbound = deps.outbound ?? loadOutboundSettings();
  const send = createWebhookSender(outbound, deps.fetch ?? fetch);

  async function samples(deployment: string, from: Date, to: Date): Promise<DriftSample[]> {
    const { rows } = await deps.pool.query(
      `SELECT d.features, d.latency_ms, r.reward FROM decisions d LEFT JOIN rewards r USING (decision_id)
        WHERE d.deployment = $1 AND d.time >= $2 AND d.time < $3 ORDER BY d.time, d.decision_id LIMIT 200000`,
      [deployment, from.toISOString(), to.toISOString()],
    );
    return rows.map((r: { features: unknown; latency_ms: number | null; reward: number | null }) => {
      const features: Record<string, number> = {};
      if (r.features && typeof r.features === 'object' && !Array.isArray(r.features)) {
        for (const [k, v] of Object.entries(r.features as Record<string, unknown>)) if (typeof v === 'number' && Number.isFinite(v)) features[k] = v;
      }
      return { reward: r.reward, latencyMs: r.latency_ms, features };
    });
  }

  return {
    async driftStartRun(input: { deployment: string; workflowId: string; config: JsonObject }): Promise<string> {
      const run = await registry.recordRun({ id: `drift-monitor:${input.workflowId}`, kind: 'drift-monitor', model: input.deployment, workflowId: input.workflowId, config: input.config });
      return run.id;
    },

    async driftCheck(input: DriftCheckInput): Promise<DriftReport & { until: string }> {
      const until = input.until ? new Date(input.until) : new Date();
      const start = new Date(until.getTime() - input.windowSeconds * 1000);
      const refStart = new Date(start.getTime() - input.referenceSeconds * 1000);
      const [reference, current, pairs] = await Promise.all([samples(input.deployment, refStart, start), samples(input.deployment, start, until), readPredictionPairs(deps.pool, input.deployment, start, until)]);
      const report: DriftReport = analyseDrift(reference, current, input.params);
      // Calibration of the window's logged predictions: figures always, a drift reason per breached bound.
      const calibration = calibrateModels(pairs, input.calibration?.bins);
      const found = calibrationFindings(calibration, input.calibration);
      Object.assign(report.metrics, found.metrics);
      if (found.reasons.length > 0) {
        report.reasons.push(...found.reasons);
        report.drift = true;
        report.metrics['drift/detected'] = 1;
      }
      if (calibration.length > 0) report.calibration = calibration;
      await registry.appendRunMetrics(input.runId, input.step, { ...report.metrics, 'drift/alerts_total': input.alertsSoFar + (report.drift ? 1 : 0) });
      return { ...report, until: until.toISOString() };
    },

    /**
     * POSTs the alert as signed JSON (activities/webhooks); a non-2xx answer, a redirect or a timeout is
     * an error retried by the workflow's policy; a host off the allow-list is not retried.
     */
    async driftAlert(input: { url: string; timeoutMs?: number; payload: JsonObject }): Promise<number> {
      const refusal = hostRefusal(input.url, outbound.allowedHosts);
      if (refusal !== null) throw ApplicationFailure.create({ type: 'ValidationError', nonRetryable: true, message: `drift alert webhook: ${refusal}` });
      const r = await send({ url: input.url, event: 'drift.alert', timeoutMs: input.timeoutMs ?? 5000, payload: input.payload });
      if (!r.ok) throw new Error(`drift alert webhook ${input.url}: ${r.error}`);
      return r.status!;
    },
  };
}
