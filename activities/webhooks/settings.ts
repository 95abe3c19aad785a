/**
 * Settings of the outgoing HTTP calls that plans and monitors configure (canary webhooks, drift
 * alerts, a plan's Prometheus URL), read from the environment of the worker:
 *
 *   AUTOPILOT_WEBHOOK_SECRET         HMAC-SHA256 key that signs every webhook (X-Autopilot-Signature)
 *   AUTOPILOT_WEBHOOK_SECRET_FILE    …or a file holding it (a mounted Kubernetes Secret); trailing newline ignored
 *   AUTOPILOT_WEBHOOK_ALLOWED_HOSTS  comma-separated hosts a plan or monitor may call: `host`, `host:port`,
 *                                    `*.example.com` (any subdomain), or `*` (any host). Default: the
 *                                    loopback names only (localhost, 127.0.0.1, [::1]), i.e. the dev stack
 *   AUTOPILOT_WEBHOOK_MAX_RESPONSE_BYTES  how much of an answer is read (default 65536); the rest is dropped
 *   AUTOPILOT_PROMETHEUS_URL         the Prometheus that canary metric queries run against unless the
 *                                    plan names one (a plan's URL must pass the host allow-list)
 *
 * Bad values fail at start with the variable, the value and what was expected.
 */
import { readFileSync } from 'node:fs';

export interface OutboundSettings {
  /** null: webhooks go out unsigned (a warning is logged once per process). */
  secret: string | null;
  allowedHosts: string[];
  maxResponseBytes: number;
  prometheusUrl: string | null;
}

export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
export const DEFAULT_MAX_RESPONSE_BYTES = 65_536;

const HOST_PATTERN = /^(\*|(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?)$/;

export function loadOutboundSettings(env: NodeJS.ProcessEnv = process.env): OutboundSettings {
  let secret: string | null = null;
  if (env.AUTOPILOT_WEBHOOK_SECRET && env.AUTOPILOT_WEBHOOK_SECRET_FILE) {
    throw new Error('AUTOPILOT_WEBHOOK_SECRET and AUTOPILOT_WEBHOOK_SECRET_FILE are both set; expected one of them');
  }
  if (env.AUTOPILOT_WEBHOOK_SECRET_FILE) {
    try {
      secret = readFileSync(env.AUTOPILOT_WEBHOOK_SECRET_FILE, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`AUTOPILOT_WEBHOOK_SECRET_FILE: cannot read ${env.AUTOPILOT_WEBHOOK_SECRET_FILE} (${(err as Error).message}); expected a readable file holding the webhook secret`, { cause: err });
    }
  } else if (env.AUTOPILOT_WEBHOOK_SECRET) {
    secret = env.AUTOPILOT_WEBHOOK_SECRET;
  }
  if (secret !== null && secret.length < 16) {
    throw new Error(`webhook secret: got ${secret.length} characters, expected at least 16 (e.g. \`openssl rand -hex 32\`)`);
  }
  const hostsText = env.AUTOPILOT_WEBHOOK_ALLOWED_HOSTS;
  const allowedHosts = hostsText === undefined ? [...DEFAULT_ALLOWED_HOSTS] : hostsText.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  for (const h of allowedHosts) {
    if (!HOST_PATTERN.test(h)) throw new Error(`AUTOPILOT_WEBHOOK_ALLOWED_HOSTS: got ${JSON.stringify(h)}, expected host, host:port, *.domain, [ipv6] or *`);
  }
  const maxText = env.AUTOPILOT_WEBHOOK_MAX_RESPONSE_BYTES;
  const maxResponseBytes = maxText === undefined ? DEFAULT_MAX_RESPONSE_BYTES : Number(maxText);
  if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw new Error(`AUTOPILOT_WEBHOOK_MAX_RESPONSE_BYTES: got ${JSON.stringify(maxText)}, expected a whole number of bytes >= 0`);
  }
  const prometheusUrl = env.AUTOPILOT_PROMETHEUS_URL || null;
  if (prometheusUrl !== null && !/^https?:\/\/[^\s/]+/.test(prometheusUrl)) {
    throw new Error(`AUTOPILOT_PROMETHEUS_URL: got ${JSON.stringify(prometheusUrl)}, expected an http:// or https:// URL`);
  }
  return { secret, allowedHosts, maxResponseBytes, prometheusUrl };
}
