import type { Action, ActionSpace, Environment, StepResult } from '../../ml/rl/environment';
import { Rng } from '../../ml/rng';

/**
 * Pendulum-v1, from the dynamics Gymnasium publishes for `classic_control/pendulum.py`: swing a
 * pendulum up and hold it with a torque u ∈ [−2, 2].
 *
 *   cost  = angle_normalize(θ)² + 0.1·θ̇² + 0.001·u²        reward = −cost (of the state before the step)
 *   θ̇'    = clip(θ̇ + (3g/(2l)·sin θ + 3/(m l²)·u)·dt, −8, 8)
 *   θ'    = θ + θ̇'·dt                                        (semi-implicit Euler, dt = 0.05)
 * g = 10, m = 1, l = 1; angle_normalize(x) = ((x + π) mod 2π) − π. Observation [cos θ, sin θ, θ̇];
 * no terminal state, 200 steps per episode (`info.truncated`). Reset: θ uniform in [−π, π), θ̇ in
 * [−1, 1). A continuous-action task (the policy's continuous part is squashed into [−2, 2]).
 */
export const PENDULUM = { maxSpeed: 8, maxTorque: 2, dt: 0.05, g: 10, m: 1, l: 1, maxEpisodeSteps: 200 } as const;

/** ((x + π) mod 2π) − π with Python's non-negative modulo. */
export function angleNormalize(x: number): number {
  const twoPi = 2 * Math.PI;
  const r = (x + Math.PI) % twoPi;
  return (r < 0 ? r + twoPi : r) - Math.PI;
}

export class Pendulum implements Environment {
  readonly observationSize = 3;
  readonly actionSpace: ActionSpace = [{ kind: 'continuous', name: 'torque', min: -PENDULUM.maxTorque, max: PENDULUM.maxTorque }];
  /** [θ, θ̇]. */
  readonly state = new Float64Array(2);
  private steps = 0;

  reset(seed: number): Float64Array {
    const rng = new Rng(seed);
    this.state[0] = -Math.PI + 2 * Math.PI * rng.uniform();
    this.state[1] = -1 + 2 * rng.uniform();
    this.steps = 0;
    return this.observation();
  }

  private observation(): Float64Array {
    return Float64Array.of(Math.cos(this.state[0]), Math.sin(this.state[0]), this.state[1]);
  }

  step(action: Action): StepResult {
    const raw = action.torque;
    if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new Error(`Pendulum.step: action.torque = ${JSON.stringify(raw)}, expected a finite number`);
    const p = PENDULUM, [th, thdot] = this.state;
    const u = Math.min(p.maxTorque, Math.max(-p.maxTorque, raw));
    const cost = angleNormalize(th) ** 2 + 0.1 * thdot * thdot + 0.001 * u * u;
    let newThdot = thdot + ((3 * p.g) / (2 * p.l) * Math.sin(th) + (3 / (p.m * p.l * p.l)) * u) * p.dt;
    newThdot = Math.min(p.maxSpeed, Math.max(-p.maxSpeed, newThdot));
    this.state[0] = th + newThdot * p.dt;
    this.state[1] = newThdot;
    this.steps++;
    const truncated = this.steps >= p.maxEpisodeSteps;
    return { observation: this.observation(), reward: -cost, done: truncated, info: { terminated: false, truncated } };
  }
}
