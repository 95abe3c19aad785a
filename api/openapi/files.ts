/** The OpenAPI documents checked into docs/openapi/ (written by `make openapi`, compared by api/openapi.test.ts). */
import { apiDocument } from '../openapi';
import { documentText } from './document';
import { inferenceDocument } from './inference';

export const OPENAPI_FILES: { path: string; text: () => string }[] = [
  { path: 'docs/openapi/api.json', text: () => documentText(apiDocument()) },
  { path: 'docs/openapi/inference.json', text: () => documentText(inferenceDocument()) },
];
