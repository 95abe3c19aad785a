import { Rng } from '../rng';
import type { Action, ActionSpace, Environment, StepResult } from './environment';

/**
 * Tiny environments for tests and benches of the PPO trainer (they know nothing of RAG).
 *
 * ContextualBandit: each episode is one step. The observation one-hot encodes a context c ∈ {0,1,2}
 * (plus `noiseFeatures` standard-normal distractors); the action has a categorical `arm`, a
 * continuous `w` ∈ [0, 1], an integer `k` ∈ [1, 6] and a bernoulli `flag` (the latter two only when
 * `allHeads`). reward = [arm = BEST_ARM[c]] − 4·(w − BEST_W[c])² (− 0.1·|k − BEST_K[c]| − 0.2·[flag ≠ c = 1]).
 * The optimal expected return is 1.
 */
export const BEST_ARM = ['b', 'c', 'a'];
export const BEST_W = [0.2, 0.8, 0.5];
export const BEST_K = [2, 5, 4];

export class ContextualBandit implements Environment {
  readonly observationSize: number;
  readonly actionSpace: ActionSpace;
  private rng = new Rng(0);
  private context = 0;
  private obs: Float64Array;

  constructor(readonly noiseFeatures = 0, readonly allHeads = false) {
    this.observationSize = 3 + noiseFeatures;
    this.obs = new Float64Array(this.observationSize);
    this.actionSpace = [
      { kind: 'categorical', name: 'arm', choices: ['a', 'b', 'c'] },
      { kind: 'continuous', name: 'w', min: 0, max: 1 },
      ...(allHeads ? ([{ kind: 'integer', name: 'k', min: 1, max: 6 }, { kind: 'bernoulli', name: 'flag' }] as ActionSpace) : []),
    ];
  }

  private observe(): Float64Array {
    this.context = this.rng.int(3);
    const o = new Float64Array(this.observationSize);
    o[this.context] = 1;
    for (let j = 3; j < this.observationSize; j++) o[j] = this.rng.normal();
    this.obs = o;
    return o;
  }

  reset(seed: number): Float64Array {
    this.rng = new Rng(seed);
    return this.observe();
  }

  step(action: Action): StepResult {
    const c = this.context;
    let reward = (action.arm === BEST_ARM[c] ? 1 : 0) - 4 * ((action.w as number) - BEST_W[c]) ** 2;
    if (this.allHeads) reward -= 0.1 * Math.abs((action.k as number) - BEST_K[c]) + ((action.flag as boolean) !== (c === 1) ? 0.2 : 0);
    return { observation: this.observe(), reward, done: true, info: { context: c } };
  }
}

/**
 * Corridor: walk right to the goal. Observation = [position / length]; one bernoulli action
 * `right`. reward −0.1 per step, +1 on reaching the goal; the episode also ends after 4·length steps.
 * Multi-step episodes exercise GAE, done handling and the carry between rollouts.
 */
export class Corridor implements Environment {
  readonly observationSize = 1;
  readonly actionSpace: ActionSpace = [{ kind: 'bernoulli', name: 'right' }];
  private pos = 0;
  private t = 0;

  constructor(readonly length = 5) {}

  reset(_seed: number): Float64Array {
    this.pos = 0;
    this.t = 0;
    return Float64Array.of(0);
  }

  step(action: Action): StepResult {
    this.t++;
    this.pos = Math.max(0, this.pos + (action.right ? 1 : -1));
    const goal = this.pos >= this.length;
    const done = goal || this.t >= 4 * this.length;
    return { observation: Float64Array.of(this.pos / this.length), reward: goal ? 1 : -0.1, done, info: {} };
  }
}
