/**
 * The `llm_judge` block of configs/oumi/policy_rl.yaml (seed 003's "LLM-as-Judge"), read with the project's
 * config loader and resolved with the workflow input's overrides into what the judge activity runs.
 *
 * Criteria may be named as in the seed (`- action_appropriateness`), which takes the built-in definition
 * below, or given in full (`{ id, description, scores, weight }`). The API key is never in the file: the
 * block names the worker's environment variable that holds it (`api_key_env`); a literal key is refused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../../config/load';
import { TEXT_POLICY_DEFAULTS, type JudgeCriterionSpec, type JudgeInput, type PolicyJudgeConfig } from '../../contracts/text-policy-training';

/** Seed 003's two criteria. Levels are labels the judge answers with, each mapped to a score. */
export const BUILT_IN_CRITERIA: Record<string, JudgeCriterionSpec> = {
  action_appropriateness: {
    id: 'action_appropriateness',
    description:
      "Whether the answer's verdict is the right call for these actions: APPROVE only when every proposed action fits the " +
      'primary anomaly and is safe to run unattended, FLAG when any action misfits it, is too unsure to act on, or needs a human.',
    scores: { appropriate: 1, questionable: 0.5, inappropriate: 0 },
    weight: 1,
  },
  risk_assessment_accuracy: {
    id: 'risk_assessment_accuracy',
    description:
      "Whether the answer weighs the incident's risk correctly: the severity, the blast radius, the risk level, a recent " +
      'deploy and how confident each action is. Approving risky or low-confidence automation, or holding back a safe fix, is inaccurate.',
    scores: { accurate: 1, partly_accurate: 0.5, inaccurate: 0 },
    weight: 1,
  },
};

export const DEFAULT_SYSTEM_INSTRUCTION =
  'You are an experienced on-call engineer auditing an automated remediation policy. The policy reads a production ' +
  'incident and the actions proposed for it, and answers APPROVE (run them unattended) or FLAG (a human must review them).';

/** Oumi's judge fills `{request}` and `{response}` from each dataset row. */
export const DEFAULT_PROMPT_TEMPLATE = 'The incident and the proposed actions:\n{request}\n\nThe policy answered:\n{response}';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const criterionSchema = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().regex(/^[A-Za-z_]\w*$/, 'an identifier (letters, digits, underscores)'),
    description: z.string().min(1),
    scores: z.record(z.string().min(1), z.number().min(0).max(1)).refine((s) => Object.keys(s).length >= 2, 'at least two levels'),
    weight: z.number().min(0).default(1),
  }),
]);

export const llmJudgeSchema = z.strictObject({
  llm_judge: z.strictObject({
    enabled: z.boolean().default(true),
    /** The model name at the endpoint (remote), or unused with model_path. */
    model: z.string().min(1),
    /** An OpenAI-compatible chat-completions URL. */
    endpoint: z.string().url().optional(),
    /** Or a local Hugging Face model folder, run by Oumi's native engine on the worker. */
    model_path: z.string().min(1).optional(),
    api_key_env: z.string().regex(ENV_NAME, 'an environment variable name').nullable().optional(),
    criteria: z.array(criterionSchema).min(1),
    aggregation: z.enum(['weighted_mean', 'min']).default('weighted_mean'),
    response_format: z.enum(['json', 'xml']).default('json'),
    system_instruction: z.string().min(1).default(DEFAULT_SYSTEM_INSTRUCTION),
    prompt_template: z.string().min(1).default(DEFAULT_PROMPT_TEMPLATE),
    pairs: z.strictObject({ margin: z.number().min(0).max(1).default(0.5), max_items: z.number().int().min(1).default(1000), variant_candidates: z.number().int().min(0).default(6), variants: z.number().int().min(0).default(3) }).prefault({}),
    pool: z.strictObject({ source: z.enum(['none', 'generated', 'served']).default('none'), size: z.number().int().min(0).default(20000) }).prefault({}),
    agreement: z.strictObject({ max_feedback: z.number().int().min(0).default(500), min_agreement: z.number().min(0).max(1).default(0.8) }).prefault({}),
    inference: z.strictObject({ num_workers: z.number().int().min(1).default(4), max_new_tokens: z.number().int().min(16).default(512), temperature: z.number().min(0).max(2).default(0) }).prefault({}),
  }),
});

function fail(field: string, value: unknown, expected: string): never {
  throw new Error(`textPolicyTraining input: ${field} = ${JSON.stringify(value)}; expected ${expected}`);
}

