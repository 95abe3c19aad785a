/**
 * An open-loop load generator at a fixed rate, for latency at a given load (bench/inference.ts runs it
 * as its own process: `node -r ./scripts/register-ts.js bench/support/paced-load.ts '<json options>'`;
 * it prints one JSON line of results).
 *
 * Why not autocannon's `overallRate`: autocannon sends each second's quota as fast as it can at the
 * start of the second and then waits for the next one, so "5,000 req/s" is really short bursts at
 * maximum throughput — the latency it reports is that of a saturated server. Here request k is due at
 * t0 + k / rate: every millisecond the scheduler sends the requests that have come due, each on a free
 * keep-alive connection (HTTP/1.1, one request in flight per connection, no pipelining). A request
 * that finds no free connection waits for one, and its latency counts from the tick that found it due
 * (the wait is the server's doing); the generator's own lateness (timer granularity, ~1 ms) is
 * reported separately as `lag` and not counted in the latency.
 *
 * Responses are parsed minimally: status line, Content-Length, body. Anything else (chunked bodies,
 * a closed connection, a non-2xx status) is counted as an error.
 */
import { connect, type Socket } from 'node:net';
import { parseResponse, quantile } from './load-common';

export interface PacedOptions {
  host: string;
  port: number;
  path: string;
  body: string;
  rate: number;
  durationS: number;
  connections: number;
  /** Seconds of load before measuring (same rate), for JIT and connection warm-up. */
  warmupS?: number;
  /** Sent as the `authorization` header (an API key: `Bearer apk_…`), when given. */
  authorization?: string;
}

export interface PacedResult {
  rate: number;
  sent: number;
  ok: number;
  errors: number;
  non2xx: number;
  /** Latency quantiles in ms, from the tick that found the request due to the end of its response. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** How late the scheduler's ticks were against the schedule, ms (p99 and max). */
  lagP99: number;
  lagMax: number;
  /** Requests that had to wait for a free connection. */
  queued: number;
  /**
   * The three 100-ms windows (by the tick that found the request due) with the slowest answers, slowest
   * first: `at` seconds into the run, the window's `max` and `p50` latency in ms. Tells one stall of the
   * server (one window, then a backlog) from latency spread over the run.
   */
  slowest: { at: number; max: number; p50: number }[];
  /** This generator's CPU per request, µs. */
  cpuPerRequestUs: number;
  durationS: number;
}

interface Conn {
  socket: Socket;
  busy: boolean;
  started: number;
  buf: Buffer;
}

export async function pacedLoad(opts: PacedOptions): Promise<PacedResult> {
  const request = Buffer.from(
    `POST ${opts.path} HTTP/1.1\r\nhost: ${opts.host}:${opts.port}\r\ncontent-type: application/json\r\n${opts.authorization === undefined ? '' : `authorization: ${opts.authorization}\r\n`}content-length: ${Buffer.byteLength(opts.body)}\r\n\r\n${opts.body}`,
  );
  const conns: Conn[] = [];
  const free: Conn[] = [];
  const waiting: number[] = []; // due times (ms) of requests waiting for a connection
  let measuring = false;
  const latencies: number[] = [];
  /** When each measured request was found due (ms since the measured run began), beside `latencies`. */
  const dueAt: number[] = [];
  let runStart = 0;
  const lags: number[] = [];
  let sent = 0;
  let ok = 0;
  let errors = 0;
  let non2xx = 0;
  let queued = 0;

  const send = (c: Conn, due: number): void => {
    c.busy = true;
    c.started = due;
    if (measuring) sent++;
    c.socket.write(request);
  };
  const onFree = (c: Conn): void => {
    c.busy = false;
    const next = waiting.shift();
    if (next !== undefined) send(c, next);
    else free.push(c);
  };

  await Promise.all(
    Array.from({ length: opts.connections }, () => new Promise<void>((resolve, reject) => {
      const socket = connect({ host: opts.host, port: opts.port, noDelay: true }, () => resolve());
      const c: Conn = { socket, busy: false, started: 0, buf: Buffer.alloc(0) };
      socket.on('error', (err) => {
        reject(err); // before the connection was up: the run fails; afterwards: counted
        if (measuring) errors++;
      });
      socket.on('data', (chunk: Buffer) => {
        c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
        for (;;) {
          const r = parseResponse(c.buf);
          if (r === null) return;
          if (r.bytes < 0) {
            errors++;
            socket.destroy();
            return;
          }
          c.buf = c.buf.subarray(r.bytes);
          if (measuring) {
            if (r.status >= 200 && r.status < 300) {
              ok++;
              latencies.push(performance.now() - c.started);
              dueAt.push(c.started - runStart);
            } else non2xx++;
          }
          onFree(c);
        }
      });
      socket.on('close', () => {
        if (c.busy && measuring) errors++;
        const i = free.indexOf(c);
        if (i >= 0) free.splice(i, 1);
      });
      conns.push(c);
      free.push(c);
    })),
  );

  const run = (seconds: number): Promise<number> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      runStart = t0;
      const total = Math.round(seconds * opts.rate);
      let k = 0;
      const tick = (): void => {
        const now = performance.now();
        const dueCount = Math.min(total, Math.floor(((now - t0) * opts.rate) / 1000) + 1);
        if (k < dueCount) {
          const due = t0 + (k * 1000) / opts.rate;
          if (measuring) lags.push(now - due);
        }
        while (k < dueCount) {
          k++;
          const c = free.pop();
          if (c !== undefined) send(c, now);
          else {
            if (measuring) queued++;
            waiting.push(now);
          }
        }
        if (k < total) setTimeout(tick, Math.max(0, t0 + (k * 1000) / opts.rate - performance.now()));
        else {
          const wait = (): void => {
            if (waiting.length === 0 && conns.every((c) => !c.busy || c.socket.destroyed)) resolve(performance.now() - t0);
            else if (performance.now() - t0 > seconds * 1000 + 10_000) resolve(performance.now() - t0);
            else setTimeout(wait, 1);
          };
          wait();
        }
      };
      tick();
    });

  if ((opts.warmupS ?? 1) > 0) await run(opts.warmupS ?? 1);
  measuring = true;
  const cpu0 = process.cpuUsage();
  const elapsedMs = await run(opts.durationS);
  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.socket.destroy();

  const windows = new Map<number, number[]>();
  for (let i = 0; i < latencies.length; i++) {
    const w = Math.floor(dueAt[i] / 100);
    const list = windows.get(w);
    if (list === undefined) windows.set(w, [latencies[i]]);
    else list.push(latencies[i]);
  }
  const slowest = [...windows]
    .map(([w, list]) => {
      const s = Float64Array.from(list).sort();
      return { at: w / 10, max: s[s.length - 1], p50: quantile(s, 0.5) };
    })
    .sort((a, b) => b.max - a.max)
    .slice(0, 3);
  const sorted = Float64Array.from(latencies).sort();
  const lagSorted = Float64Array.from(lags).sort();
  return {
    rate: opts.rate,
    sent,
    ok,
    errors,
    non2xx,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    p999: quantile(sorted, 0.999),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    lagP99: quantile(lagSorted, 0.99),
    lagMax: lagSorted.length ? lagSorted[lagSorted.length - 1] : NaN,
    queued,
    slowest,
    cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, sent),
    durationS: elapsedMs / 1000,
  };
}

if (require.main === module) {
  const opts = JSON.parse(process.argv[2] ?? '{}') as PacedOptions;
  pacedLoad(opts).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
