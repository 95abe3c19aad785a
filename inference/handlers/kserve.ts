/**
 * The Open Inference Protocol (KServe v2) over the same deployments: health, server and model
 * metadata, and raw `infer` calls. `/v2/models/{name}/infer` follows the deployment's champion/canary
 * split (sticky when `parameters.unit` is given) and the response's `model_version` says which version
 * answered; `/v2/models/{name}/versions/{v}/infer` pins a version that this server has loaded.
 * Each input's `datatype` must be the one the model declares for it (FP32, INT64, BOOL, BYTES…), and
 * outputs of every element type are answered with theirs (./v2-tensors.ts).
 * Raw calls are not decisions: they are not written to the decision log.
 */
import * as ort from 'onnxruntime-node';
import { expectObject } from '../http/body';
import { ClientError, UNKNOWN_DEPLOYMENT_EXPECTED, badRequest, describeValue, notFound, parseKey } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { LoadedModel } from '../models/loaded-model';
import type { DeploymentManager } from '../models/manager';
import type { ServingState } from '../models/serving-state';
import { inputTensor, outputTensor, v2Datatype } from './v2-tensors';

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

function metaOf(list: readonly ort.InferenceSession.ValueMetadata[], names: readonly string[]): TensorMeta[] {
  return names.map((name) => {
    const m = list.find((x) => x.name === name);
    if (m === undefined || !m.isTensor) return { name, datatype: 'FP32', shape: [] };
    return { name, datatype: v2Datatype(m.type), shape: m.shape.map((d) => (typeof d === 'number' ? d : -1)) };
  });
}