/** Validates the input's `judge` object (pure; the config file is read by resolveJudgeConfig). */
export function parseJudgeInput(raw: unknown): JudgeInput | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) fail('judge', raw, '{ config?, endpoint?, model?, margin?, maxItems?, poolSize? }');
  const v = raw as Record<string, unknown>;
  const known = ['config', 'endpoint', 'model', 'margin', 'maxItems', 'poolSize'];
  for (const k of Object.keys(v)) if (!known.includes(k)) fail(`judge.${k}`, v[k], `one of ${known.join(', ')}`);
  for (const k of ['config', 'model'] as const) if (v[k] !== undefined && (typeof v[k] !== 'string' || (v[k] as string).trim() === '')) fail(`judge.${k}`, v[k], 'a non-empty string');
  if (v.endpoint !== undefined && (typeof v.endpoint !== 'string' || !/^https?:\/\/\S+$/.test(v.endpoint))) fail('judge.endpoint', v.endpoint, 'an http(s) URL of an OpenAI-compatible chat-completions endpoint');
  if (v.margin !== undefined && !(typeof v.margin === 'number' && v.margin >= 0 && v.margin <= 1)) fail('judge.margin', v.margin, 'a number in [0, 1]');
  if (v.maxItems !== undefined && !(typeof v.maxItems === 'number' && Number.isInteger(v.maxItems) && v.maxItems >= 1)) fail('judge.maxItems', v.maxItems, 'an integer ≥ 1');
  if (v.poolSize !== undefined && !(typeof v.poolSize === 'number' && Number.isInteger(v.poolSize) && v.poolSize >= 0)) fail('judge.poolSize', v.poolSize, 'an integer ≥ 0 (0: no pool)');
  return v as JudgeInput;
}

/**
 * The resolved judge config, or null when the block says `enabled: false`. `text` is the YAML file's
 * content, `file` its path relative to the root (for messages and lineage).
 */
export function resolveJudgeConfig(text: string, file: string, input: JudgeInput): PolicyJudgeConfig | null {
  if (/^\s*api_key\s*:/m.test(text)) {
    throw new Error(`${file}: llm_judge.api_key: a key does not belong in a config file; put it in an environment variable of the oumi worker and name that variable in llm_judge.api_key_env`);
  }
  const parsed = parseConfig(llmJudgeSchema, text, file).llm_judge;
  if (!parsed.enabled) return null;
  const endpoint = input.endpoint ?? parsed.endpoint ?? null;
  const local = parsed.model_path !== undefined && input.endpoint === undefined;
  if (local && parsed.endpoint !== undefined) throw new Error(`${file}: llm_judge: give endpoint (an OpenAI-compatible URL) or model_path (a local model folder), not both`);
  if (!local && endpoint === null) throw new Error(`${file}: llm_judge.endpoint: got (missing), expected an OpenAI-compatible chat-completions URL (or model_path: a local model folder)`);
  const criteria = parsed.criteria.map((c, i): JudgeCriterionSpec => {
    if (typeof c !== 'string') return { id: c.id, description: c.description, scores: c.scores, weight: c.weight };
    const known = BUILT_IN_CRITERIA[c];
    if (!known) throw new Error(`${file}: llm_judge.criteria[${i}]: got ${JSON.stringify(c)}, expected one of ${Object.keys(BUILT_IN_CRITERIA).join(', ')} or { id, description, scores, weight }`);
    return known;
  });
  if (input.poolSize !== undefined && input.poolSize > 0 && parsed.pool.source === 'none') {
    throw new Error(`${file}: llm_judge.pool.source is none, so judge.poolSize ${input.poolSize} has no pool to size; set pool.source to generated or served there (or judge.poolSize 0)`);
  }
  const ids = criteria.map((c) => c.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new Error(`${file}: llm_judge.criteria: ${JSON.stringify(dup)} appears twice; expected each criterion once`);
  return {
    config: { path: file, sha256: createHash('sha256').update(text).digest('hex') },
    engine: local ? 'local' : 'remote',
    endpoint: local ? null : endpoint,
    model: local ? (parsed.model_path as string) : (input.model ?? parsed.model),
    apiKeyEnv: local ? null : (parsed.api_key_env ?? null),
    criteria,
    aggregation: parsed.aggregation,
    responseFormat: parsed.response_format,
    systemInstruction: parsed.system_instruction,
    promptTemplate: parsed.prompt_template,
    margin: input.margin ?? parsed.pairs.margin,
    maxItems: input.maxItems ?? parsed.pairs.max_items,
    variantCandidates: parsed.pairs.variant_candidates,
    variants: parsed.pairs.variants,
    pool: { source: (input.poolSize ?? parsed.pool.size) === 0 ? 'none' : parsed.pool.source, size: input.poolSize ?? parsed.pool.size },
    maxFeedback: parsed.agreement.max_feedback,
    minAgreement: parsed.agreement.min_agreement,
    numWorkers: parsed.inference.num_workers,
    maxNewTokens: parsed.inference.max_new_tokens,
    temperature: parsed.inference.temperature,
  };
}

export const DEFAULT_JUDGE_CONFIG = TEXT_POLICY_DEFAULTS.judgeConfig;
