/**
 * Every served kind's `config`, parsed by that kind's schema: one pure function for the CLI (validated
 * before it reaches the registry) and the inference server (the same parsers decide what it serves).
 * Pure: imports only ml/ and the registry's types.
 *
 * Errors name the field (`config.learner.kind`), the value and what was expected (`field` on the error).
 */
import { parseBanditConfig, type BanditConfig } from '../../ml/bandits/config';
import { parseOnlineModelConfig, type OnlineModelConfig } from '../../ml/online/config';
import { DEPLOYMENT_KINDS, type DeploymentKind } from '../types';
import { parseAccessConfig, withoutAccessKeys } from './access';
import { ConfigFieldError } from './errors';
import { parsePolicyConfig, type PolicyConfig } from './policy';
import { parsePredictorConfig, type PredictorConfig } from './predictor';
import { parseTextPolicyConfig, type TextPolicyConfig } from './text-policy';
import { parseSemanticCacheConfig, type SemanticCacheDeploymentConfig } from './semantic-cache';

export { ConfigFieldError };
export { parseAccessConfig, type AccessConfig } from './access';

/** The parsed config of each kind. */
export interface DeploymentConfigs {
  policy: PolicyConfig;
  bandit: BanditConfig;
  'text-policy': TextPolicyConfig;
  'online-model': OnlineModelConfig;
  predictor: PredictorConfig;
  'semantic-cache': SemanticCacheDeploymentConfig;
}

/** One parser per kind: the type checker refuses a kind of DEPLOYMENT_KINDS without one. */
const PARSERS: { readonly [K in DeploymentKind]: (config: Readonly<Record<string, unknown>>, deployment: string) => DeploymentConfigs[K] } = {
  policy: (config) => parsePolicyConfig(config),
  bandit: (config, deployment) => parseBanditConfig(config, deployment),
  'text-policy': (config) => parseTextPolicyConfig(config),
  'online-model': (config, deployment) => parseOnlineModelConfig(config, deployment),
  predictor: (config) => parsePredictorConfig(config),
  'semantic-cache': (config, deployment) => parseSemanticCacheConfig(config, deployment),
};

/** `kind`, checked: one of the kinds the inference server serves. */
export function parseDeploymentKind(kind: unknown, field = 'kind'): DeploymentKind {
  if (typeof kind !== 'string' || !(DEPLOYMENT_KINDS as readonly string[]).includes(kind)) throw new ConfigFieldError(field, kind, `one of ${DEPLOYMENT_KINDS.join(', ')}`);
  return kind as DeploymentKind;
}

/** A deployment's `config` parsed by `kind`'s schema (`deployment` names it where a kind defaults to the name, e.g. a bandit's state key). */
export function parseDeploymentConfig<K extends DeploymentKind>(kind: K, config: unknown, deployment: string): DeploymentConfigs[K] {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new ConfigFieldError('config', config, `an object: the settings of a ${kind} deployment`);
  const parse = PARSERS[kind] as ((config: Readonly<Record<string, unknown>>, deployment: string) => DeploymentConfigs[K]) | undefined;
  if (parse === undefined) throw new ConfigFieldError('kind', kind, `one of ${DEPLOYMENT_KINDS.join(', ')}`);
  // The shared keys (./access.ts) are checked here and not shown to the kind's parser.
  parseAccessConfig(config as Record<string, unknown>);
  return parse(withoutAccessKeys(config as Record<string, unknown>), deployment);
}
