/**
 * An OpenAPI 3.1 document from a list of operations whose parameters and bodies are zod schemas, with
 * zod 4's own `z.toJSONSchema` (JSON Schema 2020-12, OpenAPI 3.1's dialect). Requests are written as
 * zod reads them (`io: 'input'`), responses as the server writes them (`io: 'output'`: objects are
 * closed, `additionalProperties: false`).
 *
 * Every schema is inlined: a schema that would need `$defs` (a recursive type) is refused here, since
 * `#/$defs/…` inside an operation does not resolve in an OpenAPI document.
 */
import { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface DocOperation {
  method: HttpMethod;
  /** fastify's notation: `/v1/models/:model`. */
  path: string;
  summary: string;
  description?: string;
  tags?: string[];
  /** Whether the operation needs an API key (`Authorization: Bearer apk_…`). */
  secured: boolean;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Status → body schema; `null` for an answer without a JSON body. */
  responses: Record<number, { description: string; schema: z.ZodType | null; contentType?: string }>;
}

export interface DocInfo {
  title: string;
  version: string;
  description: string;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output', where: string, named?: Named): JsonSchema {
  const out = z.toJSONSchema(schema, { io, target: 'draft-2020-12', ...(named ? { metadata: named.registry } : {}) }) as JsonSchema;
  delete out.$schema;
  const defs = out.$defs as Record<string, unknown> | undefined;
  if (defs !== undefined) {
    const unnamed = Object.keys(defs).filter((k) => named === undefined || !named.names.has(k));
    if (unnamed.length > 0) throw new Error(`${where}: the schema needs $defs (${unnamed.join(', ')}: a recursive or reused definition), which the document cannot inline`);
    delete out.$defs;
  }
  return toComponentRefs(out);
}

/** Named schemas (components.schemas) that response schemas refer to with `$ref` instead of repeating them. */
interface Named {
  registry: z.core.$ZodRegistry<{ id: string }>;
  names: Set<string>;
}

function toComponentRefs<T>(schema: T): T {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/\$defs\/([A-Za-z0-9_]+)"/g, '"#/components/schemas/$1"')) as T;
}

/** `/v1/models/:model` → `/v1/models/{model}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(op: DocOperation): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, obj] of [['path', op.params], ['query', op.query]] as const) {
    if (obj === undefined) continue;
    const whole = jsonSchema(obj, 'input', `${op.method} ${op.path} ${where}`);
    const props = (whole.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((whole.required ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      out.push({ name, in: where, required: where === 'path' || required.has(name), schema });
    }
  }
  return out;
}

/**
 * `components`: schemas written once under components.schemas and referred to (`$ref`) from the answers
 * that contain them (answers only: requests are written inline, as zod reads them).
 */
export function buildDocument(info: DocInfo, ops: readonly DocOperation[], servers: { url: string; description: string }[], components: Record<string, z.ZodType> = {}): JsonSchema {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(components)) registry.add(schema, { id });
  const named: Named = { registry, names: new Set(Object.keys(components)) };
  const all = z.toJSONSchema(registry, { io: 'output', target: 'draft-2020-12', uri: (ref) => `#/components/schemas/${ref}` }).schemas;
  const schemas: Record<string, JsonSchema> = {};
  for (const id of Object.keys(components)) {
    const c = all[id] as JsonSchema;
    delete c.$schema;
    delete c.$id;
    schemas[id] = c;
  }
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of ops) {
    const where = `${op.method} ${op.path}`;
    const responses: Record<string, JsonSchema> = {};
    for (const [status, r] of Object.entries(op.responses)) {
      responses[status] =
        r.schema === null
          ? { description: r.description }
          : { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: jsonSchema(r.schema, 'output', `${where} ${status}`, named) } } };
    }
    const operation: JsonSchema = {
      operationId: operationId(op),
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.tags ? { tags: op.tags } : {}),
      parameters: parameters(op),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input', `${where} body`) } } } } : {}),
      responses,
      security: op.secured ? [{ apiKey: [] }] : [],
    };
    (paths[openApiPath(op.path)] ??= {})[op.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    servers,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      schemas,
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `autopilot keys create` (apk_<keyId>_<secret>).' },
      },
    },
    paths,
  };
}

/** `GET /v1/models/:model/versions` → `get_v1_models_model_versions`: unique per method and path. */
function operationId(op: DocOperation): string {
  return `${op.method.toLowerCase()}${op.path.replace(/[/:{}.-]+/g, '_')}`.replace(/_+$/, '');
}

/** The document as checked into docs/openapi/ (two-space JSON and a final newline). */
export function documentText(doc: unknown): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
