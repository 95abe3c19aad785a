/**
 * One fetched output instead of one per head.
 *
 * onnxruntime-node pays a fixed cost for every output a run fetches (a native tensor, a copy into a
 * new JS typed array, a wrapper object), and a policy's six heads together cost more than its whole
 * forward pass (bench/RESULTS.md). At load time the server adds to the graph (in memory, after the
 * artifact's sha256 was verified; the registry's bytes are never changed) one extra output:
 *
 *   packed = Concat(Reshape(head_1, [-1]), …, Reshape(head_m, [-1]), axis = 0)
 *
 * so head i's [n, k_i] block sits contiguously at offset n·(k_1 + … + k_{i−1}) of `packed`, in the
 * same row-major layout as the separate output. `unpack` hands the decoder a view per head (no copy).
 * The other outputs, and the nodes only they need, are dropped from that copy of the graph.
 *
 * Only float32 graph outputs of static width are packed; anything else keeps the plain path (the
 * caller gets null). LoadedModel also compares the packed run against the separate outputs on a
 * random batch before using it.
 */
import { onnx } from 'onnx-proto';

export const PACKED_OUTPUT = '__autopilot_packed_heads';
const FLAT_SHAPE = '__autopilot_flat_shape';

/** What the decoder reads of one output: flat row-major data and its dims. */
export interface HeadView {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * The model bytes with the extra output concatenating `names` (each must be a float32 graph output),
 * or null when the graph cannot take it (unknown output, other element type, name clash, opset < 5).
 */
export function withPackedOutput(bytes: Uint8Array, names: readonly string[]): Uint8Array | null {
  if (names.length < 2) return null;
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return null;
  }
  const graph = model.graph;
  if (!graph) return null;
  const outputs = (graph.output ??= []);
  const nodes = (graph.node ??= []);
  const inits = (graph.initializer ??= []);
  const opset = model.opsetImport.find((o) => (o.domain ?? '') === '');
  if (opset === undefined || Number(opset.version) < 5) return null;
  for (const name of names) {
    const out = outputs.find((o) => o.name === name);
    if (out === undefined || out.type?.tensorType?.elemType !== onnx.TensorProto.DataType.FLOAT) return null;
  }
  const taken = new Set<string>();
  for (const n of nodes) for (const o of n.output ?? []) taken.add(o);
  for (const i of inits) if (i.name) taken.add(i.name);
  for (const i of graph.input ?? []) if (i.name) taken.add(i.name);
  const flat = names.map((n) => `${PACKED_OUTPUT}/${n}`);
  if ([PACKED_OUTPUT, FLAT_SHAPE, ...flat].some((n) => taken.has(n))) return null;

  inits.push(onnx.TensorProto.create({ name: FLAT_SHAPE, dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [-1] }));
  names.forEach((name, i) => {
    nodes.push(onnx.NodeProto.create({ opType: 'Reshape', input: [name, FLAT_SHAPE], output: [flat[i]], name: flat[i] }));
  });
  nodes.push(
    onnx.NodeProto.create({
      opType: 'Concat',
      input: flat,
      output: [PACKED_OUTPUT],
      name: PACKED_OUTPUT,
      attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 })],
    }),
  );
  // The native session fetches only the packed output: drop the other outputs and every node and
  // initializer it does not need (the critic's value head, here), which onnxruntime would otherwise
  // compute on every run. Graphs with subgraphs (If, Loop, Scan) may use outer values implicitly: kept whole.
  const hasSubgraphs = nodes.some((n) => (n.attribute ?? []).some((a) => a.g != null || (a.graphs ?? []).length > 0));
  if (!hasSubgraphs) {
    const needed = new Set<string>([PACKED_OUTPUT]);
    const kept: onnx.INodeProto[] = [];
    for (let i = nodes.length - 1; i >= 0; i--) {
      const n = nodes[i];
      if (!(n.output ?? []).some((o) => needed.has(o))) continue;
      kept.push(n);
      for (const input of n.input ?? []) if (input !== '') needed.add(input);
    }
    graph.node = kept.reverse();
    graph.initializer = inits.filter((t) => needed.has(t.name ?? ''));
    graph.output = [];
  }
  graph.output!.push(
    onnx.ValueInfoProto.create({
      name: PACKED_OUTPUT,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: onnx.TensorShapeProto.create({ dim: [onnx.TensorShapeProto.Dimension.create({ dimParam: 'packed' })] }),
        }),
      }),
    }),
  );
  return onnx.ModelProto.encode(model).finish();
}

/** Splits a packed run of `n` rows into one view per head (`widths[i]` values per row). */
export class PackedLayout {
  private readonly total: number;

  constructor(
    readonly names: readonly string[],
    readonly widths: readonly number[],
  ) {
    if (names.length !== widths.length) throw new Error('PackedLayout: one width per output');
    this.total = widths.reduce((a, w) => a + w, 0);
  }

  unpack(packed: Float32Array, n: number): Record<string, HeadView> {
    if (packed.length !== n * this.total) {
      throw new Error(`packed output has ${packed.length} values, expected ${n} rows × ${this.total}`);
    }
    const out: Record<string, HeadView> = {};
    let offset = 0;
    for (let i = 0; i < this.names.length; i++) {
      const w = this.widths[i];
      out[this.names[i]] = { data: packed.subarray(offset, offset + n * w), dims: [n, w] };
      offset += n * w;
    }
    return out;
  }
}
