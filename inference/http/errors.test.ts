/**
 * Errors that leak nothing (issue "Trust" item 7): a 5xx carries an error id and a fixed message while
 * its cause is logged under that id; a 503 carries Retry-After; a 404 for an unknown deployment or
 * model does not list the deployed names; a 422 about a stored feature does not echo the stored value.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { fillFromStore } from '../features';
import { createDecideHandler } from '../handlers/decide';
import { createKServeHandlers } from '../handlers/kserve';
import { InferenceMetrics } from '../metrics';
import type { PolicyBinding } from '../policy/binding';
import { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment } from '../serving/served-deployment';
import { ClientError, ServerFault, UNKNOWN_DEPLOYMENT_EXPECTED, asServerFault, unavailable } from './errors';
import { createHttpServer, type Handlers } from './server';

function call(port: number, path: string, body: string): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ServerFault', () => {
  it('sends an id and its public message, never its cause', () => {
    const f = unavailable('cannot look the decision up', new Error('connect ECONNREFUSED 10.0.0.7:6379'), 'Redis');
    expect(f.status).toBe(503);
    expect(f.retryAfterSeconds).toBe(1);
    expect(f.toJSON()).toEqual({ error: `cannot look the decision up: Redis is unavailable (error id ${f.errorId})`, field: null, expected: 'a retry later (Redis is unavailable)', errorId: f.errorId });
    expect(JSON.stringify(f)).not.toMatch(/ECONNREFUSED|10\.0\.0\.7/);
    expect(f.logLine()).toMatch(new RegExp(`^error ${f.errorId}: .*ECONNREFUSED 10\\.0\\.0\\.7`));
  });

  it('gives every fault its own id; a plain Error becomes a 500 fault', () => {
    const a = asServerFault(new Error('relation "decisions" does not exist'));
    const b = asServerFault('a string');
    expect(a.status).toBe(500);
    expect(a.errorId).toMatch(/^[0-9a-f]{12}$/);
    expect(a.errorId).not.toBe(b.errorId);
    expect(JSON.stringify(a)).not.toMatch(/relation|decisions/);
    expect(asServerFault(a)).toBe(a);
  });
});

describe('the router answers 5xx without internal messages', () => {
  let server: Server;
  let port: number;
  const logged: { err: unknown; id: string | undefined }[] = [];
  const fail = (what: string): never => {
    if (what === 'plain') throw new Error('ENOENT: /var/lib/autopilot/secret/model.onnx');
    if (what === 'client503') throw new ClientError(503, 'deployment ranker has no model that can serve (load failed: ENOENT /var/lib/autopilot/secret) and no fallback', 'deployment', 'a deployment with a loadable champion or a fallback action');
    throw unavailable('cannot record the reward now', new Error('password authentication failed for user "autopilot"'), 'the registry database');
  };
  const handlers: Handlers = {
    decide: (body) => fail((body as { what: string }).what),
    rewards: () => fail('fault'),
    live: () => ({}),
    ready: () => ({}),
    serverMetadata: () => ({}),
    modelMetadata: () => ({}),
    modelReady: () => ({}),
    infer: () => ({}),
    metrics: async () => ({ contentType: 'text/plain', body: '' }),
  };

  beforeAll(async () => {
    server = createHttpServer({ maxBodyBytes: 1024, handlers, metrics: new InferenceMetrics({ defaultMetrics: false }), onInternalError: (err, _route, id) => logged.push({ err, id }) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it.each([
    ['a thrown Error', '/v1/decide', '{"what":"plain"}', 500, 'internal error', undefined],
    ['a ClientError of status 503 made elsewhere', '/v1/decide', '{"what":"client503"}', 503, 'service unavailable', '1'],
    ['a ServerFault', '/v1/rewards', '{}', 503, 'cannot record the reward now: the registry database is unavailable', '1'],
  ])('%s: an id, no cause, the cause logged under the id', async (_what, path, body, status, message, retryAfter) => {
    const r = await call(port, path, body);
    expect(r.status).toBe(status);
    expect(r.headers['retry-after']).toBe(retryAfter);
    expect(r.json.error).toBe(`${message} (error id ${r.json.errorId as string})`);
    expect(JSON.stringify(r.json)).not.toMatch(/ENOENT|secret|password|autopilot"/);
    const entry = logged.find((l) => l.id === r.json.errorId);
    expect(entry).toBeDefined();
    expect(String((entry!.err as Error).message)).toMatch(/ENOENT|password/);
  });
});

describe('404s list no deployed names', () => {
  const fake = (name: string) => ({ name, kind: 'policy', close: () => undefined, decide: () => ({}) }) as unknown as ServedDeployment;

  it('decide: the same 404 whatever is deployed', () => {
    const map = new DeploymentMap();
    map.update(fake('secret-pricing-model'));
    map.update(fake('acme-corp-router'));
    const decide = createDecideHandler({ deployments: map });
    let err: ClientError | null = null;
    try {
      decide({ deployment: 'guess', features: [1] }, { bodyText: null } as never);
    } catch (e) {
      err = e as ClientError;
    }
    expect(err).toMatchObject({ status: 404, field: 'deployment', expected: UNKNOWN_DEPLOYMENT_EXPECTED });
    expect(JSON.stringify(err!.toJSON())).not.toMatch(/secret-pricing-model|acme-corp-router/);
  });

  it('KServe model metadata: no names either', () => {
    const manager = { get: () => undefined, names: () => ['secret-pricing-model'] };
    const kserve = createKServeHandlers({ manager: manager as never, metrics: new InferenceMetrics({ defaultMetrics: false }), serverName: 's', serverVersion: '0' });
    let err: ClientError | null = null;
    try {
      void kserve.modelMetadata({} as never, { name: 'guess', version: null });
    } catch (e) {
      err = e as ClientError;
    }
    expect(err).toMatchObject({ status: 404, expected: UNKNOWN_DEPLOYMENT_EXPECTED });
    expect(JSON.stringify(err!.toJSON())).not.toMatch(/secret-pricing-model/);
  });
});

describe('the feature store', () => {
  const binding: PolicyBinding = { input: { name: 'obs', size: 2, features: ['income', 'age'] }, policy: null, outputs: [] };

  it('422 names the feature, not the stored value', async () => {
    const store = { hgetall: async () => ({ income: 'ssn:078-05-1120', age: '41' }) };
    const err = await fillFromStore(store, 'features:', 'user:42', [0, 1], binding, new Float32Array(2)).catch((e: ClientError) => e);
    expect(err).toMatchObject({ status: 422, field: 'features.income' });
    expect(JSON.stringify((err as ClientError).toJSON())).not.toMatch(/078-05-1120|ssn/);
  });

  it('404 for an absent entity does not name the Redis key', async () => {
    const err = await fillFromStore({ hgetall: async () => ({}) }, 'tenant-a:features:', 'user:42', [0, 1], binding, new Float32Array(2)).catch((e: ClientError) => e);
    expect(err).toMatchObject({ status: 404 });
    expect((err as ClientError).message).not.toMatch(/tenant-a/);
  });

  it('a store that is down is a 503 with Retry-After, not a 500', async () => {
    const down = { hgetall: async () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:6379')) };
    const err = await fillFromStore(down, 'features:', 'user:42', [0, 1], binding, new Float32Array(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServerFault);
    expect(err).toMatchObject({ status: 503, retryAfterSeconds: 1 });
    expect(JSON.stringify((err as ServerFault).toJSON())).not.toMatch(/ECONNREFUSED|10\.1\.2\.3/);
  });
});
