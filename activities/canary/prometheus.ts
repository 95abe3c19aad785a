/**
 * Runs a canary metric's PromQL against Prometheus' HTTP API (`GET /api/v1/query`, an instant query at
 * the check's time) and turns the answer into one number or the reason there is none
 * (canary/promql.ts says how a gate judges it). Prometheus' own error text is kept: a typo in a plan's
 * query shows up in the check's reasons as Prometheus worded it.
 */
import { readBounded } from '../webhooks/client';
import type { QueryOutcome } from '../../canary/promql';

/** Prometheus answers are small (one series); anything bigger than this is not read. */
const MAX_ANSWER_BYTES = 1 << 20;

interface PromAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: unknown };
}

/** One instant query; never throws (a failed query is a failed check, with the reason). */
export async function queryPrometheus(
  baseUrl: string,
  query: string,
  opts: { name: string; timeoutMs: number; at?: Date; fetch?: typeof fetch },
): Promise<QueryOutcome> {
  const http = opts.fetch ?? fetch;
  const out = (value: number | null, error: string | null): QueryOutcome => ({ name: opts.name, query, value, error });
  const url = new URL('api/v1/query', baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  url.searchParams.set('query', query);
  url.searchParams.set('time', ((opts.at ?? new Date()).getTime() / 1000).toFixed(3));
  url.searchParams.set('timeout', `${Math.max(1, Math.floor(opts.timeoutMs / 1000))}s`);
  let answer: PromAnswer;
  let status: number;
  try {
    const res = await http(url, { redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs) });
    status = res.status;
    const { bytes, truncated } = await readBounded(res, MAX_ANSWER_BYTES);
    if (truncated) return out(null, `Prometheus ${baseUrl} answered more than ${MAX_ANSWER_BYTES} bytes; expected one series (aggregate the query)`);
    try {
      answer = JSON.parse(bytes.toString('utf8')) as PromAnswer;
    } catch {
      return out(null, `Prometheus ${baseUrl} answered HTTP ${status} with no JSON: ${bytes.subarray(0, 200).toString('utf8')}`);
    }
  } catch (err) {
    const e = err as Error;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return out(null, `Prometheus ${baseUrl} gave no answer within ${opts.timeoutMs} ms`);
    return out(null, `Prometheus ${baseUrl} unreachable: ${e.message}${(e.cause as Error | undefined)?.message ? ` (${(e.cause as Error).message})` : ''}`);
  }
  if (answer.status !== 'success') return out(null, `query error (HTTP ${status}, ${answer.errorType ?? 'error'}): ${answer.error ?? 'no message'}`);
  const data = answer.data;
  let sample: unknown;
  if (data?.resultType === 'scalar') {
    sample = data.result;
  } else if (data?.resultType === 'vector' && Array.isArray(data.result)) {
    const series = data.result as { metric: Record<string, string>; value: unknown }[];
    if (series.length === 0) return out(null, 'no data (the query returned no series)');
    if (series.length > 1) {
      const labels = series.slice(0, 3).map((s) => JSON.stringify(s.metric)).join(', ');
      return out(null, `${series.length} series (${labels}${series.length > 3 ? ', …' : ''}); expected one value: aggregate with sum(...) or similar`);
    }
    sample = series[0].value;
  } else {
    return out(null, `a result of type ${data?.resultType ?? 'none'}; expected an instant vector of one series or a scalar`);
  }
  const text = Array.isArray(sample) ? sample[1] : undefined;
  // Prometheus writes infinities as +Inf / -Inf (JSON numbers cannot hold them).
  const value = text === '+Inf' ? Infinity : text === '-Inf' ? -Infinity : typeof text === 'string' ? Number(text) : NaN;
  if (typeof text !== 'string') return out(null, `an unreadable sample ${JSON.stringify(sample)}`);
  if (Number.isNaN(value)) return out(null, 'no data (the query returned NaN, e.g. 0/0 without traffic)');
  return out(value, null);
}
