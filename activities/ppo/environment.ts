/**
 * Builds the RAG-tuning environment a run trains and evaluates in, from its effective policy config
 * and env spec, and describes the data it uses (the dataset manifest of the lineage).
 * A replay log is read once per worker process (cached by path, size, mtime and the feature names).
 * A dataset snapshot is read with the observation's feature names when the config is contextual, so
 * decisions logged without a `category` (what `autopilot traffic` sends: the observation vector) get
 * the category of their one-hot (envs/evaluators/snapshot.ts).
 */
import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { projectRoot } from '../../config/settings';
import type { PolicyConfig } from '../../envs/config';
import { getDataset } from '../../envs/datasets';
import { HttpEvaluator } from '../../envs/evaluators/http';
import { ReplayEvaluator, type ReplayRecord } from '../../envs/evaluators/replay';
import { loadReplaySource } from '../../envs/evaluators/snapshot';
import { SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { RagTuningEnvironment } from '../../envs/rag-env';
import type { Evaluator } from '../../envs/types';
import type { JsonObject } from '../../registry/types';
import { parseEnvSpec, type EnvSpec } from './env-spec';

interface ReplayLog {
  key: string;
  records: ReplayRecord[];
  sha256: string;
  kind: 'log' | 'snapshot';
}

const replayCache = new Map<string, ReplayLog>();

function replayPath(file: string): string {
  return isAbsolute(file) ? file : resolve(projectRoot, file);
}

/** What a contextual policy's observation shows of the category its action is evaluated on: its feature names; none otherwise. */
function contextualFeatureNames(config: PolicyConfig): string[] | undefined {
  if (!config.environment.contextual) return undefined;
  const namesOnly: Evaluator = { name: 'feature-names', evaluate: () => Promise.reject(new Error('feature-names is not an evaluator')) };
  return new RagTuningEnvironment({ evaluator: namesOnly, config }).featureNames;
}

function loadReplay(file: string, config: PolicyConfig): ReplayLog {
  const path = replayPath(file);
  const featureNames = contextualFeatureNames(config);
  let st;
  try {
    st = statSync(path);
    // A dataset snapshot directory (autopilot data export): its manifest changes with any file.
    if (st.isDirectory()) st = statSync(join(path, 'manifest.json'));
  } catch (err) {
    throw new Error(`env replay:${file}: the replay log ${path} cannot be read on this worker (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const key = `${st.size}:${st.mtimeMs}:${featureNames?.join(',') ?? ''}`;
  const cached = replayCache.get(path);
  if (cached && cached.key === key) return cached;
  const source = loadReplaySource(path, { featureNames });
  const log = { key, records: source.records, sha256: source.sha256, kind: source.kind };
  replayCache.set(path, log);
  return log;
}

export function buildEvaluator(spec: EnvSpec, config: PolicyConfig): Evaluator {
  switch (spec.kind) {
    case 'simulator':
      return new SimulatedRagEvaluator();
    case 'replay':
      return new ReplayEvaluator(loadReplay(spec.file, config).records, { name: `replay:${spec.file}`, kBounds: config.policy.bounds.k });
    case 'http':
      // Secret header references are resolved here, on the worker, from its environment (R-TUNER-EVALUATOR).
      return new HttpEvaluator({ baseUrl: spec.url, secretHeaders: spec.headers });
  }
}

/** A fresh environment (its own evaluator) for one activity. */
export function buildEnvironment(config: PolicyConfig, env: string): RagTuningEnvironment {
  const spec = parseEnvSpec(env);
  return new RagTuningEnvironment({ evaluator: buildEvaluator(spec, config), config });
}

/** What the run learns from: the datasets (manifest ids, commits, mixes) and the evaluator's source. */
export function datasetManifest(config: PolicyConfig, env: string): JsonObject {
  const spec = parseEnvSpec(env);
  const datasets = config.environment.datasets.map((name) => {
    const d = getDataset(name);
    return { name, id: d.id, commit: d.commit, size: d.size, categoryMix: d.categoryMix };
  });
  const evaluator: JsonObject =
    spec.kind === 'simulator'
      ? { kind: 'simulator' }
      : spec.kind === 'replay'
        ? (() => {
            const log = loadReplay(spec.file, config);
            return { kind: 'replay', file: spec.file, source: log.kind, sha256: log.sha256, records: log.records.length };
          })()
        : { kind: 'http', url: spec.url, ...(spec.headers ? { headers: Object.fromEntries(Object.entries(spec.headers).map(([h, r]) => [h, `env:${r.env}`])) } : {}) };
  return { datasets, evaluator };
}
