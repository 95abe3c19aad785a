/**
 * The `exportDataset` activity (task queue `training`): a dataset snapshot of a deployment's decisions
 * + rewards over [from, to), written under the worker's data directory (or `out`) and, with
 * `register`, registered as a `json` version of `dataset-<deployment>` (see export.ts). A loop's
 * retrain stage passes the returned `dir` as `env: replay:DIR` to ppoTraining.
 */
import { join } from 'node:path';
import type { Pool } from 'pg';
import { DecisionStore } from '../../decision-log';
import { Registry } from '../../registry';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { exportSnapshot, registerSnapshot } from './export';

export interface DataExportDeps {
  pool: Pool;
  store: ArtifactStore;
  settings?: { dataDir: string };
}

export interface ExportDatasetInput {
  deployment: string;
  /** ISO 8601, inclusive. */
  from: string;
  /** ISO 8601, exclusive. */
  to: string;
  /** Snapshot folder as the worker sees it (default `<data dir>/datasets/<deployment>/<from>_<to>`). */
  out?: string;
  register?: boolean;
  actor?: string;
  runId?: string | null;
  workflowId?: string | null;
}

export interface ExportDatasetResult {
  dir: string;
  rows: number;
  rewarded: number;
  files: Record<string, { sha256: string; bytes: number; rows: number }>;
  /** The registered version, with `register`. */
  version: { model: string; version: number } | null;
}

export function parseInstant(text: string, field: string): Date {
  const d = new Date(text);
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime())) throw new Error(`${field} must be an ISO 8601 time (e.g. 2026-12-01T00:00:00Z), got ${JSON.stringify(text)}`);
  return d;
}

export function createDataExportActivities(deps: DataExportDeps) {
  const decisions = new DecisionStore({ pool: deps.pool });
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  return {
    async exportDataset(input: ExportDatasetInput): Promise<ExportDatasetResult> {
      const from = parseInstant(input.from, 'from');
      const to = parseInstant(input.to, 'to');
      const stamp = (d: Date) => d.toISOString().replace(/[:.]/g, '-');
      const base = deps.settings?.dataDir;
      if (input.out === undefined && base === undefined) throw new Error('exportDataset needs out (no data directory configured on this worker)');
      const out = input.out ?? join(base!, 'datasets', input.deployment, `${stamp(from)}_${stamp(to)}`);
      const snapshot = await exportSnapshot(decisions, { deployment: input.deployment, from, to, out });
      let version: ExportDatasetResult['version'] = null;
      if (input.register) {
        const v = await registerSnapshot(registry, snapshot, { actor: input.actor ?? 'activity:exportDataset', runId: input.runId, workflowId: input.workflowId });
        version = { model: v.model, version: v.version };
      }
      const m = snapshot.manifest;
      return { dir: snapshot.dir, rows: m.rows, rewarded: m.rewarded, files: m.files, version };
    },
  };
}
