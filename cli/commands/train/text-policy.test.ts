import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TextPolicyProgress } from '../../../contracts/text-policy-training';
import { buildTrainTextPolicyInput, textPolicyProgressLine } from './text-policy';

describe('autopilot train text-policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'train-policy-'));
  writeFileSync(join(dir, 'labeled_decisions.jsonl'), '{}\n');

  it('builds the workflow input with absolute paths and the given steps', () => {
    const input = buildTrainTextPolicyInput({ data: 'labeled_decisions.jsonl', sftSteps: '40', dpoSteps: '10', model: 'ops', wait: true }, dir);
    expect(input).toEqual({ data: join(dir, 'labeled_decisions.jsonl'), model: 'ops', sftSteps: 40, dpoSteps: 10 });
    expect(buildTrainTextPolicyInput({ generate: '300', seed: '4', wait: true }, dir)).toEqual({ data: { generate: { n: 300, seed: 4 } } });
  });

  it('adds the LLM judge with --judge, a config file, or an endpoint and model', () => {
    writeFileSync(join(dir, 'rl.yaml'), 'llm_judge: {}\n');
    expect(buildTrainTextPolicyInput({ generate: '50', judge: true, wait: true }, dir).judge).toEqual({});
    expect(buildTrainTextPolicyInput({ generate: '50', judge: 'rl.yaml', judgeEndpoint: 'http://j:8000/v1/chat/completions', judgeModel: 'qwen', wait: true }, dir).judge).toEqual({ config: join(dir, 'rl.yaml'), endpoint: 'http://j:8000/v1/chat/completions', model: 'qwen' });
    expect(buildTrainTextPolicyInput({ generate: '50', wait: true }, dir).judge).toBeUndefined();
    expect(buildTrainTextPolicyInput({ generate: '50', judgePoolSize: '300', wait: true }, dir).judge).toEqual({ poolSize: 300 });
    expect(buildTrainTextPolicyInput({ generate: '50', judgePoolSize: '0', wait: true }, dir).judge).toEqual({ poolSize: 0 });
    expect(() => buildTrainTextPolicyInput({ generate: '50', judgePoolSize: '-1', wait: true }, dir)).toThrow('--judge-pool-size');
    expect(() => buildTrainTextPolicyInput({ generate: '50', judgeEndpoint: 'judge:8000', wait: true }, dir)).toThrow('judge.endpoint = "judge:8000"; expected an http(s) URL');
  });

  it.each([
    [{ wait: true }, '--data FILE or --generate N'],
    [{ data: 'a', generate: '5', wait: true }, '--data and --generate: give one, not both'],
    [{ data: 'missing.jsonl', wait: true }, '--data missing.jsonl: no such file or folder'],
    [{ generate: '5', wait: true }, '--generate "5": expected an integer ≥ 10'],
    [{ generate: '50', sftSteps: 'x', wait: true }, '--sft-steps "x": expected an integer ≥ 1'],
    [{ generate: '50', model: 'Bad Name', wait: true }, 'model = "Bad Name"'],
  ])('refuses %j', (opts, message) => {
    expect(() => buildTrainTextPolicyInput(opts, dir)).toThrow(message);
  });

  it('draws the bar from the trainer step, with the stage, loss and evaluations', () => {
    const p: TextPolicyProgress = {
      runId: 'r', model: 'm', stage: 'dpo', elapsedMs: 65_000, result: null,
      trainer: { stage: 'dpo', step: 10, totalSteps: 20, loss: 0.6812, epoch: 0.4 },
      evaluations: { sft: { accuracy: 0.8, fpr: 0.25, fnr: 0.1, overrideRate: 0.2, passed: false }, dpo: null },
    };
    expect(textPolicyProgressLine(p)).toBe('[##########----------]  10/20 steps  loss 0.6812  dpo  sft acc 0.800 fpr 0.250 fnr 0.100  1:05');
    expect(textPolicyProgressLine({ ...p, stage: 'preparing', trainer: null, evaluations: { sft: null, dpo: null } })).toBe('[--------------------]  preparing  1:05');
  });
});
