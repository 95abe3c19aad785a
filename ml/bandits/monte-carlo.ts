/**
 * Propensities for Thompson sampling. The probability that TS picks arm a,
 * P(a = argmax_b θ̃_b), has no closed form, so a TS learner serves the Monte-Carlo estimate of it:
 * it draws `draws` independent posterior samples of every arm's score, counts how often each arm
 * wins, and then draws the arm from those frequencies.
 *
 * The logged propensity is therefore the *exact* probability of the chosen arm given the draws the
 * decision used (the policy's internal randomness, independent of the reward), which is what IPS
 * and DR need to stay unbiased; averaged over the draws, the served policy is exactly Thompson
 * sampling. `draws = 1` is classic TS (one sample, argmax; propensity 1); larger values give
 * smoother, lower-variance importance weights (resolution 1/draws) at `draws` times the cost.
 */

/**
 * Counts argmax frequencies over `draws` score samples. `sample(out)` fills `out` (length nArms)
 * with one joint posterior draw. Returns the frequencies and the first draw's scores.
 */
export function monteCarloArgmax(
  nArms: number,
  draws: number,
  sample: (out: Float64Array) => void,
): { dist: Float64Array; scores: number[] } {
  const dist = new Float64Array(nArms);
  const s = new Float64Array(nArms);
  let first: number[] = [];
  for (let m = 0; m < draws; m++) {
    sample(s);
    let best = 0;
    for (let a = 1; a < nArms; a++) if (s[a] > s[best]) best = a;
    dist[best] += 1;
    if (m === 0) first = Array.from(s);
  }
  for (let a = 0; a < nArms; a++) dist[a] /= draws;
  return { dist, scores: first };
}