export function createKServeHandlers(deps: { manager: DeploymentManager; metrics: InferenceMetrics; serverName: string; serverVersion: string }) {
  const { manager, metrics } = deps;

  function stateOf(name: string): ServingState {
    const s = manager.get(name);
    if (s === undefined) {
      // The deployed names are not listed: a caller learns only about the name it sent.
      throw notFound(`model ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not served here`, 'name', UNKNOWN_DEPLOYMENT_EXPECTED);
    }
    return s;
  }

  function pinned(state: ServingState, version: string): LoadedModel {
    const loaded = [state.champion, state.canary].filter((m): m is LoadedModel => m !== null);
    const m = loaded.find((x) => String(x.info.version) === version);
    if (m === undefined) {
      throw notFound(`version ${JSON.stringify(version)} of ${state.name} is not loaded here`, 'version', loaded.length ? `one of ${loaded.map((x) => x.info.version).join(', ')}` : 'no version is loaded');
    }
    return m;
  }

  function modelMetadata(ctx: RequestContext, p: { name: string; version: string | null }) {
    const state = stateOf(p.name);
    ctx.deployment = state.name;
    const m = p.version !== null ? pinned(state, p.version) : state.champion;
    const versions = [state.champion, state.canary].filter((x): x is LoadedModel => x !== null).map((x) => String(x.info.version));
    if (m === null) return { name: state.name, versions, platform: 'onnxruntime_onnx', inputs: [], outputs: [] };
    return {
      name: state.name,
      versions,
      platform: 'onnxruntime_onnx',
      inputs: metaOf(m.session.inputMetadata, m.session.inputNames),
      outputs: metaOf(m.session.outputMetadata, m.session.outputNames),
    };
  }

  function modelReady(ctx: RequestContext, p: { name: string; version: string | null }) {
    const state = stateOf(p.name);
    ctx.deployment = state.name;
    const ready = p.version !== null ? pinned(state, p.version) !== null : state.champion !== null;
    if (!ready) ctx.status = 503;
    return { name: state.name, ready };
  }

  async function infer(body: unknown, ctx: RequestContext, p: { name: string; version: string | null }) {
    const b = expectObject(body);
    const state = stateOf(p.name);
    ctx.deployment = state.name;
    let unit: string | undefined;
    if (b.parameters !== undefined) {
      const params = expectObject(b.parameters, 'parameters');
      if (params.unit !== undefined) {
        unit = parseKey(params.unit, 'parameters.unit', 'a sticky routing key', false);
      }
    }
    let model: LoadedModel | null;
    let arm: string;
    if (p.version !== null) {
      model = pinned(state, p.version);
      arm = model === state.canary ? 'canary' : 'champion';
    } else {
      const choice = state.router.pick(unit);
      arm = choice.arm;
      model = choice.arm === 'canary' ? state.canary : state.champion;
    }
    if (model === null) throw new ClientError(503, `model ${state.name} has no loaded version to answer`, 'name', 'a deployment with a loadable champion');
    if (!Array.isArray(b.inputs) || b.inputs.length === 0) throw badRequest(`inputs must be a non-empty array, got ${describeValue(b.inputs)}`, 'inputs', '[{ name, shape, datatype, data }]');
    const inputNames = model.session.inputNames;
    const inputMetadata = model.session.inputMetadata;
    const feeds: Record<string, ort.Tensor> = {};
    b.inputs.forEach((raw: unknown, i: number) => {
      const f = `inputs.${i}`;
      const t = expectObject(raw, f);
      if (typeof t.name !== 'string' || !inputNames.includes(t.name)) throw badRequest(`${f}.name is ${describeValue(t.name)}`, `${f}.name`, `one of the model's inputs: ${inputNames.join(', ')}`);
      if (feeds[t.name] !== undefined) throw badRequest(`input ${t.name} is given twice`, `${f}.name`, 'each input once');
      const meta = inputMetadata.find((m) => m.name === t.name);
      if (meta !== undefined && !meta.isTensor) throw badRequest(`input ${t.name} of the model is not a tensor`, `${f}.name`, 'a tensor input (v2 infer cannot feed sequences or maps)');
      const type: ort.Tensor.Type = meta?.type ?? 'float32';
      const declared = v2Datatype(type);
      if (t.datatype !== declared) {
        throw badRequest(`${f}.datatype is ${describeValue(t.datatype)}, but the model's input ${t.name} is ${declared}`, `${f}.datatype`, JSON.stringify(declared));
      }
      if (!Array.isArray(t.shape) || t.shape.length === 0 || t.shape.length > 8 || !t.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 1)) {
        throw badRequest(`${f}.shape is ${describeValue(t.shape)}`, `${f}.shape`, 'an array of positive integers, e.g. [1, 16]');
      }
      const shape = t.shape as number[];
      const want = meta?.shape;
      if (want && (want.length !== shape.length || want.some((d, j) => typeof d === 'number' && d > 0 && d !== shape[j]))) {
        throw badRequest(`${f}.shape ${JSON.stringify(shape)} does not fit the model's input ${t.name} ${JSON.stringify(want.map((d) => (typeof d === 'number' ? d : -1)))}`, `${f}.shape`, JSON.stringify(want.map((d) => (typeof d === 'number' ? d : -1))));
      }
      const count = shape.reduce((a, d) => a * d, 1);
      feeds[t.name] = inputTensor(type, t.data, shape, count, `${f}.data`);
    });
    const missing = inputNames.filter((n) => feeds[n] === undefined);
    if (missing.length) throw badRequest(`input ${missing[0]} is missing`, 'inputs', `every model input: ${inputNames.join(', ')}`);
    let wanted: string[] = [...model.session.outputNames];
    if (b.outputs !== undefined) {
      if (!Array.isArray(b.outputs)) throw badRequest(`outputs must be an array, got ${describeValue(b.outputs)}`, 'outputs', '[{ name }]');
      wanted = b.outputs.map((o: unknown, i: number) => {
        const name = (o as { name?: unknown } | null)?.name;
        if (typeof name !== 'string' || !model!.session.outputNames.includes(name)) throw badRequest(`outputs.${i}.name is ${describeValue(name)}`, `outputs.${i}.name`, `one of ${model!.session.outputNames.join(', ')}`);
        return name;
      });
    }
    model.acquire();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await model.runFeeds(feeds);
    } catch (err) {
      // Shapes were checked against the graph, so this is the model's (or our) fault.
      throw new Error(`model ${model.key} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      model.release();
    }
    ctx.latency = metrics.latency('v2_infer', model.info.model, String(model.info.version), arm);
    const out: Record<string, unknown> = {
      model_name: state.name,
      model_version: String(model.info.version),
      outputs: wanted.map((name) => outputTensor(name, results[name] as ort.Tensor)),
    };
    if (typeof b.id === 'string') out.id = b.id;
    return out;
  }

  return {
    live: () => ({ live: true }),
    ready: (ctx: RequestContext) => {
      if (!manager.ready) ctx.status = 503;
      return { ready: manager.ready };
    },
    serverMetadata: () => ({ name: deps.serverName, version: deps.serverVersion, extensions: [] as string[] }),
    modelMetadata,
    modelReady,
    infer,
  };
}
