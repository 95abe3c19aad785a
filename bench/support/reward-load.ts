/**
 * A closed-loop load generator for POST /v1/rewards (bench/online.ts runs it as its own process:
 * `node -r ./scripts/register-ts.js bench/support/reward-load.ts '<json options>'`; it prints one JSON
 * line of results).
 *
 * Why not autocannon here: a distinct body per request (each reward for its own decision) needs
 * autocannon's `setupRequest`, which rebuilds the whole request per call — more CPU per request than
 * the server spends on a reward (measured: bench/RESULTS.md), taken from the same cores. This
 * one writes `POST path` + a body built from the next decision ids on `connections` keep-alive
 * connections (HTTP/1.1, one request in flight per connection), and parses only the status line,
 * Content-Length and, for batches, the summary at the end of the body. When the time is up it sends
 * nothing more and waits for every answer, so every reward sent is counted.
 *
 * Bodies: `{"decisionId": id, "reward": r}` (perRequest 1) or `{"rewards": [ …perRequest of them ]}`,
 * ids from `idsFile` (one per line) from `start` on, reward r = (i mod 10) / 10 for the i-th id; or a
 * constant `body` (the bare baseline).
 */
import { readFileSync } from 'node:fs';
import { parseResponse, quantile } from './load-common';
import { connect, type Socket } from 'node:net';

export interface RewardLoadOptions {
  host: string;
  port: number;
  path: string;
  connections: number;
  durationS: number;
  /** Seconds of the same load before measuring (ids consumed too). */
  warmupS?: number;
  /** Rewards per request (1: a single-reward body). */
  perRequest?: number;
  idsFile?: string;
  /** Index of the first id to use. */
  start?: number;
  /** A constant body instead of rewards. */
  body?: string;
}

export interface RewardLoadResult {
  /** Requests sent and answered in the measured part. */
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Rewards answered 201 (or a batch's `recorded`), 200 (`duplicates`) and refused (`rejected`, or a whole non-2xx batch). */
  recorded: number;
  duplicates: number;
  rejected: number;
  p50: number;
  p99: number;
  durationS: number;
  /** This generator's CPU per request, µs. */
  cpuPerRequestUs: number;
  /** Ids used in the measured part: [first, next). */
  first: number;
  next: number;
}

interface Conn {
  socket: Socket;
  buf: Buffer;
  started: number;
}

const SUMMARY = /"recorded":(\d+),"duplicates":(\d+),"rejected":(\d+)\}$/;

export async function rewardLoad(opts: RewardLoadOptions): Promise<RewardLoadResult> {
  const per = opts.perRequest ?? 1;
  const ids = opts.idsFile ? readFileSync(opts.idsFile, 'utf8').split('\n').filter(Boolean) : [];
  let next = opts.start ?? 0;
  const head = `POST ${opts.path} HTTP/1.1\r\nhost: ${opts.host}:${opts.port}\r\ncontent-type: application/json\r\ncontent-length: `;
  const constant = opts.body !== undefined ? Buffer.from(`${head}${Buffer.byteLength(opts.body)}\r\n\r\n${opts.body}`) : null;
  const item = (): string => {
    const i = next++;
    return `{"decisionId":"${ids[i % ids.length]}","reward":${(i % 10) / 10}}`;
  };
  const request = (): Buffer | string => {
    if (constant !== null) return constant;
    let body: string;
    if (per === 1) body = item();
    else {
      body = '{"rewards":[';
      for (let j = 0; j < per; j++) body += j === 0 ? item() : `,${item()}`;
      body += ']}';
    }
    return `${head}${body.length}\r\n\r\n${body}`; // ASCII only: length = bytes
  };

  let measuring = false;
  let stopping = false;
  let inFlight = 0;
  let onIdle: (() => void) | null = null;
  const latencies: number[] = [];
  const r = { requests: 0, ok: 0, non2xx: 0, errors: 0, recorded: 0, duplicates: 0, rejected: 0 };

  const send = (c: Conn): void => {
    if (stopping) {
      if (inFlight === 0) onIdle?.();
      return;
    }
    inFlight++;
    c.started = performance.now();
    c.socket.write(request());
  };
  const answered = (c: Conn, status: number, body: Buffer): void => {
    inFlight--;
    if (measuring) {
      r.requests++;
      latencies.push(performance.now() - c.started);
      if (status >= 200 && status < 300) r.ok++;
      else r.non2xx++;
      if (constant === null) {
        if (per === 1) {
          if (status === 201) r.recorded++;
          else if (status === 200) r.duplicates++;
          else r.rejected++;
        } else if (status !== 200) r.rejected += per;
        else {
          const m = SUMMARY.exec(body.toString('latin1', Math.max(0, body.length - 120)));
          if (m === null) throw new Error(`unexpected batch response: ${body.toString('utf8', Math.max(0, body.length - 200))}`);
          r.recorded += Number(m[1]);
          r.duplicates += Number(m[2]);
          r.rejected += Number(m[3]);
        }
      }
    }
    send(c);
  };

  const conns = await Promise.all(
    Array.from({ length: opts.connections }, () => new Promise<Conn>((resolve, reject) => {
      const socket = connect({ host: opts.host, port: opts.port, noDelay: true }, () => resolve(c));
      const c: Conn = { socket, buf: Buffer.alloc(0), started: 0 };
      socket.on('error', (err) => {
        reject(err);
        if (measuring) r.errors++;
      });
      socket.on('data', (chunk: Buffer) => {
        c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
        for (;;) {
          const res = parseResponse(c.buf);
          if (res === null) return;
          if (res.body === undefined) throw new Error(`response without Content-Length: ${c.buf.toString('latin1', 0, 200)}`);
          c.buf = c.buf.subarray(res.bytes);
          answered(c, res.status, res.body);
        }
      });
      socket.on('close', () => {
        if (!stopping) r.errors++;
      });
    })),
  );

  const run = (seconds: number): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      stopping = false;
      onIdle = () => resolve(performance.now() - t0);
      for (const c of conns) send(c);
      setTimeout(() => {
        stopping = true;
        if (inFlight === 0) onIdle?.();
      }, seconds * 1000);
    });

  if ((opts.warmupS ?? 0) > 0) await run(opts.warmupS!);
  measuring = true;
  const first = next;
  const cpu0 = process.cpuUsage();
  const elapsedMs = await run(opts.durationS);
  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.socket.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const q = (p: number) => quantile(sorted, p);
  return { ...r, p50: q(0.5), p99: q(0.99), durationS: elapsedMs / 1000, cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, r.requests), first, next };
}

if (require.main === module) {
  const opts = JSON.parse(process.argv[2] ?? '{}') as RewardLoadOptions;
  rewardLoad(opts).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
