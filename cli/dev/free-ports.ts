/**
 * Free TCP ports on loopback for servers a test or the dev stack starts. All `n` sockets are held open
 * until every port is known, so the ports of one call are distinct; they are released just before the
 * caller binds them.
 *
 * The ports come from below the kernel's ephemeral range (ip_local_port_range, 32768–60999 by default),
 * not from a port-0 bind, which picks inside it: that range is also where every outgoing connection on
 * the machine gets its local port, and a server that takes a few seconds to bind (Temporal's HTTP port)
 * lost its port to a connection of a parallel test that way. Below the range only another listener can
 * take it, and ports are drawn at random there.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** Ports below the ephemeral range start here (above the well-known and most registered services). */
const LOWEST = 10_000;

/** The kernel's ephemeral port range, or Linux's default where it cannot be read. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [lo, hi] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && lo <= hi && hi <= 65535) return [lo, hi];
  } catch {
    // not Linux, or not readable: the default
  }
  return [32768, 60999];
}

function listen(server: Server, port: number, host: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(err)));
    server.listen(port, host, () => resolve(true));
  });
}

export async function freePorts(n: number, host = '127.0.0.1'): Promise<number[]> {
  const [ephemeralLow] = ephemeralRange();
  const span = ephemeralLow - LOWEST;
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    // Random draws below the ephemeral range; the kernel's own choice only if that range is too small.
    for (let tries = 0; ports.length < n && span >= 1000 && tries < 50 * n; tries++) {
      const port = LOWEST + Math.floor(Math.random() * span);
      if (ports.includes(port)) continue;
      const server = createServer();
      if (await listen(server, port, host)) {
        servers.push(server);
        ports.push(port);
      }
    }
    while (ports.length < n) {
      const server = createServer();
      servers.push(server);
      await listen(server, 0, host);
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error(`could not read the port of a socket bound on ${host}`);
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** True when nothing listens on host:port (binding it succeeds). */
export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
