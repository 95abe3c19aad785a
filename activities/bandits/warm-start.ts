/**
 * Bandit warm start from a dataset snapshot (#21 item 4): the logged (context, arm, reward) rows of a
 * snapshot (`autopilot data export`, format in envs/evaluators/snapshot.ts) are folded into a bandit
 * deployment's learner state in Redis before (or while) it serves, so a new deployment starts from
 * what an earlier one learned instead of from its prior.
 *
 * The update is the learner's own: each rewarded row adds `learner.statsDelta(x, arm, reward)` to its
 * arm's sufficient statistics, i.e. the standard conjugate posterior update for the Thompson samplers
 * (Beta: α += r, β += 1 − r; Normal–Gamma; Bayesian linear regression for LinTS) and the ridge update
 * A_a += x xᵀ, b_a += r x for LinUCB — exactly what the rows would have done had this deployment served
 * them. The rows are summed per arm and added to the Redis hash in one script, with `seq` moved by
 * the row count, so every serving instance picks the new totals up within its refresh interval.
 *
 * Propensities are checked (each in (0, 1]) and reported per arm (the smallest), not used as weights.
 * Each arm's reward model is a model of E[r | x, a]; the logging policy chose the arm from x (and its
 * own draws) alone, so conditioning on (x, a) already accounts for how the rows were selected — the
 * same reason a bandit's online updates from its own adaptive choices are unweighted. Weighting a row
 * by 1/propensity would count it as 1/p observations and make the posterior over-confident exactly
 * where the logging policy rarely went. The propensities matter for OPE of the warm-started policy
 * (offPolicyEvaluation), not for its posterior. What the data cannot give is support: an arm the
 * logging policy (almost) never chose keeps (almost) its prior; the report shows the rows per arm.
 *
 * A snapshot is named by its folder (or manifest.json) or, registered, as `dataset-<deployment>@<version>`
 * (downloaded from the artifact store, checked against the registered sha256). Every file's sha256 is
 * checked against the manifest before a row is read (readSnapshot), so a corrupted snapshot is refused
 * naming the file and both hashes. A snapshot is folded into a learner state at most once (hash
 * `bandit:warm-start:<stateKey>`, field: the snapshot's predictions sha256), and never into the state of
 * the deployment that logged it while that state holds observations (its rewards are already there).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { readSnapshot, type SnapshotManifest } from '../../envs/evaluators/snapshot';
import { deltaToFields, sumDeltas, type StatsDelta } from '../../ml/bandits';
import { buildLearner, parseBanditConfig } from '../../ml/bandits/config';
import { stateKeyOf } from '../../ml/bandits/state-key';
import type { Registry } from '../../registry';

export interface WarmStartInput {
  /** The bandit deployment whose learner state receives the rows. */
  deployment: string;
  /** A snapshot folder (or its manifest.json), or a registered snapshot `dataset-<deployment>@<version>`. */
  snapshot: string;
  actor: string;
}

export interface WarmStartArm {
  arm: string;
  rows: number;
  meanReward: number | null;
  /** The smallest logged propensity of the arm's rows (null: no rows). */
  minPropensity: number | null;
}

export interface WarmStartResult {
  deployment: string;
  stateKey: string;
  snapshot: { source: string; deployment: string; window: SnapshotManifest['window']; sha256: string };
  /** Rewarded rows folded in. */
  rows: number;
  skipped: { unrewarded: number; unknownArms: Record<string, number> };
  arms: WarmStartArm[];
  /** Observations in the learner state before and after. */
  seqBefore: number;
  seqAfter: number;
}

/** A snapshot refused for its content or its target (not a transient failure). */
export class WarmStartError extends Error {
  override name = 'WarmStartError';
}

const REGISTERED = /^([A-Za-z0-9][A-Za-z0-9._-]*)@(\d+)$/;

/** The hash remembering which snapshots were folded into a learner state. */
export const warmStartKeyOf = (stateKey: string): string => `bandit:warm-start:${stateKey}`;

// KEYS: the state hash, the warm-start hash. ARGV: snapshot sha256, the record, then field/increment
// pairs, then the row count. A snapshot already folded in changes nothing (returns -1).
const WARM_START_SCRIPT = `
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return -1 end
for i = 3, #ARGV - 1, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HINCRBY', KEYS[1], 'seq', ARGV[#ARGV])`;

