import { adamStep, createAdamState, type AdamState } from '../nn/adam';
import { clipGradNorm } from '../nn/clip';
import { decodeFloat64, encodeFloat64 } from '../nn/parameters';
import { Rng } from '../rng';
import { computeGae } from './gae';
import { derivePpoSizes, NORM_EPSILON, type PpoHyperparameters } from './hyperparameters';
import type { ActorCritic } from './actor-critic';
import type { RolloutBatch } from './rollout';
import { RunningMeanStd } from './running-mean-std';

/**
 * The PPO update of CleanRL's `ppo.py` (Schulman et al. 2017), split from the rollout so rollouts
 * can run in parallel activities. One call = one iteration's learning phase:
 *   [norm_reward: scale rewards] → [bootstrap_truncated: r += γ·V(s_final) where a time limit cut an
 *   episode] → GAE per rollout → flatten → update_epochs × shuffled minibatches of
 *   the clipped objective → Adam with a global grad-norm clip → early stop once approx_kl > target_kl
 *   → [norm_obs: merge the batch's observations into the policy's running statistics].
 */

/** Optimizer state carried between iterations (checkpointed with the weights). */
export interface PpoOptimizerState {
  adam: AdamState;
  /** Updates done so far; the next update is iteration `updates + 1` (1-based, as CleanRL). */
  updates: number;
  /** The base learning rate adapted to KL (`kl_adaptive_lr`); equals hp.learning_rate otherwise. */
  learning_rate: number;
  /** The reward scaler's state when hp.norm_reward (absent in older checkpoints: created on first use). */
  reward_norm?: RewardNormState;
}

/**
 * Reward scaling by the running std of discounted returns (SB3's VecNormalize, CleanRL's
 * NormalizeReward): per environment e a discounted return ret_e ← γ·ret_e + r, zeroed after the step
 * that ends an episode; the running variance of ret over all environments' steps; each reward is
 * divided by √(var + ε) and clipped to ±clip_reward. `returns[e]` carries across iterations.
 */
export interface RewardNormState {
  returns: number[];
  rms: RunningMeanStd;
}

export function createPpoOptimizer(policy: ActorCritic, hp: PpoHyperparameters): PpoOptimizerState {
  return { adam: createAdamState(policy.params.length), updates: 0, learning_rate: hp.learning_rate };
}

/**
 * Returns the scaled rewards of one iteration's rollouts (one array per batch; the batches are not changed), step by
 * step across environments as a vectorised env does: at step t every env's ret is updated, the
 * variance merges the vector of rets, then each env's reward is scaled.
 */
export function scaleRewards(batches: RolloutBatch[], hp: PpoHyperparameters, opt: PpoOptimizerState): Float64Array[] {
  const E = batches.length;
  if (!opt.reward_norm) opt.reward_norm = { returns: [], rms: new RunningMeanStd(1) };
  const st = opt.reward_norm;
  while (st.returns.length < E) st.returns.push(0);
  const T = Math.max(...batches.map((b) => b.numSteps));
  const out = batches.map((b) => new Float64Array(b.numSteps));
  const rets = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    let n = 0;
    for (let e = 0; e < E; e++) {
      if (t >= batches[e].numSteps) continue;
      st.returns[e] = st.returns[e] * hp.gamma + batches[e].rewards[t];
      rets[n++] = st.returns[e];
    }
    st.rms.update(rets, n);
    const inv = 1 / Math.sqrt(st.rms.var[0] + NORM_EPSILON), c = hp.clip_reward;
    for (let e = 0; e < E; e++) {
      const b = batches[e];
      if (t >= b.numSteps) continue;
      const r = b.rewards[t] * inv;
      out[e][t] = r < -c ? -c : r > c ? c : r;
      const ended = t + 1 < b.numSteps ? b.dones[t + 1] : b.nextDone;
      if (ended) st.returns[e] = 0;
    }
  }
  return out;
}

export interface PpoOptimizerJSON {
  m: string;
  v: string;
  t: number;
  updates: number;
  learning_rate: number;
  /** Present once norm_reward has scaled a batch (returns as base64 float64, bit-exact). */
  reward_norm?: { returns: string; rms: { mean: string; var: string; count: number } };
}

