/**
 * Generalised Advantage Estimation (Schulman et al. 2016), as CleanRL's reversed loop, for one
 * environment's trajectory of T steps. `dones[t]` is 1 when obs[t] is the first observation after
 * a terminal step (CleanRL's convention), `nextDone`/`nextValue` belong to the observation after the
 * last step.
 *
 *   δ_t = r_t + γ·V(s_{t+1})·(1 − done_{t+1}) − V(s_t)
 *   Â_t = δ_t + γλ·(1 − done_{t+1})·Â_{t+1};   returns_t = Â_t + V(s_t)
 */
export function computeGae(
  rewards: ArrayLike<number>,
  values: ArrayLike<number>,
  dones: ArrayLike<number>,
  nextValue: number,
  nextDone: number,
  gamma: number,
  gaeLambda: number,
  advantages: Float64Array,
  returns: Float64Array,
  offset = 0,
): void {
  const T = rewards.length;
  let lastgaelam = 0;
  for (let t = T - 1; t >= 0; t--) {
    let nextnonterminal: number, nextvalues: number;
    if (t === T - 1) {
      nextnonterminal = 1 - nextDone;
      nextvalues = nextValue;
    } else {
      nextnonterminal = 1 - dones[t + 1];
      nextvalues = values[t + 1];
    }
    const delta = rewards[t] + gamma * nextvalues * nextnonterminal - values[t];
    lastgaelam = delta + gamma * gaeLambda * nextnonterminal * lastgaelam;
    advantages[offset + t] = lastgaelam;
    returns[offset + t] = lastgaelam + values[t];
  }
}
