/**
 * Logged data back into training (R-TUNER-EVALUATOR dataset snapshots, #21 item 4): a deployment's
 * decisions with their rewards over a window become a dataset snapshot directory (format in
 * envs/evaluators/snapshot.ts): predictions.jsonl, contexts.jsonl, summary.csv and manifest.json
 * (sha256, bytes and rows of each file, the window, the deployment). With `register`, the directory
 * is registered as a `json` version of model `dataset-<deployment>` with the manifest as lineage.
 *
 * The window is [from, to): `from` inclusive, `to` exclusive (the DecisionStore's windows), so
 * consecutive exports never share or miss a decision. A reward is included when it is stored at
 * export time (`createdAt`); one arriving later appears only in a later export of the same window.
 * Decisions are read page by page through the DecisionStore (decision-log/read.ts) and written as
 * they come: memory stays bounded by one page. Files are written to a temporary folder beside `out`
 * and renamed into place at the end, so a crash never leaves a half snapshot that looks whole.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { DecisionStore, DecisionWithReward } from '../../decision-log';
import { SNAPSHOT_FORMAT, type SnapshotManifest } from '../../envs/evaluators/snapshot';
import type { Registry } from '../../registry';
import type { ModelVersion } from '../../registry/types';

export interface ExportOptions {
  deployment: string;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** The snapshot directory (must not exist yet, or be empty). */
  out: string;
  /** Rows per page read (default 5000). */
  pageSize?: number;
  now?: () => Date;
}

/** One output file, hashed and counted as it is written. */
export class HashedWriter {
  private readonly hash = createHash('sha256');
  bytes = 0;
  rows = 0;
  private constructor(private readonly fh: FileHandle) {}
  static async open(path: string): Promise<HashedWriter> {
    return new HashedWriter(await open(path, 'wx'));
  }
  async write(text: string, rows: number): Promise<void> {
    const buf = Buffer.from(text, 'utf8');
    this.hash.update(buf);
    this.bytes += buf.length;
    this.rows += rows;
    await this.fh.write(buf);
  }
  async close(): Promise<{ sha256: string; bytes: number; rows: number }> {
    await this.fh.sync();
    await this.fh.close();
    return { sha256: this.hash.digest('hex'), bytes: this.bytes, rows: this.rows };
  }
}

/** RFC 4180 field quoting (hand-written: five lines, not worth a CSV dependency). */
function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function predictionLine(d: DecisionWithReward): string {
  return JSON.stringify({
    decision_id: d.decisionId,
    time: d.time.toISOString(),
    model: d.model,
    version: d.version,
    generation: d.generation,
    arm: d.arm,
    action: d.action,
    propensity: d.propensity,
    density: d.density,
    latency_ms: d.latencyMs,
    reward: d.reward,
    reward_components: d.rewardComponents,
    reward_time: d.rewardTime ? d.rewardTime.toISOString() : null,
  });
}

function contextLine(d: DecisionWithReward): string {
  return JSON.stringify({ decision_id: d.decisionId, time: d.time.toISOString(), unit: d.unit, features: d.features, metadata: d.metadata });
}

function checkWindow(o: ExportOptions): void {
  if (typeof o.deployment !== 'string' || o.deployment === '') throw new Error(`deployment must be a deployment name, got ${JSON.stringify(o.deployment)}`);
  for (const k of ['from', 'to'] as const) {
    if (!(o[k] instanceof Date) || Number.isNaN(o[k].getTime())) throw new Error(`${k} must be a valid time (ISO 8601), got ${String(o[k])}`);
  }
  if (!(o.from.getTime() < o.to.getTime())) throw new Error(`the window must have from < to, got from ${o.from.toISOString()} and to ${o.to.toISOString()}`);
}

