/**
 * The `config` of a deployment of kind `text-policy` (the action-approval policy): no settings yet;
 * every key is kept as the deployment's annotations, unread by the server. Champion, canary, weight
 * and fallback (`{ "approve": false }`) are the deployment's own fields.
 */
export type TextPolicyConfig = Record<string, never>;

export function parseTextPolicyConfig(_config: Readonly<Record<string, unknown>>): TextPolicyConfig {
  return {};
}
