import { parseTextPolicySignature, PROMPT_VERSION, textPolicySignature } from './signature';

describe('text-policy signature', () => {
  const policy = { format: 'causal-lm-verdict/v1', verdict_token_ids: { APPROVE: 452, FLAG: 323 }, pad_token_id: 0 };

  it('describes the export: files, verdict token ids, prompt version, threshold', () => {
    const s = textPolicySignature(policy, 0.6);
    expect(s).toMatchObject({ kind: 'text-policy', onnx: 'model.onnx', tokenizer: 'tokenizer.json', promptVersion: PROMPT_VERSION, verdictTokenIds: { APPROVE: 452, FLAG: 323 }, threshold: 0.6 });
    expect(parseTextPolicySignature(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it.each([
    [{ kind: 'policy' }, 'kind = "policy"; expected "text-policy"'],
    [{ promptVersion: 'chatml-verdict/v0' }, 'promptVersion = "chatml-verdict/v0"'],
    [{ verdictTokenIds: { APPROVE: 3, FLAG: 3 } }, 'verdictTokenIds'],
    [{ threshold: 1 }, 'threshold = 1; expected a number in (0, 1)'],
  ])('refuses %j naming the field', (change, message) => {
    expect(() => parseTextPolicySignature({ ...textPolicySignature(policy), ...change })).toThrow(message);
  });
});