/** Writes the snapshot; returns its manifest. Refuses an `out` that exists and is not an empty folder. */
export async function exportSnapshot(decisions: DecisionStore, o: ExportOptions): Promise<{ dir: string; manifest: SnapshotManifest }> {
  checkWindow(o);
  const out = resolve(o.out);
  const existing = await stat(out).catch(() => null);
  if (existing) throw new Error(`out ${out} already exists: a snapshot is written to a new folder (choose another --out)`);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${randomUUID().slice(0, 8)}`;
  await mkdir(tmp);
  try {
    const predictions = await HashedWriter.open(join(tmp, 'predictions.jsonl'));
    const contexts = await HashedWriter.open(join(tmp, 'contexts.jsonl'));
    const groups = new Map<string, { model: string; version: number | null; arm: string; decisions: number; rewarded: number; rewardSum: number }>();
    let rows = 0;
    let rewarded = 0;
    for await (const page of decisions.iterateDecisionsWithRewards({ deployment: o.deployment, from: o.from, to: o.to, limit: o.pageSize ?? 5000 })) {
      await predictions.write(page.map((d) => `${predictionLine(d)}\n`).join(''), page.length);
      await contexts.write(page.map((d) => `${contextLine(d)}\n`).join(''), page.length);
      for (const d of page) {
        const key = `${d.model}\u0000${d.version}\u0000${d.arm}`;
        let g = groups.get(key);
        if (!g) groups.set(key, (g = { model: d.model, version: d.version, arm: d.arm, decisions: 0, rewarded: 0, rewardSum: 0 }));
        g.decisions++;
        rows++;
        if (d.reward !== null) {
          g.rewarded++;
          g.rewardSum += d.reward;
          rewarded++;
        }
      }
    }
    const summary = await HashedWriter.open(join(tmp, 'summary.csv'));
    const header = 'model,version,arm,decisions,rewarded,mean_reward\n';
    const body = [...groups.values()]
      .sort((a, b) => a.model.localeCompare(b.model) || (a.version ?? -1) - (b.version ?? -1) || a.arm.localeCompare(b.arm))
      .map((g) => [g.model, g.version, g.arm, g.decisions, g.rewarded, g.rewarded > 0 ? g.rewardSum / g.rewarded : null].map(csvField).join(',') + '\n')
      .join('');
    await summary.write(header + body, groups.size);
    const files = { 'predictions.jsonl': await predictions.close(), 'contexts.jsonl': await contexts.close(), 'summary.csv': await summary.close() };
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      deployment: o.deployment,
      window: { from: o.from.toISOString(), to: o.to.toISOString(), fromInclusive: true, toInclusive: false },
      createdAt: (o.now ?? (() => new Date()))().toISOString(),
      rows,
      rewarded,
      files,
    };
    await writeFile(join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    await rename(tmp, out);
    return { dir: out, manifest };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** The registry model a deployment's snapshots are versions of. */
export const datasetModelName = (deployment: string) => `dataset-${deployment}`;

/** Registers the snapshot directory as a `json` version of `dataset-<deployment>`, the manifest as lineage. */
export async function registerSnapshot(
  registry: Registry,
  snapshot: { dir: string; manifest: SnapshotManifest },
  opts: { actor: string; runId?: string | null; workflowId?: string | null },
): Promise<ModelVersion> {
  const m = snapshot.manifest;
  return registry.registerVersion({
    model: datasetModelName(m.deployment),
    artifact: { path: snapshot.dir },
    format: 'json',
    createModel: true,
    signature: { kind: 'dataset-snapshot', format: m.format, files: Object.keys(m.files) },
    metrics: { rows: m.rows, rewarded: m.rewarded },
    tags: { deployment: m.deployment, from: m.window.from, to: m.window.to },
    lineage: { runId: opts.runId ?? null, workflowId: opts.workflowId ?? null, datasetManifest: m as unknown as ModelVersion['lineage']['datasetManifest'] },
    description: `decisions + rewards of deployment ${m.deployment} in [${m.window.from}, ${m.window.to}): ${m.rows} decisions, ${m.rewarded} rewarded`,
    actor: opts.actor,
  });
}
