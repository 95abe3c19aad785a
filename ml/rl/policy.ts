/**
 * Former module name of the actor-critic network (ml/rl/actor-critic.ts). Kept only while
 * inference/testing/test-policy.ts still imports `Policy` from here; delete it once that file imports
 * `ActorCritic` from ./actor-critic.
 */
export { ActorCritic as Policy } from './actor-critic';
