/**
 * The second baseline of bench/inference: Autopilot's own HTTP layer (inference/http/server.ts with its
 * fast path) answering every POST /v1/decide with the same constant JSON as the bare node:http server.
 * decide against this one is what the decision itself costs; against bare node:http, the whole server.
 */
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../inference/http/server';
import { InferenceMetrics } from '../../inference/metrics';

const answer = { decisionId: '00000000-0000-4000-8000-000000000000', model: 'ranker', version: 1, arm: 'champion', action: { variant: 'B', k: 12, rerank: true, fusion_weight: 0.31, prompt_id: 2 }, propensity: 1, armProbability: 0.75, fallback: false };
const metrics = new InferenceMetrics({ defaultMetrics: false });
const none = () => ({});
const server = createHttpServer({
  maxBodyBytes: 64 * 1024,
  metrics,
  handlers: { decide: () => answer, rewards: none, live: none, ready: none, serverMetadata: none, modelMetadata: none, modelReady: none, infer: none, metrics: async () => ({ contentType: 'text/plain', body: '' }) },
  keepAliveTimeoutMs: 65_000,
});
server.listen(0, '127.0.0.1', () => console.log(`serving on http://127.0.0.1:${(server.address() as AddressInfo).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
