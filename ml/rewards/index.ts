/** Composite rewards (R-REWARD-COMPOSITE). */
export {
  componentSources, parseRewardSpec, isParsedRewardSpec, rewardSpecSchema, RewardSpecError,
  type RewardComponentSpec, type RewardSpec, type RewardSpecInput, type RewardTransform,
} from './spec';
export { applyTransform, compositeReward, RewardComponentsError, type CompositeReward } from './composite';
