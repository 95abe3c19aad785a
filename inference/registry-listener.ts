/**
 * LISTENs on the registry's NOTIFY channel with a dedicated connection and reconnects with backoff
 * when it drops. After every (re)connect it calls `onResync` — notifications sent while it was
 * disconnected are lost, so the caller re-reads everything then.
 */
import { Client } from 'pg';
import { parseRegistryNotification } from '../registry/audit';
import { REGISTRY_CHANNEL, type RegistryNotification } from '../registry/types';

export interface ListenerOptions {
  databaseUrl: string;
  onNotification: (n: RegistryNotification) => void;
  onResync: () => void;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class RegistryListener {
  private client: Client | null = null;
  private closed = false;
  private backoff: number;
  private timer: NodeJS.Timeout | null = null;
  /** True while LISTEN is active. */
  connected = false;

  constructor(private readonly opts: ListenerOptions) {
    this.backoff = opts.minBackoffMs ?? 200;
  }

  /** Connects (retrying in the background on failure); resolves after the first attempt. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ connectionString: this.opts.databaseUrl, connectionTimeoutMillis: 3000, keepAlive: true });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel !== REGISTRY_CHANNEL || msg.payload === undefined) return;
      let n: RegistryNotification;
      try {
        n = parseRegistryNotification(msg.payload);
      } catch (err) {
        this.opts.log?.('warn', `ignoring a malformed registry notification: ${(err as Error).message}`);
        return;
      }
      this.opts.onNotification(n);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      this.retry(err as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.backoff = this.opts.minBackoffMs ?? 200;
    this.opts.onResync();
  }

  private lost(client: Client, err: Error): void {
    if (this.client !== client) return;
    this.client = null;
    this.connected = false;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.retry(err);
  }

  private retry(err: Error): void {
    if (this.closed || this.timer !== null) return;
    this.opts.log?.('warn', `registry LISTEN connection unavailable (${err.message}); retrying in ${this.backoff} ms`);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (c !== null) {
      c.removeAllListeners('end');
      await c.end().catch(() => undefined);
    }
  }
}
