/**
 * The test client's validation is not vacuous: answers that differ from the document (a missing field,
 * an extra field inside a $ref'd component, an undocumented status) are refused.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiDocument } from '../openapi';
import { OpenApiClient } from './openapi-client';

describe('OpenApiClient', () => {
  let server: Server;
  let client: OpenApiClient;
  let answer: { status: number; body: unknown };

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new OpenApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiDocument() as ConstructorParameters<typeof OpenApiClient>[1]);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const deployment = {
    deployment: 'm', model: 'm', kind: 'policy', championVersion: 1, canaryVersion: null, canaryWeight: 0, generation: 1,
    exploration: { mode: 'greedy' }, fallback: null, config: {}, updatedAt: '2026-12-06T19:00:00.000Z',
  };

  it('accepts an answer that matches', async () => {
    answer = { status: 200, body: [deployment] };
    expect((await client.call('GET', '/v1/deployments')).status).toBe(200);
  });

  it.each([
    ['a missing field', { status: 200, body: [{ ...deployment, generation: undefined }] }, /does not match/],
    ['an extra field in a referenced component', { status: 200, body: [{ ...deployment, extra: 1 }] }, /does not match/],
    ['a wrong time format', { status: 200, body: [{ ...deployment, updatedAt: 'yesterday' }] }, /does not match/],
    ['an error body of another shape', { status: 400, body: { message: 'no' } }, /does not match/],
    ['an undocumented status', { status: 418, body: {} }, /does not document/],
  ])('refuses %s', async (_, a, message) => {
    answer = a;
    await expect(client.call('GET', '/v1/deployments')).rejects.toThrow(message);
  });

  it('refuses a request body that does not match (unless marked invalid on purpose)', async () => {
    await expect(client.call('POST', '/v1/deployments/m', { body: { canaryWeight: 'half' } })).rejects.toThrow(/request body does not match/);
  });
});
