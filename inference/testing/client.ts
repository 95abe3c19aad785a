/** A keep-alive JSON client for load in tests and the bench (node:http, no per-request connection). */
import { Agent, request } from 'node:http';
import { TEST_AUTHORIZATION } from './api-key';

export interface JsonResponse {
  status: number;
  body: any;
}

export class JsonClient {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  private readonly authorization: Record<string, string>;

  /** `apiKey`: the token sent as `Authorization: Bearer …` (default: the test key of ./api-key.ts; null: none). */
  constructor(baseUrl: string, maxSockets = 64, apiKey?: string | null) {
    this.authorization = apiKey === null ? {} : { authorization: apiKey === undefined ? TEST_AUTHORIZATION : `Bearer ${apiKey}` };
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  post(path: string, body: unknown): Promise<JsonResponse> {
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return this.send('POST', path, payload);
  }

  get(path: string): Promise<JsonResponse> {
    return this.send('GET', path, undefined);
  }

  send(method: string, path: string, payload: string | Buffer | undefined, headers: Record<string, string> = {}): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method, path, agent: this.agent, headers: payload === undefined ? { ...this.authorization, ...headers } : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...this.authorization, ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
