/**
 * The Open Inference Protocol (KServe v2) over the same deployments: health, server and model
 * metadata, and raw `infer` calls. `/v2/models/{name}/infer` follows the deployment's champion/canary
 * split (sticky when `parameters.unit` is given) and the response's `model_version` says which version
 * answered; `/v2/models/{name}/versions/{v}/infer` pins a version that this server has loaded.
 * Raw calls are not decisions: they are not written to the decision log.
 */
import * as ort from 'onnxruntime-node';
import { expectObject } from '../http/body';
import { ClientError, badRequest, describeValue, notFound, parseKey } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { LoadedModel } from '../models/loaded-model';
import type { DeploymentManager } from '../models/manager';
import type { ServingState } from '../models/serving-state';

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

const ORT_TO_V2: Record<string, string> = { float32: 'FP32', float64: 'FP64', int64: 'INT64', int32: 'INT32', bool: 'BOOL', uint8: 'UINT8', int8: 'INT8', float16: 'FP16', string: 'BYTES' };
const MAX_ELEMENTS = 1_000_000;

function metaOf(list: readonly any[] | undefined, names: readonly string[]): TensorMeta[] {
  return names.map((name) => {
    const m = list?.find((x) => x.name === name);
    const shape = (m?.shape ?? []).map((d: number | string) => (typeof d === 'number' ? d : -1));
    return { name, datatype: ORT_TO_V2[m?.type as string] ?? 'FP32', shape };
  });
}

/** Flattens nested arrays of numbers (KServe allows row-major nested or flat data). */
function flatten(data: unknown, out: number[], field: string, depth = 0): void {
  if (!Array.isArray(data)) throw badRequest(`${field} must be an array of numbers, got ${describeValue(data)}`, field, 'a flat or nested array of numbers');
  if (depth > 8) throw badRequest(`${field} is nested more than 8 levels deep`, field, 'a flat or nested array of at most 8 levels');
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Array.isArray(v)) flatten(v, out, field, depth + 1);
    else if (typeof v === 'number' && Number.isFinite(v)) {
      out.push(v);
      if (out.length > MAX_ELEMENTS) throw badRequest(`${field} has more than ${MAX_ELEMENTS} elements`, field, `at most ${MAX_ELEMENTS} elements`);
    } else throw badRequest(`${field} contains ${describeValue(v)}`, field, 'finite numbers only');
  }
}

export function createKServeHandlers(deps: { manager: DeploymentManager; metrics: InferenceMetrics; serverName: string; serverVersion: string }) {
  const { manager, metrics } = deps;

  function stateOf(name: string): ServingState {
    const s = manager.get(name);
    if (s === undefined) {
      const names = manager.names();
      throw notFound(`model ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not served here`, 'name', names.length ? `one of ${names.slice(0, 20).join(', ')}` : 'none is deployed');
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

  function modelMetadata(_ctx: RequestContext, p: { name: string; version: string | null }) {
    const state = stateOf(p.name);
    const m = p.version !== null ? pinned(state, p.version) : state.champion;
    const versions = [state.champion, state.canary].filter((x): x is LoadedModel => x !== null).map((x) => String(x.info.version));
    if (m === null) return { name: state.name, versions, platform: 'onnxruntime_onnx', inputs: [], outputs: [] };
    const s = m.session as unknown as { inputMetadata?: any[]; outputMetadata?: any[] };
    return {
      name: state.name,
      versions,
      platform: 'onnxruntime_onnx',
      inputs: metaOf(s.inputMetadata, m.session.inputNames),
      outputs: metaOf(s.outputMetadata, m.session.outputNames),
    };
  }

  function modelReady(ctx: RequestContext, p: { name: string; version: string | null }) {
    const state = stateOf(p.name);
    const ready = p.version !== null ? pinned(state, p.version) !== null : state.champion !== null;
    if (!ready) ctx.status = 503;
    return { name: state.name, ready };
  }

  async function infer(body: unknown, ctx: RequestContext, p: { name: string; version: string | null }) {
    const b = expectObject(body);
    const state = stateOf(p.name);
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
    const feeds: Record<string, ort.Tensor> = {};
    b.inputs.forEach((raw: unknown, i: number) => {
      const f = `inputs.${i}`;
      const t = expectObject(raw, f);
      if (typeof t.name !== 'string' || !inputNames.includes(t.name)) throw badRequest(`${f}.name is ${describeValue(t.name)}`, `${f}.name`, `one of the model's inputs: ${inputNames.join(', ')}`);
      if (feeds[t.name] !== undefined) throw badRequest(`input ${t.name} is given twice`, `${f}.name`, 'each input once');
      if (t.datatype !== 'FP32') throw badRequest(`${f}.datatype is ${describeValue(t.datatype)}`, `${f}.datatype`, '"FP32"');
      if (!Array.isArray(t.shape) || t.shape.length === 0 || t.shape.length > 8 || !t.shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 1)) {
        throw badRequest(`${f}.shape is ${describeValue(t.shape)}`, `${f}.shape`, 'an array of positive integers, e.g. [1, 16]');
      }
      const shape = t.shape as number[];
      const data: number[] = [];
      flatten(t.data, data, `${f}.data`);
      const count = shape.reduce((a, d) => a * d, 1);
      if (count !== data.length) throw badRequest(`${f}.data has ${data.length} elements but shape ${JSON.stringify(shape)} needs ${count}`, `${f}.data`, `${count} numbers`);
      const meta = (model!.session as unknown as { inputMetadata?: any[] }).inputMetadata?.find((m) => m.name === t.name);
      const want = meta?.shape as (number | string)[] | undefined;
      if (want && (want.length !== shape.length || want.some((d, j) => typeof d === 'number' && d > 0 && d !== shape[j]))) {
        throw badRequest(`${f}.shape ${JSON.stringify(shape)} does not fit the model's input ${t.name} ${JSON.stringify(want.map((d) => (typeof d === 'number' ? d : -1)))}`, `${f}.shape`, JSON.stringify(want.map((d) => (typeof d === 'number' ? d : -1))));
      }
      feeds[t.name] = new ort.Tensor('float32', Float32Array.from(data), shape);
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
      outputs: wanted.map((name) => {
        const t = results[name];
        return { name, datatype: ORT_TO_V2[t.type] ?? t.type, shape: [...t.dims], data: Array.from(t.data as Float32Array) };
      }),
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
