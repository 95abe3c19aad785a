/** What the bench's own load generators share: a minimal HTTP/1.1 response parser and quantiles. */

export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * A complete HTTP/1.1 response at the start of `buf`: its length in bytes, its status and (with a
 * Content-Length) its body; null while incomplete; bytes -1: unparseable.
 */
export function parseResponse(buf: Buffer): { bytes: number; status: number; body?: Buffer } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  if (!Number.isInteger(status)) return { bytes: -1, status };
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (m !== null) {
    const total = end + 4 + Number(m[1]);
    return buf.length >= total ? { bytes: total, status, body: buf.subarray(end + 4, total) } : null;
  }
  if (!/\r\ntransfer-encoding:\s*chunked/i.test(head)) return { bytes: -1, status };
  // Chunked: size line, data, CRLF … until the zero-size chunk and the final CRLF (no trailers).
  let at = end + 4;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = parseInt(buf.toString('latin1', at, eol), 16);
    if (!Number.isInteger(size)) return { bytes: -1, status };
    if (size === 0) return buf.length >= eol + 4 ? { bytes: eol + 4, status } : null;
    at = eol + 2 + size + 2;
    if (buf.length < at) return null;
  }
}
