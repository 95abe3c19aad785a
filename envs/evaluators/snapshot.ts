/**
 * Dataset snapshots of logged decisions + rewards (R-TUNER-EVALUATOR, seed 002 §11 "dataset
 * snapshots"): the directory `autopilot data export` writes, and how a replay evaluator reads one.
 *
 *   DIR/manifest.json      {format: "autopilot.dataset-snapshot/v1", deployment, window: {from, to,
 *                           fromInclusive: true, toInclusive: false}, createdAt, rows, rewarded,
 *                           files: {"predictions.jsonl": {sha256, bytes, rows}, "contexts.jsonl": …,
 *                           "summary.csv": …}}
 *   DIR/predictions.jsonl  one decision a line, oldest first: {decision_id, time, model, version, arm,
 *                           action, propensity, density, reward, reward_components, reward_time}
 *   DIR/contexts.jsonl     the same decisions' inputs: {decision_id, time, unit, features, metadata}
 *   DIR/summary.csv        one row per (model, version, arm): decisions, rewarded, mean_reward
 *
 * ## As a replay log
 * A snapshot carries what replay needs when the deployment served RAG configs: a rewarded decision
 * whose `action` is a config {variant, k, rerank, fusion_weight, prompt_id}, whose context names the
 * `category` and whose reward components hold `faithfulness`, `relevancy`, `latency_ms` (or
 * `latency_p50_ms` + `latency_p95_ms`) and `cost_usd` (optional: `error_rate`, `faithfulness_std`,
 * `relevancy_std`, `policy_violation_rate`) becomes one replay record.
 *
 * The category is `features.category`, else `metadata.category`, else — when the caller gives the
 * observation's feature names (`featureNames`, those of a contextual RAG policy's environment) — the
 * one-hot `category=<id>` of the logged features (an array in that order, or an object keyed by those
 * names): a contextual policy's observation shows the category of the batch its action is evaluated
 * on, so what `autopilot traffic` logs is replayable as it is. The one-hot must have exactly one 1. Unrewarded decisions
 * are skipped (counted); a rewarded decision missing any of these fails the load naming the file,
 * line and field: a snapshot that cannot be replayed is refused, not half used.
 * Every file's sha256 is checked against the manifest before anything is read.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { parseReplayLog, type ReplayRecord } from './replay';
import { configSchema, evaluationSchema, toEvaluation } from './schema';

export const SNAPSHOT_FORMAT = 'autopilot.dataset-snapshot/v1';
export const SNAPSHOT_FILES = ['predictions.jsonl', 'contexts.jsonl', 'summary.csv'] as const;

const fileEntry = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0), rows: z.number().int().min(0) });

export const snapshotManifestSchema = z.object({
  format: z.literal(SNAPSHOT_FORMAT),
  deployment: z.string().min(1),
  window: z.object({ from: z.string(), to: z.string(), fromInclusive: z.literal(true), toInclusive: z.literal(false) }),
  createdAt: z.string(),
  rows: z.number().int().min(0),
  rewarded: z.number().int().min(0),
  files: z.object({ 'predictions.jsonl': fileEntry, 'contexts.jsonl': fileEntry, 'summary.csv': fileEntry }),
});

export type SnapshotManifest = z.infer<typeof snapshotManifestSchema>;

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Reads a snapshot's manifest and files, checking each file's sha256 and row count. */
export function readSnapshot(path: string): { dir: string; manifest: SnapshotManifest; files: Record<(typeof SNAPSHOT_FILES)[number], string> } {
  const dir = basename(path) === 'manifest.json' ? dirname(path) : path;
  const manifestPath = join(dir, 'manifest.json');
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`dataset snapshot ${manifestPath} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const parsed = snapshotManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`dataset snapshot ${manifestPath}: ${i.path.join('.') || 'manifest'}: ${i.message}`);
  }
  const files = {} as Record<(typeof SNAPSHOT_FILES)[number], string>;
  for (const name of SNAPSHOT_FILES) {
    const text = readFileSync(join(dir, name), 'utf8');
    const want = parsed.data.files[name];
    const got = sha256(text);
    if (got !== want.sha256) throw new Error(`dataset snapshot ${join(dir, name)}: sha256 ${got} does not match the manifest's ${want.sha256}`);
    files[name] = text;
  }
  return { dir, manifest: parsed.data, files };
}

