/**
 * The part of a deployment's `config` every kind shares: who may reward its decisions.
 *
 *   { "rewardsFromDecidingKeyOnly": true }   // a reward is accepted only from the API key that asked for the decision
 *
 * Default false: any key with the `reward` scope on the deployment may reward its decisions. Read by the
 * inference server's reward check (inference/auth/); the kinds' own parsers never see these keys.
 */
import { ConfigFieldError } from './errors';

export interface AccessConfig {
  rewardsFromDecidingKeyOnly: boolean;
}

/** The config keys of AccessConfig (taken out before a kind's parser reads the rest). */
export const ACCESS_KEYS: readonly string[] = ['rewardsFromDecidingKeyOnly'];

export function parseAccessConfig(config: Readonly<Record<string, unknown>>): AccessConfig {
  const v = config.rewardsFromDecidingKeyOnly;
  if (v === undefined || v === null) return { rewardsFromDecidingKeyOnly: false };
  if (typeof v !== 'boolean') throw new ConfigFieldError('config.rewardsFromDecidingKeyOnly', v, 'true or false');
  return { rewardsFromDecidingKeyOnly: v };
}

/** `config` without the shared keys (what a kind's parser reads). */
export function withoutAccessKeys(config: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  if (!ACCESS_KEYS.some((k) => Object.hasOwn(config, k))) return config;
  const rest: Record<string, unknown> = { ...config };
  for (const k of ACCESS_KEYS) delete rest[k];
  return rest;
}
