/**
 * `make openapi`: writes the OpenAPI 3.1 documents generated from the zod schemas into docs/openapi/
 * (api.json: the control-plane API, api/openapi.ts; inference.json: the inference server,
 * api/openapi/inference.ts). api/openapi.test.ts fails when the checked-in files differ from these.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_FILES } from '../api/openapi/files';

for (const f of OPENAPI_FILES) {
  writeFileSync(join(__dirname, '..', f.path), f.text());
  process.stdout.write(`wrote ${f.path}\n`);
}