function parseLine(line: string, where: string): Record<string, any> {
  try {
    return JSON.parse(line) as Record<string, any>;
  } catch (err) {
    throw new WarmStartError(`${where}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

/** Folds the snapshot's rewarded rows into the deployment's learner state; see the file comment. */
export async function warmStartBandit(deps: { registry: Registry; redis: Redis }, input: WarmStartInput): Promise<WarmStartResult> {
  const d = await deps.registry.findDeployment(input.deployment);
  if (d === null || d.kind !== 'bandit') throw new WarmStartError(`deployment ${input.deployment} is ${d === null ? 'not in the registry' : `of kind ${d.kind}, not bandit`}: a warm start feeds a bandit learner`);
  const config = parseBanditConfig(d.config, d.deployment);
  const learner = buildLearner(config);
  const stateKey = stateKeyOf(config.stateKey);

  let tmp: string | null = null;
  try {
    let dir = input.snapshot;
    const registered = REGISTERED.exec(input.snapshot);
    if (registered) {
      tmp = await mkdtemp(join(tmpdir(), 'ap-warm-start-'));
      dir = join(tmp, 'snapshot');
      await deps.registry.downloadVersion(registered[1], Number(registered[2]), dir);
    }
    const { manifest, files } = readSnapshot(dir);
    const where = (file: string, line: number) => `${input.snapshot}${registered ? ` (${dir})` : ''}/${file}:${line}`;
    const sha256 = manifest.files['predictions.jsonl'].sha256;

    const contexts = new Map<string, Record<string, unknown>>();
    files['contexts.jsonl'].split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const c = parseLine(line, where('contexts.jsonl', i + 1));
      contexts.set(c.decision_id, (c.features ?? {}) as Record<string, unknown>);
    });
    const armIndex = new Map(config.arms.map((a, i) => [a.name, i]));
    const deltas: StatsDelta[] = [];
    const perArm = config.arms.map((a) => ({ arm: a.name, rows: 0, rewardSum: 0, minPropensity: Infinity }));
    const skipped = { unrewarded: 0, unknownArms: {} as Record<string, number> };
    const [lo, hi] = config.rewardRange;
    files['predictions.jsonl'].split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const at = where('predictions.jsonl', i + 1);
      const p = parseLine(line, at);
      if (p.reward === null || p.reward === undefined) {
        skipped.unrewarded++;
        return;
      }
      const arm = armIndex.get(p.arm);
      if (arm === undefined) {
        skipped.unknownArms[String(p.arm)] = (skipped.unknownArms[String(p.arm)] ?? 0) + 1;
        return;
      }
      const reward = p.reward as unknown;
      if (typeof reward !== 'number' || !Number.isFinite(reward) || reward < lo || reward > hi) {
        throw new WarmStartError(`${at}: reward ${JSON.stringify(reward)} is outside deployment ${d.deployment}'s rewardRange [${lo}, ${hi}]`);
      }
      const propensity = p.propensity as unknown;
      if (typeof propensity !== 'number' || !(propensity > 0 && propensity <= 1)) {
        throw new WarmStartError(`${at}: propensity ${JSON.stringify(propensity)} must be a probability in (0, 1] (the logging policy's probability of the logged arm)`);
      }
      let x: number[] | undefined;
      if (config.d > 0) {
        const features = contexts.get(p.decision_id);
        if (features === undefined) throw new WarmStartError(`${at}: decision ${p.decision_id} has no line in contexts.jsonl`);
        const vals = config.features.map((name) => {
          const v = features[name];
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new WarmStartError(`${at}: features.${name} of decision ${p.decision_id} is ${JSON.stringify(v)}, expected a finite number (deployment ${d.deployment} uses features ${config.features.join(', ')})`);
          return v;
        });
        x = config.intercept ? [1, ...vals] : vals;
      }
      deltas.push(learner.statsDelta(x, arm, reward));
      const a = perArm[arm];
      a.rows++;
      a.rewardSum += reward;
      a.minPropensity = Math.min(a.minPropensity, propensity);
    });
    if (deltas.length === 0) {
      throw new WarmStartError(
        `snapshot ${input.snapshot} has no rewarded rows of deployment ${d.deployment}'s arms (${config.arms.map((a) => a.name).join(', ')}): ${skipped.unrewarded} unrewarded, unknown arms ${JSON.stringify(skipped.unknownArms)}`,
      );
    }

    const seqBefore = Number((await deps.redis.hget(stateKey, 'seq')) ?? 0);
    if (manifest.deployment === d.deployment && seqBefore > 0) {
      throw new WarmStartError(`snapshot ${input.snapshot} was logged by deployment ${d.deployment} itself, whose learner state ${stateKey} already holds ${seqBefore} observations: its rewards are in it already (warm-start another deployment, or one whose state is empty)`);
    }
    const args: (string | number)[] = [sha256, JSON.stringify({ at: new Date().toISOString(), actor: input.actor, source: input.snapshot, rows: deltas.length })];
    for (const delta of sumDeltas(deltas)) {
      for (const [field, v] of Object.entries(deltaToFields(delta))) {
        if (!Number.isFinite(v)) throw new WarmStartError(`snapshot ${input.snapshot}: the sum ${field} of arm ${config.arms[delta.arm].name} is ${v}, not a finite number`);
        args.push(field, v);
      }
    }
    args.push(deltas.length);
    const seqAfter = Number(await deps.redis.eval(WARM_START_SCRIPT, 2, stateKey, warmStartKeyOf(config.stateKey), ...args));
    if (seqAfter === -1) {
      const rec = await deps.redis.hget(warmStartKeyOf(config.stateKey), sha256);
      throw new WarmStartError(`snapshot ${input.snapshot} (predictions sha256 ${sha256}) was already folded into the learner state of ${d.deployment} (${stateKey}): ${rec}; a second time would count its rows twice`);
    }
    const result: WarmStartResult = {
      deployment: d.deployment,
      stateKey,
      snapshot: { source: input.snapshot, deployment: manifest.deployment, window: manifest.window, sha256 },
      rows: deltas.length,
      skipped,
      arms: perArm.map((a) => ({ arm: a.arm, rows: a.rows, meanReward: a.rows > 0 ? a.rewardSum / a.rows : null, minPropensity: a.rows > 0 ? a.minPropensity : null })),
      seqBefore,
      seqAfter,
    };
    await deps.registry.appendAudit({
      actor: input.actor, action: 'bandit.warm-start', entity: 'deployment', model: d.model, entityKey: d.deployment,
      before: { seq: seqBefore }, after: { seq: seqAfter, snapshot: result.snapshot, rows: result.rows, arms: result.arms },
    });
    return result;
  } finally {
    if (tmp !== null) await rm(tmp, { recursive: true, force: true });
  }
}
