/**
 * An HTTP client for tests that holds every exchange to an OpenAPI document: the request body must
 * match the operation's requestBody schema (unless the test sends a bad one on purpose), and the answer
 * must be a status the operation documents with a body matching that status's schema (ajv, JSON Schema
 * 2020-12 with formats). It records which operations answered 2xx, so a test can demand that every
 * operation of the document was exercised.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

interface Operation {
  method: string;
  template: string;
  regex: RegExp;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

type Doc = { paths: Record<string, Record<string, Omit<Operation, 'method' | 'template' | 'regex'>>>; components?: { schemas?: Record<string, unknown> } };

/** `schema` with every `$ref: '#/components/schemas/X'` replaced by the document's X (the documents have no recursive types). */
export function inlineRefs(doc: Doc, schema: unknown, depth = 0): unknown {
  if (depth > 50) throw new Error('a $ref cycle in the document');
  if (Array.isArray(schema)) return schema.map((x) => inlineRefs(doc, x, depth + 1));
  if (schema === null || typeof schema !== 'object') return schema;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string') {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
    const target = m === null ? undefined : doc.components?.schemas?.[m[1]];
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return inlineRefs(doc, target, depth + 1);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inlineRefs(doc, v, depth + 1)]));
}

export interface Exchange {
  status: number;
  body: any;
  headers: Headers;
}

export class OpenApiClient {
  private readonly ops: Operation[] = [];
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<object, ValidateFunction>();
  /** `METHOD template` of every operation that answered 2xx. */
  readonly succeeded = new Set<string>();

  constructor(
    readonly baseUrl: string,
    private readonly doc: Doc,
    private readonly defaultAuthorization: string | null = null,
  ) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    for (const [template, methods] of Object.entries(doc.paths)) {
      const regex = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(methods)) this.ops.push({ method: method.toUpperCase(), template, regex, ...op });
    }
  }

  /** Every operation as `METHOD template`. */
  get operations(): string[] {
    return this.ops.map((o) => `${o.method} ${o.template}`);
  }

  private validator(schema: object): ValidateFunction {
    let v = this.compiled.get(schema);
    if (v === undefined) {
      v = this.ajv.compile(inlineRefs(this.doc, schema) as object);
      this.compiled.set(schema, v);
    }
    return v;
  }

  private find(method: string, path: string): Operation {
    const p = path.split('?', 1)[0];
    // A literal segment wins over a template ({model}) where both match.
    const hits = this.ops.filter((o) => o.method === method && o.regex.test(p)).sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    if (hits.length === 0) throw new Error(`${method} ${p}: no operation of the OpenAPI document matches`);
    return hits[0];
  }

  /**
   * Sends a request and validates both sides. `authorization`: the header (undefined: the default,
   * null: none). `invalidBody`: the body is wrong on purpose (not checked against the schema).
   */
  async call(method: string, path: string, opts: { body?: unknown; authorization?: string | null; invalidBody?: boolean } = {}): Promise<Exchange> {
    const op = this.find(method, path);
    if (opts.body !== undefined && !opts.invalidBody) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (schema === undefined) throw new Error(`${method} ${op.template} documents no request body`);
      const v = this.validator(schema);
      if (!v(opts.body)) throw new Error(`${method} ${path}: the request body does not match the document: ${this.ajv.errorsText(v.errors)}`);
    }
    const authorization = opts.authorization === undefined ? this.defaultAuthorization : opts.authorization;
    const headers: Record<string, string> = {};
    if (authorization !== null) headers.authorization = authorization;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';
    const body: unknown = type.includes('json') ? JSON.parse(text) : text;
    const documented = op.responses[String(res.status)];
    if (documented === undefined) throw new Error(`${method} ${path} answered ${res.status}, which ${op.template} does not document: ${text.slice(0, 500)}`);
    const content = documented.content?.[type.split(';', 1)[0].trim()];
    if (documented.content !== undefined && content === undefined) throw new Error(`${method} ${path} answered ${res.status} as ${type}, not a documented content type`);
    if (content !== undefined) {
      const v = this.validator(content.schema);
      if (!v(body)) throw new Error(`${method} ${path} answered ${res.status} with a body that does not match the document: ${this.ajv.errorsText(v.errors)}\n${text.slice(0, 1000)}`);
    }
    if (res.status >= 200 && res.status < 300) this.succeeded.add(`${method} ${op.template}`);
    return { status: res.status, body, headers: res.headers };
  }
}