export function optimizerToJSON(s: PpoOptimizerState): PpoOptimizerJSON {
  return {
    m: encodeFloat64(s.adam.m), v: encodeFloat64(s.adam.v), t: s.adam.t, updates: s.updates, learning_rate: s.learning_rate,
    ...(s.reward_norm ? { reward_norm: { returns: encodeFloat64(Float64Array.from(s.reward_norm.returns)), rms: s.reward_norm.rms.toJSON() } } : {}),
  };
}

export function optimizerFromJSON(j: PpoOptimizerJSON): PpoOptimizerState {
  const s: PpoOptimizerState = { adam: { m: decodeFloat64(j.m), v: decodeFloat64(j.v), t: j.t }, updates: j.updates, learning_rate: j.learning_rate };
  if (j.reward_norm) {
    const rms = new RunningMeanStd(1);
    rms.load(j.reward_norm.rms);
    s.reward_norm = { returns: Array.from(decodeFloat64(j.reward_norm.returns)), rms };
  }
  return s;
}

/** Metrics of one update, under CleanRL's names (losses are the last minibatch's, as CleanRL logs them). */
export interface PpoMetrics {
  'charts/learning_rate': number;
  'losses/value_loss': number;
  'losses/policy_loss': number;
  'losses/entropy': number;
  'losses/old_approx_kl': number;
  'losses/approx_kl': number;
  /** Mean over all minibatches of the fraction of samples whose ratio was clipped. */
  'losses/clipfrac': number;
  /** 1 − Var(returns − values)/Var(returns); NaN when Var(returns) = 0 (as CleanRL). */
  'losses/explained_variance': number;
  /** Gradient norm before clipping, last minibatch. */
  'losses/grad_norm': number;
  /** Mean return of the episodes that ended in these rollouts; NaN when none ended. */
  'charts/episodic_return': number;
  'charts/episodic_length': number;
  'charts/episodes': number;
  /** Epochs run (less than update_epochs after a target_kl stop). */
  'charts/epochs': number;
  /** The iteration this update was (1-based). */
  'charts/iteration': number;
}

/** A minibatch laid out for the loss: obs [n, obsSize], actions [n, numHeads], the rest [n]. */
export interface Minibatch {
  n: number;
  obs: Float64Array;
  actions: Float64Array;
  logprobs: Float64Array;
  advantages: Float64Array;
  returns: Float64Array;
  values: Float64Array;
}

export interface PpoLossStats {
  loss: number;
  pg_loss: number;
  v_loss: number;
  entropy_loss: number;
  old_approx_kl: number;
  approx_kl: number;
  clipfrac: number;
}

/** Scratch buffers for `ppoLoss` (reused across minibatches). */
export class PpoWorkspace {
  cap = 0;
  advantages = new Float64Array(0);
  cLogProb = new Float64Array(0);
  cEntropy = new Float64Array(0);
  cValue = new Float64Array(0);
  ensure(n: number): void {
    if (n <= this.cap) return;
    this.cap = n;
    this.advantages = new Float64Array(n);
    this.cLogProb = new Float64Array(n);
    this.cEntropy = new Float64Array(n);
    this.cValue = new Float64Array(n);
  }
}

/**
 * The PPO loss of one minibatch and, when `withGrad`, its gradient accumulated into
 * `policy.params.grad`:
 *   logratio = log π(a|s) − log π_old(a|s);  ratio = e^logratio
 *   old_approx_kl = mean(−logratio);  approx_kl = mean((ratio − 1) − logratio)   (logged only)
 *   Â ← (Â − mean Â)/(std Â + 1e-8)                               (norm_adv, per minibatch)
 *   pg_loss = mean(max(−Â·ratio, −Â·clip(ratio, 1−ε, 1+ε)))
 *   v_loss = ½·mean(max((V − R)², (V_old + clip(V − V_old, −ε, ε) − R)²))   (clip_vloss; else ½·mean((V − R)²))
 *     with a value-normalising policy (norm_value) V, V_old and R in the units of its value statistics:
 *     (x − μ)/√(σ² + ε), i.e. V is the value head's own output
 *   loss = pg_loss − ent_coef·mean(H) + vf_coef·v_loss
 */
