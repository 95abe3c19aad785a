/**
 * A TCP proxy a test controls, to take a real service away and bring it back: `cut()` drops every
 * connection and refuses new ones (the service looks down), `restore()` accepts again on the same port;
 * `delayAnswers(ms, n)`: the next `n` answers (on whichever connections they come) arrive `ms` late, and
 * so does everything after them on their connection (the request is served, the client sees a slow
 * answer: a client timeout after the server acted).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  private delays: number[] = [];

  /** The next `answers` answers from the service (and what follows on their connections) arrive `ms` late. */
  delayAnswers(ms: number, answers = 1): void {
    for (let i = 0; i < answers; i++) this.delays.push(ms);
  }

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      this.sockets.add(client);
      this.sockets.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop);
      upstream.on('error', drop);
      client.on('close', drop);
      upstream.on('close', drop);
      client.pipe(upstream);
      let delay: number | undefined;
      upstream.on('data', (chunk: Buffer) => {
        delay ??= this.delays.shift();
        if (delay === undefined) client.write(chunk);
        else setTimeout(() => client.destroyed || client.write(chunk), delay);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this.port;
  }

  /** Refuses new connections and resets the open ones. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Accepts connections again on the same port. */
  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
