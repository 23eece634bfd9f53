import { tf } from '../../../src/tf.js';
import type { ModelFile, Quantization, Weight } from '../../../src/io/index.js';
import { toArtifacts } from '../../../src/io/index.js';
import { matrix, selectColumns, type Matrix } from '../../../src/linalg/matrix.js';
import { gaussianArray } from '../../../src/linalg/random.js';
import type { Compressed, HybridFactors, LowRankFactors, PrunedMatrix } from '../../../src/methods/types.js';
import type { NodeDef } from '../../../src/model/graph/graphdef.js';
import { activationNode, biasAddNode, constNode, fusedMatMulNode, matMulNode } from '../../../src/model/graph/nodes.js';

/** Helpers for the graph tests: small synthetic graph models and exact factorizations. */

export interface SyntheticOptions {
  n?: number;
  m?: number;
  op?: 'MatMul' | 'BatchMatMul' | 'BatchMatMulV2' | '_FusedMatMul';
  /** _FusedMatMul's fused_ops. @default ['BiasAdd', 'Relu'] */
  fusedOps?: string[];
  /** MatMul followed by separate BiasAdd and Relu nodes. */
  unfusedTail?: boolean;
  /** The Const is stored as K^T and read with transpose_b / adj_y. */
  transposeB?: boolean;
  /** The input is fed as x^T (n x batch) and read with transpose_a. */
  transposeA?: boolean;
  /** The kernel reaches the MatMul through an Identity node. */
  identity?: boolean;
  /** Input of shape [batch, 3, n] (BatchMatMul ops). */
  rank3?: boolean;
  quantization?: Quantization;
  leakyreluAlpha?: number;
  seed?: number;
  /** K itself (n x m) instead of a seeded Gaussian one. */
  kernel?: Matrix;
}

export const OUTPUT = 'out';
export const LAYER = 'dense/mm';

/**
 * x -> [MatMul-like `dense/mm` with Const `dense/kernel`] -> (BiasAdd, Relu) -> Identity `out`,
 * plus a string and an int32 weight that no node reads, and user-defined metadata.
 */
export function syntheticGraph(o: SyntheticOptions = {}): { model: ModelFile; kernel: Matrix } {
  const n = o.n ?? 24;
  const m = o.m ?? 10;
  const op = o.op ?? 'MatMul';
  const seed = o.seed ?? 1;
  const kernel = o.kernel ?? matrix(n, m, gaussianArray(n * m, seed));
  const stored = o.transposeB ? transposeOf(kernel) : kernel;
  const weights: Weight[] = [
    { name: 'dense/kernel', shape: [stored.rows, stored.cols], dtype: 'float32', values: stored.data },
    { name: 'dense/bias', shape: [m], dtype: 'float32', values: gaussianArray(m, seed + 1) },
    { name: 'dense/alpha', shape: [m], dtype: 'float32', values: gaussianArray(m, seed + 2).map((v) => Math.abs(v) / 4) },
    { name: 'labels', shape: [2], dtype: 'string', values: ['neg', 'pos'] },
    { name: 'steps', shape: [3], dtype: 'int32', values: Int32Array.of(1, 2, 3) },
  ];
  if (o.quantization) for (const w of weights.slice(0, 3)) w.quantization = o.quantization;

  const inShape = o.transposeA ? [n, -1] : o.rank3 ? [-1, 3, n] : [-1, n];
  const kernelRef = o.identity ? 'dense/kernel/read' : 'dense/kernel';
  const nodes: NodeDef[] = [
    constNode('dense/kernel', [stored.rows, stored.cols], 'DT_FLOAT'),
    constNode('dense/bias', [m], 'DT_FLOAT'),
    constNode('dense/alpha', [m], 'DT_FLOAT'),
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: inShape.map((d) => ({ size: String(d) })) } } } },
  ];
  if (o.identity) nodes.push({ name: 'dense/kernel/read', op: 'Identity', input: ['dense/kernel'], attr: { T: { type: 'DT_FLOAT' } } });
  let last = LAYER;
  if (op === '_FusedMatMul') {
    const fusedOps = o.fusedOps ?? ['BiasAdd', 'Relu'];
    const args = fusedOps.length === 0 ? [] : fusedOps[1] === 'Prelu' ? ['dense/bias', 'dense/alpha'] : ['dense/bias'];
    nodes.push(fusedMatMulNode(LAYER, 'x', kernelRef, args, fusedOps, { transposeA: o.transposeA, transposeB: o.transposeB, leakyreluAlpha: o.leakyreluAlpha }));
  } else {
    const node = matMulNode(LAYER, op, 'x', kernelRef, o.transposeA ?? false, undefined);
    const tb = op === 'MatMul' ? 'transpose_b' : 'adj_y';
    node.attr = { ...node.attr, [tb]: { b: o.transposeB ?? false } };
    nodes.push(node);
    if (o.unfusedTail) {
      nodes.push(biasAddNode('dense/bias_add', LAYER, 'dense/bias', undefined));
      nodes.push(activationNode('dense/relu', 'relu', 'dense/bias_add', undefined, {}));
      last = 'dense/relu';
    }
  }
  nodes.push({ name: OUTPUT, op: 'Identity', input: [last], attr: { T: { type: 'DT_FLOAT' } } });
  const json: Record<string, unknown> = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'test',
    signature: {
      inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } },
      outputs: { y: { name: `${OUTPUT}:0`, dtype: 'DT_FLOAT' } },
    },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    userDefinedMetadata: { kept: 'yes' },
  };
  return { model: { json, format: 'graph-model', weights, path: '/synthetic/model.json' }, kernel };
}

