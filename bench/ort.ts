/**
 * The peer for dot-product attention: onnxruntime-node running
 * softmax(Q K^T / sqrt(d)) V as an ONNX graph (Transpose, MatMul, Mul,
 * Softmax, MatMul; opset 13) built here with onnx-proto. Neither package is a
 * dependency: install them for the benchmark only,
 *   ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node onnx-proto
 * or point SEMFIELD_ORT_DIR at a folder whose node_modules holds them.
 */
import * as path from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any */
function peer(name: string): any {
  const dirs = [process.env.SEMFIELD_ORT_DIR, path.join(__dirname, '..', '..')].filter(Boolean) as string[];
  for (const dir of dirs) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      return require(require.resolve(name, { paths: [dir] }));
    } catch {
      /* next */
    }
  }
  return undefined;
}

export interface OrtAttention {
  run(Q: Float32Array, K: Float32Array, V: Float32Array): Promise<Float32Array>;
  version: string;
}

/** An attention session for [heads, n, d] x [heads, m, d] x [heads, m, dv], or undefined without the packages. */
export async function ortAttention(heads: number, n: number, m: number, d: number, dv: number, threads: number): Promise<OrtAttention | undefined> {
  const ort = peer('onnxruntime-node');
  const proto = peer('onnx-proto');
  if (!ort || !proto) return undefined;
  const onnx = proto.onnx;
  const F = onnx.TensorProto.DataType.FLOAT;
  const info = (name: string, dims: number[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: F, shape: { dim: dims.map((v) => ({ dimValue: v })) } } } });
  const graph = onnx.GraphProto.create({
    name: 'attention',
    node: [
      onnx.NodeProto.create({ opType: 'Transpose', input: ['K'], output: ['Kt'], attribute: [onnx.AttributeProto.create({ name: 'perm', type: onnx.AttributeProto.AttributeType.INTS, ints: [0, 2, 1] })] }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['Q', 'Kt'], output: ['S'] }),
      onnx.NodeProto.create({ opType: 'Mul', input: ['S', 'scale'], output: ['S2'] }),
      onnx.NodeProto.create({ opType: 'Softmax', input: ['S2'], output: ['P'], attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: -1 })] }),
      onnx.NodeProto.create({ opType: 'MatMul', input: ['P', 'V'], output: ['O'] }),
    ],
    initializer: [onnx.TensorProto.create({ name: 'scale', dataType: F, dims: [], floatData: [1 / Math.sqrt(d)] })],
    input: [info('Q', [heads, n, d]), info('K', [heads, m, d]), info('V', [heads, m, dv])],
    output: [info('O', [heads, n, dv])],
  });
  const model = onnx.ModelProto.create({ irVersion: 7, opsetImport: [{ domain: '', version: 13 }], graph, producerName: 'semfield-bench' });
  const bytes = onnx.ModelProto.encode(model).finish();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: threads, graphOptimizationLevel: 'all' });
  let version = 'unknown';
  try {
    version = require(require.resolve('onnxruntime-node/package.json', { paths: [process.env.SEMFIELD_ORT_DIR ?? '.'] })).version;
  } catch {
    /* keep unknown */
  }
  return {
    version,
    async run(Q, K, V) {
      const out = await session.run({
        Q: new ort.Tensor('float32', Q, [heads, n, d]),
        K: new ort.Tensor('float32', K, [heads, m, d]),
        V: new ort.Tensor('float32', V, [heads, m, dv]),
      });
      return out.O.data as Float32Array;
    },
  };
}
