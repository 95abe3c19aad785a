/**
 * The options config/temporal.ts builds really secure the connection, for the CLI's client
 * (`Connection`, grpc-js) and the workers' `NativeConnection` (Temporal's Rust core): an HTTP/2 TLS
 * server that demands a client certificate signed by a test CA (made here with `openssl`) stands where
 * Temporal would and records what each connection presents — the server name it asked for, the client
 * certificate, the Authorization header — then answers every call UNAUTHENTICATED. The dev server
 * (`temporal server start-dev`) has no TLS, hence this stand-in.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { describeWithTool } from '../test/support/tools';
import { loadTemporalSecurity, temporalConnectionOptions } from './temporal';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Seen {
  serverName: string | false;
  clientCommonName: string | null;
  authorization: string | null;
  path: string;
}

describeWithTool('config/temporal.int.test.ts', hasOpenssl(), 'openssl is not on PATH (Debian package openssl)')('Temporal TLS, mTLS and API key options on the wire', () => {
  let dir: string;
  let server: Http2SecureServer;
  let address: string;
  const seen: Seen[] = [];
  const handshakeErrors: string[] = [];
  const sessions = new Set<ServerHttp2Session>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ap-temporal-mtls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=autopilot-test-ca', '-days', '2');
    for (const [name, ext] of [
      ['server', 'subjectAltName=DNS:temporal.internal\nextendedKeyUsage=serverAuth\n'],
      ['client', 'extendedKeyUsage=clientAuth\n'],
    ]) {
      writeFileSync(join(dir, `${name}.ext`), `basicConstraints=CA:FALSE\n${ext}`);
      ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'temporal.internal' : 'autopilot-worker'}`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
    }
    server = createSecureServer({
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: true,
      allowHTTP1: false,
    });
    server.on('tlsClientError', (err) => handshakeErrors.push(err.message));
    server.on('session', (session) => sessions.add(session));
    server.on('stream', (stream, headers) => {
      const socket = stream.session!.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      seen.push({
        serverName: (socket as TLSSocket & { servername: string | false }).servername,
        clientCommonName: peer && typeof peer.subject?.CN === 'string' ? peer.subject.CN : null,
        authorization: typeof headers.authorization === 'string' ? headers.authorization : null,
        path: String(headers[':path']),
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'stand-in server' }, { endStream: true });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    // A client whose connect failed may keep its HTTP/2 session open: end them so close() returns.
    for (const session of sessions) session.destroy();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
    handshakeErrors.length = 0;
  });

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    AUTOPILOT_TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
    AUTOPILOT_TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
    AUTOPILOT_TEMPORAL_TLS_KEY: join(dir, 'client.key'),
    AUTOPILOT_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    AUTOPILOT_TEMPORAL_API_KEY: 'test-api-key',
    ...extra,
  });

  it.each([
    ['the CLI client (Connection)', (o: ReturnType<typeof temporalConnectionOptions>) => Connection.connect({ ...o, connectTimeout: '5s' }).then((c) => c.close())],
    ['a worker (NativeConnection)', (o: ReturnType<typeof temporalConnectionOptions>) => NativeConnection.connect(o).then((c) => c.close())],
  ])('%s verifies the server against the CA under the server name, presents the client certificate and sends the API key', async (_who, connect) => {
    const options = temporalConnectionOptions(address, loadTemporalSecurity(env()));
    // Both fail on the stand-in's UNAUTHENTICATED answer (the client wraps it as "Failed to connect").
    await expect(connect(options)).rejects.toThrow(/stand-in server|Failed to connect to Temporal server/);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toMatchObject({ serverName: 'temporal.internal', clientCommonName: 'autopilot-worker', authorization: 'Bearer test-api-key' });
    expect(seen[0].path).toMatch(/^\/temporal\.api\.workflowservice\.v1\.WorkflowService\//);
  });

  it('without the client certificate the server refuses the handshake: no call gets through', async () => {
    const options = temporalConnectionOptions(address, loadTemporalSecurity(env({ AUTOPILOT_TEMPORAL_TLS_CERT: '', AUTOPILOT_TEMPORAL_TLS_KEY: '' })));
    await expect(Connection.connect({ ...options, connectTimeout: '3s' })).rejects.toThrow();
    expect(seen).toEqual([]);
    expect(handshakeErrors.join('; ')).toMatch(/certificate/i);
  });

  it('without the CA the client refuses the server (its certificate is not from a trusted CA)', async () => {
    const options = temporalConnectionOptions(address, loadTemporalSecurity(env({ AUTOPILOT_TEMPORAL_TLS_CA: '' })));
    await expect(Connection.connect({ ...options, connectTimeout: '3s' })).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});