export function ppoLoss(policy: ActorCritic, mb: Minibatch, hp: PpoHyperparameters, withGrad = true, ws = new PpoWorkspace()): PpoLossStats {
  const n = mb.n;
  ws.ensure(n);
  const { logProb: newlogprob, entropy } = policy.evaluate(mb.obs, mb.actions, n);
  // the value loss in the value head's units: V itself, or (V − μ)/std under norm_value
  const newvalue = policy.valueOutputs(), scale = policy.valueScale();
  const vMean = scale ? scale.mean : 0, vStd = scale ? scale.std : 1;

  // advantages, normalised per minibatch (torch's unbiased std)
  const adv = ws.advantages;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += mb.advantages[i];
  mean /= n;
  if (hp.norm_adv) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (mb.advantages[i] - mean) ** 2;
    const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    for (let i = 0; i < n; i++) adv[i] = (mb.advantages[i] - mean) / (std + 1e-8);
  } else {
    for (let i = 0; i < n; i++) adv[i] = mb.advantages[i];
  }

  const eps = hp.clip_coef;
  let oldKl = 0, kl = 0, clipped = 0, pg = 0, vl = 0, ent = 0;
  const cL = ws.cLogProb, cH = ws.cEntropy, cV = ws.cValue;
  for (let i = 0; i < n; i++) {
    const logratio = newlogprob[i] - mb.logprobs[i];
    const ratio = Math.exp(logratio);
    oldKl += -logratio;
    kl += ratio - 1 - logratio;
    if (Math.abs(ratio - 1) > eps) clipped += 1;

    const clippedRatio = ratio < 1 - eps ? 1 - eps : ratio > 1 + eps ? 1 + eps : ratio;
    const pg1 = -adv[i] * ratio;
    const pg2 = -adv[i] * clippedRatio;
    pg += pg1 >= pg2 ? pg1 : pg2;
    // ∂max(pg1, pg2)/∂logπ: the unclipped branch carries −Â·ratio; the clipped branch is flat
    cL[i] = pg1 >= pg2 ? (-adv[i] * ratio) / n : 0;

    const v = newvalue[i];
    const R = scale ? (mb.returns[i] - vMean) / vStd : mb.returns[i];
    const vOld = scale ? (mb.values[i] - vMean) / vStd : mb.values[i];
    const vUnclipped = (v - R) ** 2;
    if (hp.clip_vloss) {
      const dv = v - vOld;
      const vClippedPred = vOld + (dv < -eps ? -eps : dv > eps ? eps : dv);
      const vClipped = (vClippedPred - R) ** 2;
      if (vUnclipped >= vClipped) {
        vl += vUnclipped;
        cV[i] = (hp.vf_coef * (v - R)) / n;
      } else {
        vl += vClipped;
        cV[i] = dv > -eps && dv < eps ? (hp.vf_coef * (vClippedPred - R)) / n : 0;
      }
    } else {
      vl += vUnclipped;
      cV[i] = (hp.vf_coef * (v - R)) / n;
    }
    // backward takes ∂L/∂V; V = std · (head output) + mean
    if (scale) cV[i] /= vStd;
    ent += entropy[i];
    cH[i] = -hp.ent_coef / n;
  }
  const pg_loss = pg / n, v_loss = (0.5 * vl) / n, entropy_loss = ent / n;
  if (withGrad) policy.backward(cL, cH, cV);
  return {
    loss: pg_loss - hp.ent_coef * entropy_loss + hp.vf_coef * v_loss,
    pg_loss, v_loss, entropy_loss,
    old_approx_kl: oldKl / n, approx_kl: kl / n, clipfrac: clipped / n,
  };
}

/** The learning rate of iteration `iteration` (1-based): linear annealing from the (KL-adapted) base to 0. */
export function learningRateAt(hp: PpoHyperparameters, opt: PpoOptimizerState, iteration: number): number {
  if (!hp.anneal_lr) return opt.learning_rate;
  const { num_iterations } = derivePpoSizes(hp);
  const frac = Math.max(0, 1 - (iteration - 1) / num_iterations);
  return frac * opt.learning_rate;
}

export interface PpoUpdateResult {
  /** The same policy object, with updated weights. */
  policy: ActorCritic;
  /** The same optimizer object, advanced. */
  optimizer: PpoOptimizerState;
  metrics: PpoMetrics;
}

