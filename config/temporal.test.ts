import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTemporalSecurity, loadTemporalSecurity, temporalConnectionOptions, TemporalSettingsError } from './temporal';

const ADDRESS = 'autopilot.tmprl.cloud:7233';
let dir: string;
const pem = (label: string, body: string) => `-----BEGIN ${label}-----\n${Buffer.from(body).toString('base64')}\n-----END ${label}-----\n`;
let ca: string;
let cert: string;
let key: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ap-temporal-tls-'));
  ca = join(dir, 'ca.pem');
  cert = join(dir, 'client.pem');
  key = join(dir, 'client.key');
  writeFileSync(ca, pem('CERTIFICATE', 'the CA'));
  writeFileSync(cert, pem('CERTIFICATE', 'the client'));
  writeFileSync(key, pem('PRIVATE KEY', 'the key'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = (env: NodeJS.ProcessEnv) => temporalConnectionOptions(ADDRESS, loadTemporalSecurity(env));

describe('Temporal connection options from the environment', () => {
  it('plaintext when nothing is set (the dev server)', () => {
    expect(options({})).toEqual({ address: ADDRESS, tls: false });
    expect(describeTemporalSecurity(loadTemporalSecurity({}))).toBe('plaintext');
  });

  it('mTLS with a private CA and a server name: the files are read into the SDK TLSConfig', () => {
    const env = { AUTOPILOT_TEMPORAL_TLS_CA: ca, AUTOPILOT_TEMPORAL_TLS_CERT: cert, AUTOPILOT_TEMPORAL_TLS_KEY: key, AUTOPILOT_TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' };
    const o = options(env);
    expect(o).toEqual({
      address: ADDRESS,
      tls: {
        serverRootCACertificate: Buffer.from(pem('CERTIFICATE', 'the CA')),
        clientCertPair: { crt: Buffer.from(pem('CERTIFICATE', 'the client')), key: Buffer.from(pem('PRIVATE KEY', 'the key')) },
        serverNameOverride: 'temporal.internal',
      },
    });
    expect(describeTemporalSecurity(loadTemporalSecurity(env))).toBe(`mTLS, CA ${ca}, server name temporal.internal`);
  });

  it('an API key turns TLS on with the system roots and is passed as the SDK apiKey (Authorization: Bearer)', () => {
    const env = { AUTOPILOT_TEMPORAL_API_KEY: '  eyJ.secret.key\n' };
    expect(options(env)).toEqual({ address: ADDRESS, tls: {}, apiKey: 'eyJ.secret.key' });
    expect(describeTemporalSecurity(loadTemporalSecurity(env))).toBe('TLS, system CAs, API key');
  });

  it('AUTOPILOT_TEMPORAL_TLS=false keeps an API key on a plaintext connection (a local proxy); =true alone is TLS with system roots', () => {
    expect(options({ AUTOPILOT_TEMPORAL_API_KEY: 'k', AUTOPILOT_TEMPORAL_TLS: 'false' })).toEqual({ address: ADDRESS, tls: false, apiKey: 'k' });
    expect(options({ AUTOPILOT_TEMPORAL_TLS: 'true' })).toEqual({ address: ADDRESS, tls: {} });
  });

  it('empty values count as unset', () => {
    expect(options({ AUTOPILOT_TEMPORAL_TLS_CA: '', AUTOPILOT_TEMPORAL_API_KEY: ' ', AUTOPILOT_TEMPORAL_TLS: '' })).toEqual({ address: ADDRESS, tls: false });
  });

  it.each([
    [{ AUTOPILOT_TEMPORAL_TLS_CERT: 'c.pem' }, 'AUTOPILOT_TEMPORAL_TLS_CERT is set but AUTOPILOT_TEMPORAL_TLS_KEY is not: mutual TLS needs the client certificate and its private key (set both, or neither)'],
    [{ AUTOPILOT_TEMPORAL_TLS_KEY: 'k.pem' }, 'AUTOPILOT_TEMPORAL_TLS_KEY is set but AUTOPILOT_TEMPORAL_TLS_CERT is not: mutual TLS needs the client certificate and its private key (set both, or neither)'],
    [{ AUTOPILOT_TEMPORAL_TLS: 'yes' }, 'AUTOPILOT_TEMPORAL_TLS: got "yes"; expected true or false'],
    [{ AUTOPILOT_TEMPORAL_TLS: 'false', AUTOPILOT_TEMPORAL_TLS_CA: 'ca.pem' }, 'AUTOPILOT_TEMPORAL_TLS is false but AUTOPILOT_TEMPORAL_TLS_CA is set: unset AUTOPILOT_TEMPORAL_TLS (TLS turns on by itself) or the TLS variables'],
    [{ AUTOPILOT_TEMPORAL_API_KEY: 'Bearer abc' }, 'AUTOPILOT_TEMPORAL_API_KEY: got a value with whitespace inside; expected the API key alone (it is sent as "Authorization: Bearer <key>", do not include "Bearer")'],
  ])('refuses inconsistent settings %j', (env, message) => {
    expect(() => loadTemporalSecurity(env)).toThrow(new TemporalSettingsError(message));
  });

  it('names the variable and the path of a file that is missing, unreadable or not PEM', () => {
    const missing = join(dir, 'nope.pem');
    expect(() => options({ AUTOPILOT_TEMPORAL_TLS_CA: missing })).toThrow(`AUTOPILOT_TEMPORAL_TLS_CA: cannot read ${missing} (no such file); expected a PEM file`);
    expect(() => options({ AUTOPILOT_TEMPORAL_TLS_CERT: cert, AUTOPILOT_TEMPORAL_TLS_KEY: dir })).toThrow(`AUTOPILOT_TEMPORAL_TLS_KEY: cannot read ${dir} (a directory); expected a PEM file`);
    const der = join(dir, 'client.der');
    writeFileSync(der, Buffer.from([0x30, 0x82, 0x01, 0x0a]));
    expect(() => options({ AUTOPILOT_TEMPORAL_TLS_CERT: der, AUTOPILOT_TEMPORAL_TLS_KEY: key })).toThrow(
      `AUTOPILOT_TEMPORAL_TLS_CERT: ${der} is not PEM (no "-----BEGIN" line); expected a PEM-encoded certificate`,
    );
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked.key');
      writeFileSync(locked, pem('PRIVATE KEY', 'x'));
      chmodSync(locked, 0o000);
      expect(() => options({ AUTOPILOT_TEMPORAL_TLS_CERT: cert, AUTOPILOT_TEMPORAL_TLS_KEY: locked })).toThrow(`AUTOPILOT_TEMPORAL_TLS_KEY: cannot read ${locked} (permission denied); expected a PEM file`);
    }
  });
});
