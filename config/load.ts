/**
 * The one loader for YAML configs under `configs/`: parse, validate with a zod schema, and on any
 * problem throw a ConfigError naming the file, the path inside it (with line:column), the value found
 * and what was expected. Valid input comes back typed, with the schema's defaults filled in.
 */
import { readFileSync } from 'node:fs';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';

export interface ConfigProblem {
  /** Dotted path inside the document, e.g. `policy.bounds.k.min` (`(root)` for the document itself). */
  path: string;
  /** `line:column` in the file when known. */
  location?: string;
  /** The offending value, rendered as JSON (or `(missing)`). */
  value: string;
  expected: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(
      problems
        .map((p) => `${file}${p.location ? `:${p.location}` : ''}: ${p.path}: got ${p.value}, expected ${p.expected}`)
        .join('\n'),
    );
    this.name = 'ConfigError';
  }
}

function render(value: unknown): string {
  if (value === undefined) return '(missing)';
  const json = JSON.stringify(value);
  if (json === undefined) return String(value);
  return json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function valueAt(root: unknown, path: PropertyKey[]): unknown {
  let cur: any = root;
  for (const key of path) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = cur[key as any];
  }
  return cur;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected;
    case 'too_small':
      return `${issue.origin === 'array' ? 'at least' : issue.origin === 'string' ? 'length >=' : issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}${issue.origin === 'array' ? ' item(s)' : ''}`;
    case 'too_big':
      return `${issue.origin === 'array' ? 'at most' : issue.origin === 'string' ? 'length <=' : issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}${issue.origin === 'array' ? ' item(s)' : ''}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `no unknown keys (unknown: ${issue.keys.join(', ')})`;
    case 'not_multiple_of':
      return `a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return `a ${issue.format}`;
    default:
      return issue.message;
  }
}

function locate(doc: Document, lines: LineCounter, path: PropertyKey[]): string | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return `${line}:${col}`;
    }
  }
  return undefined;
}

/** Validates already-parsed data; `file` is only used in messages. */
export function validateConfig<S extends z.ZodType>(schema: S, data: unknown, file: string, doc?: { doc: Document; lines: LineCounter }): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue): ConfigProblem => {
    const path = issue.path;
    const found = issue.code === 'unrecognized_keys' ? valueAt(data, path) : valueAt(data, path);
    const value =
      issue.code === 'invalid_type' && found !== undefined ? `${render(found)} (${typeName(found)})` : issue.code === 'unrecognized_keys' ? render(issue.keys) : render(found);
    return {
      path: path.length ? path.map(String).join('.') : '(root)',
      location: doc ? locate(doc.doc, doc.lines, issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]] : path) : undefined,
      value,
      expected: expectation(issue),
    };
  });
  throw new ConfigError(file, problems);
}

/** Parses YAML text and validates it. */
export function parseConfig<S extends z.ZodType>(schema: S, text: string, file: string): z.output<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return { path: '(yaml)', location: pos ? `${pos.line}:${pos.col}` : undefined, value: 'invalid YAML', expected: `valid YAML (${e.message.split('\n')[0]})` };
      }),
    );
  }
  return validateConfig(schema, doc.toJS(), file, { doc, lines });
}

/** Reads a YAML file and validates it. */
export function loadConfig<S extends z.ZodType>(schema: S, file: string): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '(file)', value: 'unreadable', expected: `a readable YAML file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` }]);
  }
  return parseConfig(schema, text, file);
}
