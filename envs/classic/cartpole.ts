import type { Action, ActionSpace, Environment, StepResult } from '../../ml/rl/environment';
import { Rng } from '../../ml/rng';

/**
 * CartPole-v1 (Barto, Sutton & Anderson 1983), from the dynamics Gymnasium publishes for
 * `classic_control/cartpole.py`: a pole hinged on a cart; push the cart left or right with 10 N.
 *
 *   temp     = (F + m_p·l·θ̇²·sin θ) / (m_c + m_p)
 *   θ̈        = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ/(m_c + m_p)))
 *   ẍ        = temp − m_p·l·θ̈·cos θ/(m_c + m_p)
 *   Euler step of τ = 0.02 s: x += τ·ẋ; ẋ += τ·ẍ; θ += τ·θ̇; θ̇ += τ·θ̈   (positions first, old velocities)
 * g = 9.8, m_c = 1, m_p = 0.1, l = 0.5 (half the pole), F = ±10.
 * Observation [x, ẋ, θ, θ̇]; reward +1 per step (the terminating step too); the episode ends when
 * |x| > 2.4 or |θ| > 12° or after 500 steps (v1's time limit, `info.truncated`). Reset: each state
 * variable uniform in [−0.05, 0.05) from the reset seed. A discrete task with long episodes.
 */
export const CARTPOLE = {
  gravity: 9.8, massCart: 1.0, massPole: 0.1, length: 0.5, forceMag: 10.0, tau: 0.02,
  thetaThreshold: (12 * 2 * Math.PI) / 360, xThreshold: 2.4, maxEpisodeSteps: 500,
} as const;

export class CartPole implements Environment {
  readonly observationSize = 4;
  readonly actionSpace: ActionSpace = [{ kind: 'categorical', name: 'push', choices: ['left', 'right'] }];
  /** [x, ẋ, θ, θ̇]. */
  readonly state = new Float64Array(4);
  private steps = 0;

  reset(seed: number): Float64Array {
    const rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = -0.05 + 0.1 * rng.uniform();
    this.steps = 0;
    return Float64Array.from(this.state);
  }

  step(action: Action): StepResult {
    const a = action.push;
    if (a !== 'left' && a !== 'right') throw new Error(`CartPole.step: action.push = ${JSON.stringify(a)}, expected "left" or "right"`);
    const c = CARTPOLE, s = this.state;
    const totalMass = c.massCart + c.massPole, poleMassLength = c.massPole * c.length;
    const force = a === 'right' ? c.forceMag : -c.forceMag;
    const [x, xDot, theta, thetaDot] = s;
    const cos = Math.cos(theta), sin = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
    const thetaAcc = (c.gravity * sin - cos * temp) / (c.length * (4 / 3 - (c.massPole * cos * cos) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
    s[0] = x + c.tau * xDot;
    s[1] = xDot + c.tau * xAcc;
    s[2] = theta + c.tau * thetaDot;
    s[3] = thetaDot + c.tau * thetaAcc;
    this.steps++;
    const terminated = s[0] < -c.xThreshold || s[0] > c.xThreshold || s[2] < -c.thetaThreshold || s[2] > c.thetaThreshold;
    const truncated = !terminated && this.steps >= c.maxEpisodeSteps;
    return { observation: Float64Array.from(s), reward: 1, done: terminated || truncated, info: { terminated, truncated } };
  }
}
