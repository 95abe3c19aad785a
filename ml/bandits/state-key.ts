/**
 * Where a bandit learner's shared statistics live in Redis, named once for the server that writes them
 * (inference/bandits/shared-state.ts) and the training side that snapshots them
 * (activities/bandits/activities.ts). Pure: names only, no client.
 *
 * - `bandit:state:<stateKey>`: the fields of flat-stats.ts plus `seq` (observations applied);
 * - `bandit:flushed:<stateKey>`: writer id → the last flush number applied (a retried flush counts once).
 */

/** The hash holding the learner's sufficient statistics and `seq`. */
export function stateKeyOf(stateKey: string): string {
  return `bandit:state:${stateKey}`;
}

/** Hash of writer id → the last flush number applied (a retried flush is applied once); expires a day after the last flush. */
export function flushedKeyOf(stateKey: string): string {
  return `bandit:flushed:${stateKey}`;
}
