/**
 * The OpenAPI documents checked into docs/openapi/ are the ones the code generates (run `make openapi`
 * after changing a route or a schema), and each is a valid OpenAPI 3.1 document whose schemas compile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { OPENAPI_FILES } from './openapi/files';
import { inlineRefs } from './testing/openapi-client';

describe.each(OPENAPI_FILES)('$path', ({ path, text }) => {
  it('is up to date (else: make openapi)', () => {
    expect(readFileSync(join(__dirname, '..', path), 'utf8')).toBe(text());
  });

  it('is OpenAPI 3.1 with an operation id, a success answer and compilable schemas for every operation', () => {
    const doc = JSON.parse(text()) as { openapi: string; components: { schemas: Record<string, unknown> }; paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: object }> }>; requestBody?: { content: Record<string, { schema: object }> } }>> };
    expect(doc.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const ids = new Set<string>();
    for (const [p, methods] of Object.entries(doc.paths)) {
      for (const [m, op] of Object.entries(methods)) {
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).some((s) => s.startsWith('2'))).toBe(true);
        const schemas = [...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {})), ...Object.values(op.requestBody?.content ?? {})];
        for (const c of schemas) expect(() => ajv.compile(inlineRefs(doc, c.schema) as object)).not.toThrow();
        expect(`${m} ${p}`).toMatch(/^(get|post|put|delete) \//);
      }
    }
  });
});
