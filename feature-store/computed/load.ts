/**
 * Loads feature sets from YAML (configs/features/*.yaml): parse (YAML merge keys allowed, so a
 * definition can be reused per model with `<<: *anchor`), validate with ml/features' zod schema and
 * cross-field rules, compile. Every problem names the file, the feature, the field, the value found
 * and what was expected:
 *
 *   configs/features/x.yaml:12:7: feature prompt_chars: transformation.fn: got "charz", expected one of "chars", …
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, validateConfig, type ConfigProblem } from '../../config/load';
import { FeatureSet, featureSetSchema, checkSet } from '../../ml/features';

/** ConfigError's problems with the feature named: `features.3.window` → `feature tenant_requests_1h: window`. */
function named(err: ConfigError, data: unknown): ConfigError {
  const features = (data as { features?: unknown } | null)?.features;
  const problems = err.problems.map((p): ConfigProblem => {
    const m = /^features\.(\d+)(?:\.(.*))?$/.exec(p.path);
    if (m === null || !Array.isArray(features)) return p;
    const f = features[Number(m[1])] as { name?: unknown } | undefined;
    const name = typeof f?.name === 'string' ? f.name : `#${m[1]}`;
    return { ...p, path: `feature ${name}: ${m[2] ?? '(definition)'}` };
  });
  return new ConfigError(err.file, problems);
}

/** Parses and checks one feature set's YAML text; `file` names it in errors. */
export function parseFeatureSet(text: string, file: string): FeatureSet {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '(yaml)', location: pos ? `${pos.line}:${pos.col}` : undefined, value: 'invalid YAML', expected: `valid YAML (${e.message.split('\n')[0]})` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  let def;
  try {
    def = validateConfig(featureSetSchema, data, file, { doc, lines });
  } catch (err) {
    if (err instanceof ConfigError) throw named(err, data);
    throw err;
  }
  const problems = checkSet(def);
  if (problems.length > 0) {
    throw new ConfigError(
      file,
      problems.map((p) => ({
        path: p.index < 0 ? p.field : `feature ${def.features[p.index].name}: ${p.field}`,
        value: JSON.stringify(p.value) ?? '(missing)',
        expected: p.expected,
      })),
    );
  }
  return new FeatureSet(def);
}

/** Reads and checks one feature set file. */
export function loadFeatureSet(file: string): FeatureSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', value: 'unreadable', expected: `a readable YAML file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
  return parseFeatureSet(text, file);
}

/** Every `*.yaml` / `*.yml` of a folder, by set name; two files naming the same set is an error. */
export function loadFeatureSets(dir: string): Map<string, FeatureSet> {
  const out = new Map<string, FeatureSet>();
  const from = new Map<string, string>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort()) {
    const file = join(dir, f);
    const set = loadFeatureSet(file);
    const prev = from.get(set.name);
    if (prev !== undefined) throw new ConfigError(file, [{ path: 'set', value: JSON.stringify(set.name), expected: `a set name not used by ${prev}` }]);
    out.set(set.name, set);
    from.set(set.name, file);
  }
  return out;
}

/** The shipped sets' folder (configs/features). */
export const DEFAULT_FEATURE_SETS_DIR = join(__dirname, '..', '..', 'configs', 'features');
