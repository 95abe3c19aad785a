/**
 * Which evaluator a training run's environment uses, as one string (the CLI's `--env` and the
 * workflow input's `env`):
 *   `simulator`        the seeded simulator of `envs/evaluators/simulator.ts`
 *   `replay:FILE`      log replay of a JSONL of logged evaluations (FILE as the worker sees it)
 *   `http:URL`         `POST URL/tuner/evaluate` on a live system (URL absolute http(s))
 * Pure: no I/O, so the CLI validates before it starts a run.
 */
export type EnvSpec = { kind: 'simulator' } | { kind: 'replay'; file: string } | { kind: 'http'; url: string };

export const ENV_SPEC_FORMS = 'simulator, replay:FILE or http:URL';

export function parseEnvSpec(text: unknown, field = 'env'): EnvSpec {
  if (typeof text !== 'string' || text.trim() === '') throw new Error(`${field} must be ${ENV_SPEC_FORMS}, got ${JSON.stringify(text)}`);
  const s = text.trim();
  if (s === 'simulator') return { kind: 'simulator' };
  if (s.startsWith('replay:')) {
    const file = s.slice('replay:'.length);
    if (file === '') throw new Error(`${field} = ${JSON.stringify(text)}: replay needs a file, e.g. replay:logs/evaluations.jsonl`);
    return { kind: 'replay', file };
  }
  if (s.startsWith('http:') || s.startsWith('https:')) {
    // `http:http://host:8080` and plain `http://host:8080` both name the URL.
    const url = s.startsWith('http:http') ? s.slice('http:'.length) : s;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${field} = ${JSON.stringify(text)}: expected http:URL with an absolute http(s) URL, e.g. http:http://rag.internal:8080`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`${field} = ${JSON.stringify(text)}: expected an http(s) URL, got protocol ${parsed.protocol}`);
    }
    return { kind: 'http', url };
  }
  throw new Error(`${field} must be ${ENV_SPEC_FORMS}, got ${JSON.stringify(text)}`);
}

export function formatEnvSpec(spec: EnvSpec): string {
  switch (spec.kind) {
    case 'simulator':
      return 'simulator';
    case 'replay':
      return `replay:${spec.file}`;
    case 'http':
      return `http:${spec.url}`;
  }
}
