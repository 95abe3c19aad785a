/**
 * Classic-control tasks (Gymnasium's classic_control family), written from the published dynamics
 * behind the `Environment` interface the RAG tuner uses, to compare the PPO trainer with its peers
 * (bench/ppo-peers.ts): a discrete task with long episodes (CartPole-v1), a continuous-action task
 * (Pendulum-v1) and a sparse-reward task (Acrobot-v1).
 */
import type { Environment } from '../../ml/rl/environment';
import { Acrobot } from './acrobot';
import { CartPole } from './cartpole';
import { Pendulum } from './pendulum';

export { Acrobot, ACROBOT, acrobotDerivatives, wrap } from './acrobot';
export { CartPole, CARTPOLE } from './cartpole';
export { Pendulum, PENDULUM, angleNormalize } from './pendulum';

/** The suite by Gymnasium id. */
export const CLASSIC_CONTROL: Record<'CartPole-v1' | 'Pendulum-v1' | 'Acrobot-v1', () => Environment> = {
  'CartPole-v1': () => new CartPole(),
  'Pendulum-v1': () => new Pendulum(),
  'Acrobot-v1': () => new Acrobot(),
};
export type ClassicControlTask = keyof typeof CLASSIC_CONTROL;
