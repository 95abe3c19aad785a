/**
 * Rewards bound to a decision that exists (issue 19 item 2): a reward of a decision this server cannot
 * find is refused with a 404 naming the decision id — per item in a batch, after the item's own 400s.
 *
 * Where a decision is found: bandit decisions by their claim in Redis (../bandits/rewards.ts); every
 * other reward by its row in `decisions`, checked in the same INSERT that records it
 * (decision-log insertRewards `requireDecision`). Decisions are written in batches off the hot path, so a
 * reward arriving right after its decision may find no row yet: those not found are looked for in this
 * server's decision log (memory and journal, ../decisions/log.ts `pending`) and recorded when there;
 * then the table is asked again (the row may have been written meanwhile). A decision made by another
 * server process may still wait in that process's log: an id that could be such a decision (a version-7
 * id of the last few seconds: decision ids carry their time, ../decisions/id.ts) is looked for again a
 * few times within about a second before it is refused. Random or old ids are refused at once.
 */
import { decisionIdTime } from '../decisions/id';
import { ClientError } from '../http/errors';

/** Who a decision belongs to. */
export interface DecisionOwner {
  deployment: string;
  keyId: string | null;
}

/** Decisions made here and not written to the database yet (../decisions/log.ts DecisionLog). */
export interface PendingDecisions {
  /** Of these lower-case ids, those held, with their owners. */
  pending(ids: readonly string[]): Promise<Map<string, DecisionOwner>>;
}

/** Waits before each new look for decisions not found (another process may not have written them yet): ~1 s in all. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [30, 60, 120, 250, 500];

/** How far back an id's time may be for its decision to be possibly still unwritten in another process's log. */
const PENDING_WINDOW_MS = 10_000;

/** Could this decision id be one a server process made in the last seconds (so its row may still come)? */
export function mayStillBeLogged(id: string, nowMs: number = Date.now()): boolean {
  if (id.length !== 36 || id[14] !== '7') return false; // decision ids are UUID v7
  const t = decisionIdTime(id);
  return t > nowMs - PENDING_WINDOW_MS && t < nowMs + 1_000;
}

export const unknownDecisionExpected = 'the decisionId a decide call of this deployment returned';

/** The 404 of a reward whose decision was not found (`field`: `decisionId` or `rewards.3.decisionId`). */
export function unknownDecision(id: string, field: string): ClientError {
  return new ClientError(404, `decision ${id} not found (not in the decision log)`, field, unknownDecisionExpected);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
