/**
 * The second baseline of bench/inference: Autopilot's own HTTP layer (inference/http/server.ts with its
 * fast path) answering every POST /v1/decide with the same constant JSON as the bare node:http server.
 * decide against this one is what the decision itself costs; against bare node:http, the whole server.
 */
import type { AddressInfo } from 'node:net';
import { createHttpServer } from '../../inference/http/server';
import { InferenceMetrics } from '../../inference/metrics';
import { BASELINE_ANSWER as answer } from './baseline-answer';

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
