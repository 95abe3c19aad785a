import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicyTrainingInput } from './input';
import { BUILT_IN_CRITERIA, parseJudgeInput, resolveJudgeConfig } from './judge-config';
import { publicEndpoint } from './judge';

const FILE = 'configs/oumi/policy_rl.yaml';
const shipped = readFileSync(path.resolve(__dirname, '..', '..', FILE), 'utf8');

describe("configs/oumi/policy_rl.yaml's llm_judge block", () => {
  it("resolves seed 003's block: its two criteria, the endpoint, the key's variable (never a key), the margin", () => {
    const c = resolveJudgeConfig(shipped, FILE, {})!;
    expect(c).toMatchObject({
      engine: 'remote', model: 'claude-3-sonnet', endpoint: 'http://127.0.0.1:8000/v1/chat/completions', apiKeyEnv: 'AUTOPILOT_JUDGE_API_KEY',
      aggregation: 'weighted_mean', responseFormat: 'json', margin: 0.5, maxItems: 1000, variantCandidates: 6, variants: 3, maxFeedback: 500, minAgreement: 0.8,
      pool: { source: 'generated', size: 20000 },
    });
    expect(c.criteria).toEqual([BUILT_IN_CRITERIA.action_appropriateness, BUILT_IN_CRITERIA.risk_assessment_accuracy]);
    expect(c.config.path).toBe(FILE);
    expect(c.config.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(c.promptTemplate).toContain('{request}');
    expect(c.promptTemplate).toContain('{response}');
  });

  it("takes the input's overrides", () => {
    const c = resolveJudgeConfig(shipped, FILE, { endpoint: 'http://judge:9000/v1/chat/completions', model: 'qwen', margin: 0.25, maxItems: 12 })!;
    expect(c).toMatchObject({ endpoint: 'http://judge:9000/v1/chat/completions', model: 'qwen', margin: 0.25, maxItems: 12 });
    expect(resolveJudgeConfig(shipped, FILE, { poolSize: 300 })!.pool).toEqual({ source: 'generated', size: 300 });
    expect(resolveJudgeConfig(shipped, FILE, { poolSize: 0 })!.pool).toEqual({ source: 'none', size: 0 });
    expect(resolveJudgeConfig(shipped.replace('source: generated', 'source: served'), FILE, {})!.pool).toEqual({ source: 'served', size: 20000 });
  });

  it('has no pool when the block names none (older configs), and refuses a pool size with no pool to size', () => {
    const bare = 'llm_judge:\n  model: m\n  endpoint: http://x/v1/chat/completions\n  criteria: [action_appropriateness]\n';
    expect(resolveJudgeConfig(bare, 'c.yaml', {})!.pool).toEqual({ source: 'none', size: 20000 });
    expect(() => resolveJudgeConfig(bare, 'c.yaml', { poolSize: 50 })).toThrow('c.yaml: llm_judge.pool.source is none, so judge.poolSize 50 has no pool to size; set pool.source to generated or served there (or judge.poolSize 0)');
    expect(() => resolveJudgeConfig(shipped.replace('source: generated', 'source: everything'), FILE, {})).toThrow(/llm_judge\.pool\.source: got "everything"/);
    expect(() => resolveJudgeConfig(shipped.replace('size: 20000', 'size: -5'), FILE, {})).toThrow(/llm_judge\.pool\.size: got -5/);
  });

  it('runs a local model folder with model_path, and is off with enabled: false', () => {
    const local = resolveJudgeConfig('llm_judge:\n  model: judge\n  model_path: models/judge\n  criteria: [action_appropriateness]\n', 'local.yaml', {})!;
    expect(local).toMatchObject({ engine: 'local', endpoint: null, model: 'models/judge', apiKeyEnv: null });
    expect(resolveJudgeConfig(shipped.replace('enabled: true', 'enabled: false'), FILE, {})).toBeNull();
  });

  it('takes criteria in full as well as by name', () => {
    const text = 'llm_judge:\n  model: m\n  endpoint: http://x/v1/chat/completions\n  criteria:\n    - action_appropriateness\n    - id: tone\n      description: calm\n      scores: { calm: 1, alarmist: 0 }\n      weight: 0.5\n';
    expect(resolveJudgeConfig(text, 'c.yaml', {})!.criteria[1]).toEqual({ id: 'tone', description: 'calm', scores: { calm: 1, alarmist: 0 }, weight: 0.5 });
  });

  it.each([
    ['a literal key', shipped.replace('api_key_env: AUTOPILOT_JUDGE_API_KEY', 'api_key: sk-123'), /llm_judge\.api_key: a key does not belong in a config file; put it in an environment variable/],
    ['an unknown criterion', shipped.replace('- risk_assessment_accuracy', '- helpfulness'), /llm_judge\.criteria\[1\]: got "helpfulness", expected one of action_appropriateness, risk_assessment_accuracy or \{ id, description, scores, weight \}/],
    ['a criterion twice', shipped.replace('- risk_assessment_accuracy', '- action_appropriateness'), /"action_appropriateness" appears twice/],
    ['no endpoint', shipped.replace(/\n {2}endpoint: .*\n/, '\n'), /llm_judge\.endpoint: got \(missing\), expected an OpenAI-compatible chat-completions URL/],
    ['a margin above 1', shipped.replace('margin: 0.5', 'margin: 2'), /llm_judge\.pairs\.margin: got 2/],
    ['a fractional number of variants', shipped.replace('variants: 3', 'variants: 1.5'), /llm_judge\.pairs\.variants: got 1\.5/],
    ['negative variant candidates', shipped.replace('variant_candidates: 6', 'variant_candidates: -1'), /llm_judge\.pairs\.variant_candidates: got -1/],
    ['an unknown key', shipped.replace('aggregation: weighted_mean', 'aggregation: weighted_mean\n  temperature: 1'), /llm_judge/],
  ])('refuses %s, naming the field', (_what, text, message) => {
    expect(() => resolveJudgeConfig(text, FILE, {})).toThrow(message);
  });

  it('validates the workflow input judge object and keeps it in the resolved input', () => {
    expect(parsePolicyTrainingInput({ judge: { endpoint: 'https://judge.example/v1/chat/completions', margin: 0.3 } }).judge).toEqual({ endpoint: 'https://judge.example/v1/chat/completions', margin: 0.3 });
    expect(parsePolicyTrainingInput({}).judge).toBeUndefined();
    expect(() => parseJudgeInput({ endpoint: 'ftp://x' })).toThrow('judge.endpoint = "ftp://x"; expected an http(s) URL');
    expect(() => parseJudgeInput({ margin: -1 })).toThrow('judge.margin = -1; expected a number in [0, 1]');
    expect(() => parseJudgeInput({ maxItems: 1.5 })).toThrow('judge.maxItems = 1.5; expected an integer ≥ 1');
    expect(() => parseJudgeInput({ apiKey: 'sk' })).toThrow('judge.apiKey = "sk"; expected one of config, endpoint, model, margin, maxItems, poolSize');
    expect(() => parseJudgeInput({ poolSize: -1 })).toThrow('judge.poolSize = -1; expected an integer ≥ 0 (0: no pool)');
  });

  it('records an endpoint without user-info or query', () => {
    expect(publicEndpoint('https://user:secret@judge.example:8443/v1/chat/completions?key=abc')).toBe('https://judge.example:8443/v1/chat/completions');
    expect(publicEndpoint(null)).toBeNull();
  });
});