export function transposeOf(a: Matrix): Matrix {
  const out = new Float32Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j];
  return matrix(a.cols, a.rows, out);
}

export function identity(size: number): Matrix {
  const d = new Float32Array(size * size);
  for (let i = 0; i < size; i++) d[i * size + i] = 1;
  return matrix(size, size, d);
}

/** K = K I: an LMF "factorization" that is exact. */
export function exactLmf(k: Matrix): LowRankFactors {
  return { kind: 'lmf', rank: k.cols, p: k, q: identity(k.cols), params: k.rows * k.cols + k.cols * k.cols, error: 0 };
}

/** HMF with the given dense outputs and K_R = K_R I for the rest: exact. */
export function exactHmf(k: Matrix, dense: number[]): HybridFactors {
  const denseOutputs = Int32Array.from([...dense].sort((a, b) => a - b));
  const lowRankOutputs = Int32Array.from(Array.from({ length: k.cols }, (_, j) => j).filter((j) => !dense.includes(j)));
  const r = lowRankOutputs.length;
  return {
    kind: 'hmf',
    rank: r,
    k: denseOutputs.length,
    denseOutputs,
    lowRankOutputs,
    dense: selectColumns(k, denseOutputs),
    p: r > 0 ? selectColumns(k, lowRankOutputs) : matrix(k.rows, 0),
    q: r > 0 ? identity(r) : matrix(0, 0),
    params: denseOutputs.length * k.rows + r * (k.rows + r),
    error: 0,
  };
}

/** Keeps the entries with |w| above the median. */
export function pruneHalf(k: Matrix): PrunedMatrix {
  const sorted = Array.from(k.data, Math.abs).sort((a, b) => a - b);
  const threshold = sorted[Math.floor(sorted.length / 2)];
  const pruned = k.data.map((v) => (Math.abs(v) >= threshold ? v : 0));
  return { kind: 'prune', pruned: matrix(k.rows, k.cols, pruned), params: pruned.filter((v) => v !== 0).length, error: 0 };
}

/** Loads a ModelFile with stock tf.loadGraphModel (from memory) and runs `output` on `inputs`. */
export async function runGraph(model: ModelFile, inputs: Record<string, tf.Tensor>, output = `${OUTPUT}:0`): Promise<Float32Array> {
  const g = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(model)));
  try {
    const y = g.execute(inputs, output) as tf.Tensor;
    const data = (await y.data()) as Float32Array;
    y.dispose();
    return data;
  } finally {
    g.dispose();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export function maxAbs(a: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]));
  return d;
}

export function nodesOf(model: ModelFile): NodeDef[] {
  return (model.json.modelTopology as { node: NodeDef[] }).node;
}

/** K' (n x m) that a compressed result stands for, accumulated in float64. */
export function reconstruct(result: Compressed, n: number, m: number): Matrix {
  if (result.kind === 'prune') return result.pruned;
  const out = new Float32Array(n * m);
  const cols = result.kind === 'lmf' ? Int32Array.from({ length: m }, (_, j) => j) : result.lowRankOutputs;
  const { p, q } = result;
  if (result.rank > 0) {
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < cols.length; c++) {
        let s = 0;
        for (let t = 0; t < p.cols; t++) s += p.data[i * p.cols + t] * q.data[t * q.cols + c];
        out[i * m + cols[c]] = s;
      }
    }
  }
  if (result.kind === 'hmf') {
    for (let i = 0; i < n; i++) for (const [c, j] of result.denseOutputs.entries()) out[i * m + j] = result.dense.data[i * result.k + c];
  }
  return matrix(n, m, out);
}

/** The model with some kernels (by weight name, stored untransposed) replaced and stored as float32. */
export function withKernels(model: ModelFile, kernels: ReadonlyMap<string, Matrix>): ModelFile {
  return {
    ...model,
    weights: model.weights.map((w) => {
      const k = kernels.get(w.name);
      if (!k) return w;
      const { quantization: _q, ...rest } = w;
      return { ...rest, values: k.data };
    }),
  };
}
