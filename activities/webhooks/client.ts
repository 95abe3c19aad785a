/**
 * Outgoing webhooks of every workflow (canary hooks, drift alerts), one way: a JSON POST that
 *
 *   - is signed: `X-Autopilot-Timestamp: <unix seconds>` and
 *     `X-Autopilot-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (the scheme of
 *     Stripe's and Slack's signed webhooks: the receiver recomputes it over the raw body, compares in
 *     constant time and refuses old timestamps; `verifyWebhookSignature` does exactly that);
 *   - goes only to a host on the allow-list (checked before any connection is made);
 *   - follows no redirect (a 3xx is a failed call that names the Location);
 *   - reads at most `maxResponseBytes` of the answer, then closes the connection;
 *   - ends, whatever the server does, after `timeoutMs` (connect, headers and body together).
 *
 * A call never throws: it reports what happened (`WebhookOutcome`), and the caller decides what a
 * failure means (a canary gate waits or counts it, a drift alert retries). Built on Node's fetch
 * (undici): `redirect: 'manual'` hands back the 3xx, the body is a stream read chunk by chunk, and one
 * AbortSignal bounds the whole exchange.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OutboundSettings } from './settings';

export const SIGNATURE_HEADER = 'x-autopilot-signature';
export const TIMESTAMP_HEADER = 'x-autopilot-timestamp';

export interface WebhookOutcome {
  /** A 2xx answer read within the limits. */
  ok: boolean;
  /** The HTTP status, null when none arrived. */
  status: number | null;
  ms: number;
  /** Why it is not ok (HTTP status, redirect, timeout, refused host, connection error); null when ok. */
  error: string | null;
  /** The start of the answer's body (up to 1 KiB of what was read), for the record. */
  body: string;
  /** Bytes of the answer read (at most maxResponseBytes). */
  bytesRead: number;
  /** The answer was longer than maxResponseBytes; the rest was not read. */
  truncated: boolean;
  signed: boolean;
}

/** `sha256=<hex>` of "<timestamp>.<body>" under `secret`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver does: true when `signature` is the HMAC of "<timestamp>.<body>" under `secret`
 * and the timestamp is within `toleranceS` of `nowS` (replays of old deliveries are refused).
 */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string, opts: { nowS?: number; toleranceS?: number } = {}): boolean {
  const ts = Number(timestamp);
  const now = opts.nowS ?? Math.floor(Date.now() / 1000);
  if (!/^\d+$/.test(timestamp) || Math.abs(now - ts) > (opts.toleranceS ?? 300)) return false;
  const want = Buffer.from(signWebhook(secret, ts, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** An allow-list entry `host`, `host:port` or `[ipv6]:port` → its hostname as URL spells it, and its port (null: any). */
function parseEntry(entry: string): { hostname: string; port: string | null } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
  if (!m) return { hostname: entry, port: null };
  let hostname = m[1];
  try {
    hostname = new URL(`http://${m[1]}`).hostname;
  } catch {
    // not a host URL can parse: compared as written (it then matches nothing)
  }
  return { hostname, port: m[2] ?? null };
}

/** Null when `url`'s host is on the allow-list, else why not. */
export function hostRefusal(url: string, allowedHosts: readonly string[]): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${JSON.stringify(url)} is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol} is not http: or https:`;
  const hostname = u.hostname.toLowerCase();
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  for (const raw of allowedHosts) {
    const entry = raw.toLowerCase();
    if (entry === '*') return null;
    if (entry.startsWith('*.')) {
      if (hostname.endsWith(entry.slice(1))) return null;
      continue;
    }
    const e = parseEntry(entry);
    if (e.hostname === hostname && (e.port === null || e.port === port)) return null;
  }
  return `host ${u.host} is not on the webhook allow-list (${allowedHosts.length ? allowedHosts.join(', ') : 'empty'}); add it to AUTOPILOT_WEBHOOK_ALLOWED_HOSTS`;
}

/** Reads up to `max` bytes of `res`'s body, then cancels the rest. */
export async function readBounded(res: Response, max: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (res.body === null) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = res.body.getReader();
  const chunks: Buffer[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    const room = max - n;
    if (value.byteLength > room) {
      if (room > 0) chunks.push(Buffer.from(value.buffer, value.byteOffset, room));
      await reader.cancel().catch(() => undefined);
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    n += value.byteLength;
  }
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no complete answer within ${timeoutMs} ms`;
  const cause = (e.cause as Error | undefined)?.message;
  return `${e.message}${cause ? ` (${cause})` : ''}`;
}

let warnedUnsigned = false;

export interface WebhookRequest {
  url: string;
  /** The JSON body (serialized once: the signature covers exactly these bytes). */
  payload: unknown;
  timeoutMs: number;
  /** Sent as `X-Autopilot-Event` (e.g. `canary.confirm-promotion`, `drift.alert`). */
  event: string;
}

export type WebhookSender = (req: WebhookRequest) => Promise<WebhookOutcome>;

/** The POST of every webhook, under `settings` (secret, allow-list, response cap). */
export function createWebhookSender(settings: Pick<OutboundSettings, 'secret' | 'allowedHosts' | 'maxResponseBytes'>, http: typeof fetch = fetch): WebhookSender {
  return async (req) => {
    const t0 = performance.now();
    const base = { status: null, body: '', bytesRead: 0, truncated: false, signed: settings.secret !== null };
    const refusal = hostRefusal(req.url, settings.allowedHosts);
    if (refusal !== null) return { ...base, ok: false, ms: 0, error: refusal };
    const body = JSON.stringify(req.payload);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'autopilot-webhook', 'x-autopilot-event': req.event, [TIMESTAMP_HEADER]: String(timestamp) };
    if (settings.secret !== null) headers[SIGNATURE_HEADER] = signWebhook(settings.secret, timestamp, body);
    else if (!warnedUnsigned) {
      warnedUnsigned = true;
      console.warn('autopilot: webhooks go out UNSIGNED: set AUTOPILOT_WEBHOOK_SECRET (or AUTOPILOT_WEBHOOK_SECRET_FILE) so receivers can check X-Autopilot-Signature');
    }
    try {
      const res = await http(req.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(req.timeoutMs) });
      const { bytes, truncated } = await readBounded(res, settings.maxResponseBytes);
      const ms = performance.now() - t0;
      const text = bytes.subarray(0, 1024).toString('utf8');
      const out = { ...base, status: res.status, ms, body: text, bytesRead: bytes.length, truncated };
      if (res.status >= 300 && res.status < 400) {
        return { ...out, ok: false, error: `HTTP ${res.status} redirect to ${res.headers.get('location') ?? '(no Location)'}; webhooks follow no redirects` };
      }
      return { ...out, ok: res.ok, error: res.ok ? null : `HTTP ${res.status}` };
    } catch (err) {
      return { ...base, ok: false, ms: performance.now() - t0, error: describe(err, req.timeoutMs) };
    }
  };
}