function parseLine(line: string, where: string): any {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export interface SnapshotReplayOptions {
  /**
   * The observation's feature names of a contextual RAG policy (`RagTuningEnvironment.featureNames`):
   * the category of a context without `category` is read from its `category=<id>` one-hot.
   */
  featureNames?: readonly string[];
}

const CATEGORY_PREFIX = 'category=';

/** The category of a logged context (see the file comment), or a string saying why there is none. */
function contextCategory(ctx: { features: any; metadata: any }, featureNames: readonly string[] | undefined): { category: string } | { why: string } {
  const named = ctx.features?.category ?? ctx.metadata?.category;
  if (typeof named === 'string' && named !== '') return { category: named };
  if (featureNames === undefined) return { why: 'names no category (features.category or metadata.category; a category one-hot is read only with the policy\'s feature names)' };
  const f = ctx.features;
  const value = (i: number): unknown => (Array.isArray(f) ? f[i] : f?.[featureNames[i]]);
  if (Array.isArray(f) && f.length !== featureNames.length) {
    return { why: `has ${f.length} features, the policy's observation has ${featureNames.length} (${featureNames.slice(0, 3).join(', ')}, …): not this policy's context` };
  }
  if (!Array.isArray(f) && (f === null || typeof f !== 'object')) return { why: `has features ${JSON.stringify(f)}, expected an array or an object keyed by feature name` };
  const hot: string[] = [];
  let categories = 0;
  for (let i = 0; i < featureNames.length; i++) {
    if (!featureNames[i].startsWith(CATEGORY_PREFIX)) continue;
    categories++;
    const v = value(i);
    if (v === 1) hot.push(featureNames[i].slice(CATEGORY_PREFIX.length));
    else if (v !== 0) return { why: `has ${featureNames[i]} = ${JSON.stringify(v)}, expected 0 or 1` };
  }
  if (categories === 0) return { why: `names no category, and the policy's features have no ${CATEGORY_PREFIX}<id> one-hot` };
  if (hot.length !== 1) return { why: `has ${hot.length} categories set in its ${CATEGORY_PREFIX}<id> one-hot (${hot.join(', ') || 'none'}), expected exactly one` };
  return { category: hot[0] };
}

/** The replay records of a snapshot (see the file comment); throws naming FILE:LINE and the field. */
export function snapshotReplayRecords(path: string, options: SnapshotReplayOptions = {}): { records: ReplayRecord[]; skippedUnrewarded: number; sha256: string; manifest: SnapshotManifest } {
  const { dir, manifest, files } = readSnapshot(path);
  const contexts = new Map<string, { features: any; metadata: any }>();
  const contextLines = files['contexts.jsonl'].split('\n');
  for (let i = 0; i < contextLines.length; i++) {
    if (contextLines[i].trim() === '') continue;
    const c = parseLine(contextLines[i], `${join(dir, 'contexts.jsonl')}:${i + 1}`);
    contexts.set(c.decision_id, { features: c.features, metadata: c.metadata });
  }
  const records: ReplayRecord[] = [];
  let skipped = 0;
  const lines = files['predictions.jsonl'].split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `${join(dir, 'predictions.jsonl')}:${i + 1}`;
    const p = parseLine(lines[i], where);
    if (p.reward === null || p.reward === undefined) {
      skipped++;
      continue;
    }
    const config = configSchema.safeParse(p.action);
    if (!config.success) throw new Error(`${where}: action is not a RAG config, so the snapshot cannot be replayed: ${config.error.issues[0].message}`);
    const ctx = contexts.get(p.decision_id);
    if (!ctx) throw new Error(`${where}: decision ${p.decision_id} has no line in contexts.jsonl`);
    const found = contextCategory(ctx, options.featureNames);
    if ('why' in found) throw new Error(`${where}: the context of decision ${p.decision_id} ${found.why}`);
    const category = found.category;
    const c = p.reward_components ?? {};
    const latency = num(c.latency_ms) ?? (num(c.latency_p50_ms) !== undefined && num(c.latency_p95_ms) !== undefined ? { p50: c.latency_p50_ms, p95: c.latency_p95_ms } : undefined);
    const evaluation = evaluationSchema.safeParse({
      faithfulness: c.faithfulness,
      relevancy: c.relevancy,
      latency_ms: latency,
      cost_usd: c.cost_usd,
      ...(num(c.error_rate) !== undefined ? { error_rate: c.error_rate } : {}),
      ...(num(c.faithfulness_std) !== undefined ? { faithfulness_std: c.faithfulness_std } : {}),
      ...(num(c.relevancy_std) !== undefined ? { relevancy_std: c.relevancy_std } : {}),
      ...(num(c.policy_violation_rate) !== undefined ? { policy_violation_rate: c.policy_violation_rate } : {}),
    });
    if (!evaluation.success) throw new Error(`${where}: reward_components.${evaluation.error.issues[0].message}`);
    records.push({ config: config.data, category, ...toEvaluation(evaluation.data) });
  }
  if (records.length === 0) throw new Error(`dataset snapshot ${dir}: no rewarded decisions to replay (${skipped} unrewarded)`);
  return { records, skippedUnrewarded: skipped, sha256: manifest.files['predictions.jsonl'].sha256, manifest };
}

/**
 * A replay source by path: a JSONL log of evaluations, or a dataset snapshot (its directory or its
 * manifest.json). `sha256` identifies the data (the log's, or the snapshot's predictions file).
 */
export function loadReplaySource(path: string, options: SnapshotReplayOptions = {}): { records: ReplayRecord[]; sha256: string; kind: 'log' | 'snapshot' } {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new Error(`replay source ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  if (isDir || basename(path) === 'manifest.json') {
    const s = snapshotReplayRecords(path, options);
    return { records: s.records, sha256: s.sha256, kind: 'snapshot' };
  }
  const text = readFileSync(path, 'utf8');
  return { records: parseReplayLog(text, path), sha256: sha256(text), kind: 'log' };
}
