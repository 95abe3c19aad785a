import type { Action, ActionSpace, Environment, StepResult } from '../../ml/rl/environment';
import { Rng } from '../../ml/rng';

/**
 * Acrobot-v1 (Sutton 1996; the "book" dynamics of Sutton & Barto), from Gymnasium's
 * `classic_control/acrobot.py`: two links hanging from a fixed joint, torque −1, 0 or +1 at the middle
 * joint; swing the tip above one link's length over the base.
 *
 * With s = (θ₁, θ₂, θ̇₁, θ̇₂), m = 1, l₁ = 1, l_c = 0.5, I = 1, g = 9.8 and torque a:
 *   d₁ = m l_c² + m(l₁² + l_c² + 2 l₁ l_c cos θ₂) + 2I        d₂ = m(l_c² + l₁ l_c cos θ₂) + I
 *   φ₂ = m l_c g cos(θ₁ + θ₂ − π/2)
 *   φ₁ = −m l₁ l_c θ̇₂² sin θ₂ − 2 m l₁ l_c θ̇₂ θ̇₁ sin θ₂ + (m l_c + m l₁) g cos(θ₁ − π/2) + φ₂
 *   θ̈₂ = (a + d₂/d₁·φ₁ − m l₁ l_c θ̇₁² sin θ₂ − φ₂) / (m l_c² + I − d₂²/d₁)      θ̈₁ = −(d₂ θ̈₂ + φ₁)/d₁
 * integrated by one classic Runge–Kutta 4 step of dt = 0.2; then θ₁, θ₂ wrapped into [−π, π] and
 * θ̇₁, θ̇₂ clipped to ±4π, ±9π. Terminal when −cos θ₁ − cos(θ₁ + θ₂) > 1. Reward −1 per step, 0 on the
 * terminal step — a sparse signal: nothing tells the agent it is closer until it gets there.
 * Observation [cos θ₁, sin θ₁, cos θ₂, sin θ₂, θ̇₁, θ̇₂]; 500 steps per episode (`info.truncated`).
 * Reset: each state variable uniform in [−0.1, 0.1).
 */
export const ACROBOT = {
  dt: 0.2, linkLength1: 1, linkMass1: 1, linkMass2: 1, linkComPos1: 0.5, linkComPos2: 0.5, linkMoi: 1,
  maxVel1: 4 * Math.PI, maxVel2: 9 * Math.PI, torques: [-1, 0, 1], g: 9.8, maxEpisodeSteps: 500,
} as const;

/** ds/dt of the augmented state [θ₁, θ₂, θ̇₁, θ̇₂] under torque a (the "book" equations). */
export function acrobotDerivatives(s: ArrayLike<number>, a: number, out: Float64Array): void {
  const c = ACROBOT, m1 = c.linkMass1, m2 = c.linkMass2, l1 = c.linkLength1, lc1 = c.linkComPos1, lc2 = c.linkComPos2, I1 = c.linkMoi, I2 = c.linkMoi, g = c.g;
  const theta1 = s[0], theta2 = s[1], dtheta1 = s[2], dtheta2 = s[3];
  const d1 = m1 * lc1 ** 2 + m2 * (l1 ** 2 + lc2 ** 2 + 2 * l1 * lc2 * Math.cos(theta2)) + I1 + I2;
  const d2 = m2 * (lc2 ** 2 + l1 * lc2 * Math.cos(theta2)) + I2;
  const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - Math.PI / 2);
  const phi1 = -m2 * l1 * lc2 * dtheta2 ** 2 * Math.sin(theta2) - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.sin(theta2)
    + (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - Math.PI / 2) + phi2;
  const ddtheta2 = (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * dtheta1 ** 2 * Math.sin(theta2) - phi2) / (m2 * lc2 ** 2 + I2 - d2 ** 2 / d1);
  const ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
  out[0] = dtheta1;
  out[1] = dtheta2;
  out[2] = ddtheta1;
  out[3] = ddtheta2;
}

/** Gymnasium's `wrap`: shifts x by whole periods into [lo, hi]. */
export function wrap(x: number, lo: number, hi: number): number {
  const diff = hi - lo;
  while (x > hi) x -= diff;
  while (x < lo) x += diff;
  return x;
}

export class Acrobot implements Environment {
  readonly observationSize = 6;
  readonly actionSpace: ActionSpace = [{ kind: 'categorical', name: 'torque', choices: ['-1', '0', '+1'] }];
  /** [θ₁, θ₂, θ̇₁, θ̇₂]. */
  readonly state = new Float64Array(4);
  private steps = 0;
  private readonly k = [new Float64Array(4), new Float64Array(4), new Float64Array(4), new Float64Array(4)];
  private readonly y = new Float64Array(4);

  reset(seed: number): Float64Array {
    const rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = -0.1 + 0.2 * rng.uniform();
    this.steps = 0;
    return this.observation();
  }

  private observation(): Float64Array {
    const s = this.state;
    return Float64Array.of(Math.cos(s[0]), Math.sin(s[0]), Math.cos(s[1]), Math.sin(s[1]), s[2], s[3]);
  }

  step(action: Action): StepResult {
    const i = this.actionSpace[0].kind === 'categorical' ? this.actionSpace[0].choices.indexOf(action.torque as string) : -1;
    if (i < 0) throw new Error(`Acrobot.step: action.torque = ${JSON.stringify(action.torque)}, expected "-1", "0" or "+1"`);
    const c = ACROBOT, a = c.torques[i], s = this.state, [k1, k2, k3, k4] = this.k, y = this.y, dt = c.dt;
    // one RK4 step over [0, dt] (Gymnasium's rk4 with t = [0, dt])
    acrobotDerivatives(s, a, k1);
    for (let j = 0; j < 4; j++) y[j] = s[j] + (dt / 2) * k1[j];
    acrobotDerivatives(y, a, k2);
    for (let j = 0; j < 4; j++) y[j] = s[j] + (dt / 2) * k2[j];
    acrobotDerivatives(y, a, k3);
    for (let j = 0; j < 4; j++) y[j] = s[j] + dt * k3[j];
    acrobotDerivatives(y, a, k4);
    for (let j = 0; j < 4; j++) s[j] = s[j] + (dt / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    s[0] = wrap(s[0], -Math.PI, Math.PI);
    s[1] = wrap(s[1], -Math.PI, Math.PI);
    s[2] = Math.min(c.maxVel1, Math.max(-c.maxVel1, s[2]));
    s[3] = Math.min(c.maxVel2, Math.max(-c.maxVel2, s[3]));
    this.steps++;
    const terminated = -Math.cos(s[0]) - Math.cos(s[1] + s[0]) > 1;
    const truncated = !terminated && this.steps >= c.maxEpisodeSteps;
    return { observation: this.observation(), reward: terminated ? 0 : -1, done: terminated || truncated, info: { terminated, truncated } };
  }
}
