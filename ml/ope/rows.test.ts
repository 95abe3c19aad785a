import { opeInputsFromJson } from './inputs';
import { OpeRowsReader } from './rows';

const json = {
  reward: [1, 0, 2],
  action: [0, 1, 1],
  pscore: [0.5, 0.25, 0.8],
  action_dist: [[[0.2, 0.8], [0.8, 0.2]], [[0.6, 0.4], [0.4, 0.6]], [[0.5, 0.5], [0.5, 0.5]]],
  estimated_rewards_by_reg_model: [[[0.3, 0.1], [0.7, 0.2]], [[0.1, 0.4], [0.5, 0.9]], [[1.0, 1.1], [1.5, 1.2]]],
  position: [0, 1, 1],
  context: [[1, 2], [3, 4], [5, 6]],
};
const lines = json.reward.map((_, i) => JSON.stringify({
  reward: json.reward[i], action: json.action[i], pscore: json.pscore[i], action_dist: json.action_dist[i],
  estimated_rewards_by_reg_model: json.estimated_rewards_by_reg_model[i], position: json.position[i], context: json.context[i],
}));

function read(text: string[]): ReturnType<OpeRowsReader['finish']> {
  const r = new OpeRowsReader();
  text.forEach((t, i) => r.addLine(t, i + 1));
  return r.finish();
}

describe('OPE inputs from one round per line (NDJSON)', () => {
  it('gives exactly what the JSON object path gives (3-D arrays, position, context), growing past its first capacity', () => {
    expect(read(lines)).toEqual(opeInputsFromJson(json));
    const many = Array.from({ length: 700 }, (_, i) => lines[i % 3]);
    const big = { ...json } as Record<string, unknown[]>;
    for (const key of Object.keys(json)) big[key] = Array.from({ length: 700 }, (_, i) => (json as Record<string, unknown[]>)[key][i % 3]);
    expect(read(many)).toEqual(opeInputsFromJson(big));
  });

  it('reads 2-D action arrays, skips blank lines and ignores unknown fields', () => {
    const r = read(['{"reward":1,"action":1,"pscore":0.5,"action_dist":[0.3,0.7],"id":"a"}', '   ', '{"reward":0,"action":0,"pscore":0.25,"action_dist":[1,0],"id":"b"}']);
    expect(r).toEqual(opeInputsFromJson({ reward: [1, 0], action: [1, 0], pscore: [0.5, 0.25], action_dist: [[0.3, 0.7], [1, 0]] }));
  });

  it.each([
    ['text that is not JSON', ['{"reward":1,'], /^line 1: got text that is not JSON \(.+\), expected one JSON object per line$/],
    ['an array line', ['[1,2]'], 'line 1: got an array of length 2, expected a JSON object with reward, action, pscore and action_dist'],
    ['a fractional action', [lines[0], lines[1].replace('"action":1', '"action":1.5')], 'line 2: action: got 1.5, expected an integer'],
    ['a string reward', [lines[0], lines[1], lines[2].replace('"reward":2', '"reward":"2"')], 'line 3: reward: got "2", expected a number'],
    ['a missing pscore', [lines[0], lines[1].replace('"pscore":0.25,', '')], 'line 2: pscore: got nothing, expected a number, as on line 1'],
    ['a field the first line lacked', ['{"action_dist":[0.5,0.5]}', '{"action_dist":[0.5,0.5],"reward":1}'], 'line 2: reward: got 1, expected nothing, as on line 1 (every round has the same fields)'],
    ['a row over fewer actions', [lines[0], lines[1].replace('"action_dist":[[0.6,0.4],[0.4,0.6]]', '"action_dist":[[0.6,0.4]]')], 'line 2: action_dist: got an array of length 1, expected an array over n_actions = 2 actions'],
    ['a cell over fewer positions', [lines[0], lines[1].replace('[[0.1,0.4],[0.5,0.9]]', '[[0.1,0.4],[0.5]]')], 'line 2: estimated_rewards_by_reg_model[1]: got an array of length 1, expected an array over len_list = 2 positions'],
    ['a null probability', [lines[0].replace('[0.2,0.8]', '[null,0.8]')], 'line 1: action_dist[0][0]: got null, expected a number'],
    ['a shorter context', [lines[0], lines[1].replace('"context":[3,4]', '"context":[3]')], 'line 2: context: got an array of length 1, expected an array of n_features = 2 numbers'],
  ])('rejects %s, naming the line, the field and the expectation', (_name, text, message) => {
    expect(() => read(text as string[])).toThrow(message as string | RegExp);
  });

  it('refuses an input with no rounds', () => {
    expect(() => read(['', ' '])).toThrow('input: got no rounds, expected at least one line with a JSON object per logged round');
  });
});