/**
 * One PPO update on the rollouts of one iteration (each batch one environment's trajectory).
 * Mutates `policy` and `optimizer` in place and returns them with the metrics. `rng` shuffles the
 * minibatches: pass `new Rng(seed + iteration)` (or a fork) for replayable runs.
 */
export function ppoUpdate(policy: ActorCritic, optimizer: PpoOptimizerState, batches: RolloutBatch[], hp: PpoHyperparameters, rng: Rng): PpoUpdateResult {
  if (batches.length === 0) throw new Error('ppoUpdate: batches is empty, expected at least one rollout');
  const obsSize = policy.spec.observationSize, H = policy.numHeads;
  let B = 0;
  batches.forEach((b, i) => {
    if (b.observationSize !== obsSize || b.numHeads !== H) {
      throw new Error(`ppoUpdate: batches[${i}] has observationSize ${b.observationSize} and ${b.numHeads} heads, the policy has ${obsSize} and ${H}`);
    }
    const T = b.numSteps;
    if (b.obs.length !== T * obsSize || b.actions.length !== T * H || b.logprobs.length !== T || b.rewards.length !== T || b.dones.length !== T || b.values.length !== T) {
      throw new Error(`ppoUpdate: batches[${i}] arrays do not match numSteps = ${T} (obs ${b.obs.length}, actions ${b.actions.length}, logprobs ${b.logprobs.length}, rewards ${b.rewards.length}, dones ${b.dones.length}, values ${b.values.length})`);
    }
    for (const [k, tr] of (b.truncations ?? []).entries()) {
      if (!Number.isInteger(tr?.t) || tr.t < 0 || tr.t >= T || !Number.isFinite(tr.value)) {
        throw new Error(`ppoUpdate: batches[${i}].truncations[${k}] = ${JSON.stringify(tr)}, expected { t: an integer in [0, ${T}), value: a finite number }`);
      }
    }
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) {
        const a = b.actions[t * H + h], head = policy.heads[h];
        const ok = head.part.kind === 'continuous' ? Number.isFinite(a) : Number.isInteger(a) && a >= 0 && a < (head.part.kind === 'bernoulli' ? 2 : head.dim);
        if (!ok) throw new Error(`ppoUpdate: batches[${i}].actions[${t * H + h}] (step ${t}, head "${head.part.name}") = ${a}, expected a valid raw ${head.part.kind} action`);
      }
    }
    B += T;
  });

  // flatten (CleanRL's b_obs, b_actions, …) and GAE per trajectory
  const b_obs = new Float64Array(B * obsSize), b_actions = new Float64Array(B * H);
  const b_logprobs = new Float64Array(B), b_values = new Float64Array(B);
  const b_advantages = new Float64Array(B), b_returns = new Float64Array(B);
  let off = 0, epReturn = 0, epLength = 0, episodes = 0;
  const rewards: ArrayLike<number>[] = hp.norm_reward ? scaleRewards(batches, hp, optimizer) : batches.map((b) => b.rewards);
  if (hp.bootstrap_truncated) {
    batches.forEach((b, i) => {
      if (!b.truncations?.length) return;
      const r = Float64Array.from(rewards[i]);
      for (const { t, value } of b.truncations) r[t] += hp.gamma * value;
      rewards[i] = r;
    });
  }
  for (const [bi, b] of batches.entries()) {
    b_obs.set(b.obs, off * obsSize);
    b_actions.set(b.actions, off * H);
    b_logprobs.set(b.logprobs, off);
    b_values.set(b.values, off);
    computeGae(rewards[bi], b.values, b.dones, b.nextValue, b.nextDone, hp.gamma, hp.gae_lambda, b_advantages, b_returns, off);
    for (const e of b.episodes) {
      epReturn += e.return;
      epLength += e.length;
      episodes++;
    }
    off += b.numSteps;
  }

  // norm_value: the value statistics take this iteration's targets before the epochs (MAPPO's ValueNorm);
  // the rollouts' values were computed, in real units, under the statistics before
  if (policy.valueRms) policy.valueRms.update(b_returns, B);

  const iteration = optimizer.updates + 1;
  const lrnow = learningRateAt(hp, optimizer, iteration);
  const minibatch_size = Math.max(1, Math.floor(B / hp.num_minibatches));

  const b_inds = new Int32Array(B);
  for (let i = 0; i < B; i++) b_inds[i] = i;
  const mb: Minibatch = {
    n: 0,
    obs: new Float64Array(minibatch_size * obsSize), actions: new Float64Array(minibatch_size * H),
    logprobs: new Float64Array(minibatch_size), advantages: new Float64Array(minibatch_size),
    returns: new Float64Array(minibatch_size), values: new Float64Array(minibatch_size),
  };
  const ws = new PpoWorkspace();
  const clipfracs: number[] = [];
  let last: PpoLossStats | null = null;
  let gradNorm = 0, epochs = 0;

  for (let epoch = 0; epoch < hp.update_epochs; epoch++) {
    // Fisher–Yates shuffle (np.random.shuffle(b_inds))
    rng.shuffle(b_inds);
    for (let start = 0; start < B; start += minibatch_size) {
      const end = Math.min(start + minibatch_size, B), n = end - start;
      for (let r = 0; r < n; r++) {
        const k = b_inds[start + r];
        for (let j = 0; j < obsSize; j++) mb.obs[r * obsSize + j] = b_obs[k * obsSize + j];
        for (let h = 0; h < H; h++) mb.actions[r * H + h] = b_actions[k * H + h];
        mb.logprobs[r] = b_logprobs[k];
        mb.advantages[r] = b_advantages[k];
        mb.returns[r] = b_returns[k];
        mb.values[r] = b_values[k];
      }
      mb.n = n;
      policy.params.zeroGrad();
      last = ppoLoss(policy, mb, hp, true, ws);
      clipfracs.push(last.clipfrac);
      gradNorm = clipGradNorm(policy.params.grad, hp.max_grad_norm);
      adamStep(policy.params.data, policy.params.grad, optimizer.adam, lrnow);
    }
    epochs++;
    if (hp.target_kl !== null && last !== null && last.approx_kl > hp.target_kl) break;
  }
  const stats = last as PpoLossStats;

  // KL-adaptive base learning rate (applies from the next update), bounded to [lr/100, 10·lr]
  if (hp.kl_adaptive_lr && hp.target_kl !== null) {
    if (stats.approx_kl > 2 * hp.target_kl) optimizer.learning_rate /= 1.5;
    else if (stats.approx_kl < hp.target_kl / 2) optimizer.learning_rate *= 1.5;
    optimizer.learning_rate = Math.min(hp.learning_rate * 10, Math.max(hp.learning_rate / 100, optimizer.learning_rate));
  }
  optimizer.updates = iteration;
  // the observation statistics move only between iterations, so every rollout of an iteration and its
  // update see one normalisation (the logprobs and values of the batch stay those of the policy updated)
  if (policy.obsRms) policy.obsRms.update(b_obs, B);

  return {
    policy,
    optimizer,
    metrics: {
      'charts/learning_rate': lrnow,
      'losses/value_loss': stats.v_loss,
      'losses/policy_loss': stats.pg_loss,
      'losses/entropy': stats.entropy_loss,
      'losses/old_approx_kl': stats.old_approx_kl,
      'losses/approx_kl': stats.approx_kl,
      'losses/clipfrac': clipfracs.reduce((a, b) => a + b, 0) / clipfracs.length,
      'losses/explained_variance': explainedVariance(b_values, b_returns),
      'losses/grad_norm': gradNorm,
      'charts/episodic_return': episodes ? epReturn / episodes : NaN,
      'charts/episodic_length': episodes ? epLength / episodes : NaN,
      'charts/episodes': episodes,
      'charts/epochs': epochs,
      'charts/iteration': iteration,
    },
  };
}

/** 1 − Var(y_true − y_pred)/Var(y_true), population variances; NaN when Var(y_true) = 0. */
export function explainedVariance(yPred: Float64Array, yTrue: Float64Array): number {
  const n = yTrue.length;
  let mt = 0, md = 0;
  for (let i = 0; i < n; i++) {
    mt += yTrue[i];
    md += yTrue[i] - yPred[i];
  }
  mt /= n;
  md /= n;
  let vt = 0, vd = 0;
  for (let i = 0; i < n; i++) {
    vt += (yTrue[i] - mt) ** 2;
    vd += (yTrue[i] - yPred[i] - md) ** 2;
  }
  return vt === 0 ? NaN : 1 - vd / vt;
}
