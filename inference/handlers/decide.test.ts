import type { Deployment } from '../../registry/types';
import { Rng } from '../../ml/rng';
import type { DecisionLog } from '../decisions/log';
import { ANSWER_LATER, PARSE_BODY, type RequestContext } from '../http/server';
import { InferenceMetrics } from '../metrics';
import type { InferTarget, LoadedModel } from '../models/loaded-model';
import { PolicyDeployment, type PolicyOwner } from '../models/serving-state';
import { createPolicyDecider } from '../policy/decide';
import { DeploymentMap } from '../serving/deployment-map';
import { createDecideHandler } from './decide';
import { UNKNOWN_DEPLOYMENT_EXPECTED } from '../http/errors';

const ctx = (): RequestContext => ({ latency: null, status: 200, start: 0, bodyText: null, answer: () => undefined, fail: () => undefined });

/** A policy model of `size` inputs that records the input vector of every request handed to its micro-batch. */
function recordingModel(size: number): { model: LoadedModel; inputs: Float32Array[] } {
  const inputs: Float32Array[] = [];
  const model = {
    info: { model: 'm', version: 1 },
    key: 'm@1',
    binding: { input: { name: 'x', size, features: null }, policy: null, outputs: [] },
    decoder: {},
    acquire: () => undefined,
    release: () => undefined,
    inferInto: (x: Float32Array, _target: InferTarget) => {
      inputs.push(x);
    },
  };
  return { model: model as unknown as LoadedModel, inputs };
}

function servedPolicy(model: LoadedModel): DeploymentMap {
  const decider = createPolicyDecider({
    log: {} as DecisionLog,
    metrics: new InferenceMetrics({ defaultMetrics: false }),
    rng: new Rng(1),
    featureStore: null,
    featurePrefix: 'features:',
    ejectCanary: () => undefined,
  });
  const owner: PolicyOwner = {
    decide: (s, body, c) => decider.decide(s, body, c),
    decideScanned: (s, body, values, c) => decider.decideScanned(s, body, values, c),
    released: () => undefined,
  };
  const d: Deployment = {
    deployment: 'ranker', model: 'm', kind: 'policy', championVersion: 1, canaryVersion: null, canaryWeight: 0, generation: 1,
    exploration: { mode: 'greedy' }, fallback: null, config: {}, updatedAt: new Date(0),
  };
  const map = new DeploymentMap();
  map.update(new PolicyDeployment(owner, d, model, null, null, null, null));
  return map;
}

describe('POST /v1/decide: the scanned features and the route scratch', () => {
  it('copies each request\'s scanned values before the next request is scanned into the same scratch (no await before the copy)', async () => {
    const { model, inputs } = recordingModel(3);
    const decide = createDecideHandler({ deployments: servedPolicy(model) });
    // Two requests in one turn: the second scan overwrites the scratch the first was read into.
    const first = decide.fromBytes(Buffer.from('{"deployment":"ranker","features":[1,2,3]}'), ctx());
    const second = decide.fromBytes(Buffer.from('{"deployment":"ranker","features":[7,8,9]}'), ctx());
    await Promise.all([first, second]);
    await new Promise((r) => setImmediate(r));
    expect(inputs.map((x) => [...x])).toEqual([[1, 2, 3], [7, 8, 9]]);
    // Handed to the micro-batch in the same turn: no promise, no await on the way.
    expect([first, second]).toEqual([ANSWER_LATER, ANSWER_LATER]);
  });

  it('hands a body it cannot take, or a deployment not served here, to the parsed path', () => {
    const { model } = recordingModel(3);
    const decide = createDecideHandler({ deployments: servedPolicy(model) });
    expect(decide.fromBytes(Buffer.from('{"deployment":"nobody","features":[1,2,3]}'), ctx())).toBe(PARSE_BODY);
    expect(decide.fromBytes(Buffer.from('{"deployment":"ranker","features":{"a":1}}'), ctx())).toBe(PARSE_BODY);
  });

  it('answers 400 for a bad body, then 404 for a deployment not served here, naming the field', () => {
    const { model } = recordingModel(3);
    const decide = createDecideHandler({ deployments: servedPolicy(model) });
    expect(() => decide({ deployment: 'nobody', features: [1, 2, 3], extra: 1 }, ctx())).toThrow(expect.objectContaining({ status: 400, field: 'extra' }));
    expect(() => decide({ deployment: 'nobody', features: [1, 2, 3] }, ctx())).toThrow(expect.objectContaining({ status: 404, field: 'deployment', expected: UNKNOWN_DEPLOYMENT_EXPECTED }));
  });
});
