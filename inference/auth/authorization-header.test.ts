/** The fast path hands the router the Authorization header it read (inference/http/fast-path.ts parseHead). */
import { parseHead } from '../http/fast-path';

const head = (lines: string[]) => {
  const text = `GET /v2 HTTP/1.1\r\n${lines.join('\r\n')}`;
  return parseHead(Buffer.from(`${text}\r\n\r\n`), Buffer.byteLength(text), 65536);
};

describe('the fast path and the Authorization header', () => {
  it('passes its value on, without the whitespace around it, in any letter case of the name', () => {
    expect(head(['Host: x', 'Authorization:  Bearer apk_abc_def \t'])?.authorization).toBe('Bearer apk_abc_def');
    expect(head(['host: x', 'AUTHORIZATION: Bearer t'])?.authorization).toBe('Bearer t');
    expect(head(['Host: x'])?.authorization).toBeUndefined();
  });

  it('hands a request with two Authorization headers to node:http', () => {
    expect(head(['Host: x', 'Authorization: Bearer a', 'Authorization: Bearer b'])).toBeNull();
  });
});
