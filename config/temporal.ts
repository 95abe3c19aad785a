/**
 * How every Autopilot process reaches Temporal securely (R-OPS-CONFIG; issue "Trust", item 3): TLS,
 * mutual TLS and an API key, read from the environment. The CLI's client (cli/temporal.ts) and the
 * workers (workers/worker.ts) build their connection options here, so both connect the same way.
 *
 *   AUTOPILOT_TEMPORAL_TLS              `true` | `false`: TLS with the system's trusted roots. Default: on when
 *                                        any variable below is set (Temporal Cloud needs TLS), off otherwise
 *   AUTOPILOT_TEMPORAL_TLS_CA           PEM file: the CA that signed the server's certificate (a private CA)
 *   AUTOPILOT_TEMPORAL_TLS_CERT         PEM file: this client's certificate (mTLS; needs _KEY)
 *   AUTOPILOT_TEMPORAL_TLS_KEY          PEM file: this client's private key (mTLS; needs _CERT)
 *   AUTOPILOT_TEMPORAL_TLS_SERVER_NAME  the name the server's certificate is checked against (SNI), when it
 *                                        differs from the address's host (a proxy, an IP address)
 *   AUTOPILOT_TEMPORAL_API_KEY          sent as `Authorization: Bearer <key>` on every call (the SDK's apiKey)
 *
 * An empty value counts as unset (compose files and Helm charts leave optional variables empty). Files are
 * read when the connection is made, so a missing or unreadable one fails at start with the variable's name.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

export const TEMPORAL_SECURITY_VARIABLES = {
  tls: 'AUTOPILOT_TEMPORAL_TLS',
  ca: 'AUTOPILOT_TEMPORAL_TLS_CA',
  cert: 'AUTOPILOT_TEMPORAL_TLS_CERT',
  key: 'AUTOPILOT_TEMPORAL_TLS_KEY',
  serverName: 'AUTOPILOT_TEMPORAL_TLS_SERVER_NAME',
  apiKey: 'AUTOPILOT_TEMPORAL_API_KEY',
} as const;

const V = TEMPORAL_SECURITY_VARIABLES;

/** The security settings, validated for consistency (files are read by temporalConnectionOptions). */
export interface TemporalSecurity {
  tls: boolean;
  caPath: string | null;
  /** Client certificate and key paths: both set (mTLS) or both null. */
  clientCert: { certPath: string; keyPath: string } | null;
  serverName: string | null;
  apiKey: string | null;
}

/** Options for `Connection.connect` (client) and `NativeConnection.connect` (worker): the fields both share. */
export interface TemporalConnectionOptions {
  address: string;
  /** `false`: plaintext; a TLSConfig (possibly `{}`: system roots, no client certificate) otherwise. */
  tls: TLSConfig | false;
  apiKey?: string;
}

export class TemporalSettingsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemporalSettingsError';
  }
}

function value(env: NodeJS.ProcessEnv, name: string): string | null {
  const v = env[name];
  return v === undefined || v.trim() === '' ? null : v;
}

export function loadTemporalSecurity(env: NodeJS.ProcessEnv = process.env): TemporalSecurity {
  const caPath = value(env, V.ca);
  const certPath = value(env, V.cert);
  const keyPath = value(env, V.key);
  const serverName = value(env, V.serverName);
  const apiKey = value(env, V.apiKey);
  if ((certPath === null) !== (keyPath === null)) {
    const [set, missing] = certPath !== null ? [V.cert, V.key] : [V.key, V.cert];
    throw new TemporalSettingsError(`${set} is set but ${missing} is not: mutual TLS needs the client certificate and its private key (set both, or neither)`);
  }
  if (apiKey !== null && /\s/.test(apiKey.trim())) {
    throw new TemporalSettingsError(`${V.apiKey}: got a value with whitespace inside; expected the API key alone (it is sent as "Authorization: Bearer <key>", do not include "Bearer")`);
  }
  const anyTlsSetting = caPath !== null || certPath !== null || serverName !== null;
  const tlsFlag = value(env, V.tls);
  let tls: boolean;
  if (tlsFlag === null) tls = anyTlsSetting || apiKey !== null;
  else if (tlsFlag === 'true') tls = true;
  else if (tlsFlag === 'false') {
    if (anyTlsSetting) {
      const set = [V.ca, V.cert, V.serverName].filter((n) => value(env, n) !== null).join(', ');
      throw new TemporalSettingsError(`${V.tls} is false but ${set} ${set.includes(',') ? 'are' : 'is'} set: unset ${V.tls} (TLS turns on by itself) or the TLS variables`);
    }
    tls = false;
  } else {
    throw new TemporalSettingsError(`${V.tls}: got ${JSON.stringify(tlsFlag)}; expected true or false`);
  }
  return { tls, caPath, clientCert: certPath !== null && keyPath !== null ? { certPath, keyPath } : null, serverName, apiKey: apiKey?.trim() ?? null };
}

/** Reads a PEM file named by `variable`, failing with the variable, the path and what was expected. */
function readPem(variable: string, path: string, read: (path: string) => Buffer): Buffer {
  let bytes: Buffer;
  try {
    bytes = read(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory' : (err as Error).message;
    throw new TemporalSettingsError(`${variable}: cannot read ${path} (${why}); expected a PEM file`, { cause: err });
  }
  if (!bytes.toString('latin1').includes('-----BEGIN ')) {
    throw new TemporalSettingsError(`${variable}: ${path} is not PEM (no "-----BEGIN" line); expected a PEM-encoded ${variable === V.key ? 'private key' : 'certificate'}`);
  }
  return bytes;
}

/** The connection options for `address` under these security settings (reads the PEM files). */
export function temporalConnectionOptions(address: string, security: TemporalSecurity, read: (path: string) => Buffer = (p) => readFileSync(p)): TemporalConnectionOptions {
  let tls: TLSConfig | false = false;
  if (security.tls) {
    tls = {};
    if (security.caPath !== null) tls.serverRootCACertificate = readPem(V.ca, security.caPath, read);
    if (security.clientCert !== null) {
      tls.clientCertPair = { crt: readPem(V.cert, security.clientCert.certPath, read), key: readPem(V.key, security.clientCert.keyPath, read) };
    }
    if (security.serverName !== null) tls.serverNameOverride = security.serverName;
  }
  return { address, tls, ...(security.apiKey !== null ? { apiKey: security.apiKey } : {}) };
}

/** One line for logs and error messages, naming what is on and never a secret. */
export function describeTemporalSecurity(security: TemporalSecurity): string {
  if (!security.tls) return security.apiKey !== null ? 'plaintext, API key' : 'plaintext';
  const parts = [security.clientCert !== null ? 'mTLS' : 'TLS'];
  parts.push(security.caPath !== null ? `CA ${security.caPath}` : 'system CAs');
  if (security.serverName !== null) parts.push(`server name ${security.serverName}`);
  if (security.apiKey !== null) parts.push('API key');
  return parts.join(', ');
}
