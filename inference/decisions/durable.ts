/**
 * Journal durability (`--decision-durability journal`): a route's answer is sent only once what its
 * request handed to the decision log (or the reward log) is fsynced in the journal.
 *
 * The handler runs unchanged; its answer — returned, resolved, or given later through `ctx.answer`
 * (decide's micro-batch hand-over) — waits for `committed()`, which settles when every row handed to
 * the log so far is on disk (one group commit shared by the requests of the same moment). A row is
 * handed to the log before its answer is produced, in the same turn, so the wait covers it; waiting
 * for rows of other requests committed in the same group costs nothing more. When the commit fails
 * (the journal is full, or its disk fails twice), the answer becomes a 503 and the decision is not
 * acknowledged. Errors (4xx, 5xx) are sent at once: they acknowledge nothing.
 *
 * Wrapping here rather than in each kind keeps the hot path of `async` durability (the default)
 * exactly as it was: the server wraps the routes only in `journal` mode.
 */
import { ClientError } from '../http/errors';
import { ANSWER_LATER, type BytesHandler, type JsonHandler, type RequestContext } from '../http/server';

function unavailable(err: unknown): ClientError {
  return new ClientError(503, `the decision journal could not record this request, so it is not acknowledged: ${(err as Error)?.message ?? String(err)}`, null, 'a retry later');
}

/** `ctx`, with `answer` held until `committed()` settles. Everything else is the request's own context. */
function heldContext(ctx: RequestContext, committed: () => Promise<unknown>): RequestContext {
  return {
    get latency() {
      return ctx.latency;
    },
    set latency(v) {
      ctx.latency = v;
    },
    get status() {
      return ctx.status;
    },
    set status(v) {
      ctx.status = v;
    },
    get start() {
      return ctx.start;
    },
    get bodyText() {
      return ctx.bodyText;
    },
    set bodyText(v) {
      ctx.bodyText = v;
    },
    answer(value: unknown) {
      committed().then(
        () => ctx.answer(value),
        (err: unknown) => ctx.fail(unavailable(err)),
      );
    },
    fail(err: unknown) {
      ctx.fail(err);
    },
  };
}

/** A handler's outcome, its value held until `committed()` settles (ANSWER_LATER passes: the held context answers). */
function held(out: unknown, committed: () => Promise<unknown>): unknown {
  if (out === ANSWER_LATER) return out;
  if (out instanceof Promise) return out.then((v: unknown) => (v === ANSWER_LATER ? v : held(v, committed)));
  return committed().then(
    () => out,
    (err: unknown) => {
      throw unavailable(err);
    },
  );
}

/** `handler` (with its `fromBytes` reader, if it has one) answering only after `committed()`. */
export function answerWhenDurable<P, H extends JsonHandler<P>>(handler: H, committed: () => Promise<unknown>): H {
  const wrapped: JsonHandler<P> = (body, ctx, params) => held(handler(body, heldContext(ctx, committed), params), committed);
  const fromBytes = (handler as { fromBytes?: BytesHandler }).fromBytes;
  if (fromBytes !== undefined) {
    const bytes: BytesHandler = (body, ctx) => {
      const hctx = heldContext(ctx, committed);
      const out = fromBytes(body, hctx);
      // PARSE_BODY: nothing done yet, the router parses the body and calls `wrapped`.
      return typeof out === 'symbol' && out !== ANSWER_LATER ? out : held(out, committed);
    };
    Object.assign(wrapped, { fromBytes: bytes });
  }
  return wrapped as H;
}
