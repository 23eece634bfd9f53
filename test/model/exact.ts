import type * as tf from '@tensorflow/tfjs';
import { artifactsWeights } from '../../src/io/artifacts.js';
import type { Weight } from '../../src/io/index.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import type { HybridFactors, LowRankFactors } from '../../src/methods/types.js';
import { savedArtifacts } from '../helpers.js';

/** Exact factorizations for rewrite tests: a rewritten model must then compute the original function. */

export function identity(n: number): Matrix {
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) d[i * n + i] = 1;
  return { rows: n, cols: n, data: d };
}

/** Columns `cols` of `k`, in that order. */
export function columns(k: Matrix, cols: Int32Array): Matrix {
  const out = new Float32Array(k.rows * cols.length);
  for (let i = 0; i < k.rows; i++) for (let j = 0; j < cols.length; j++) out[i * cols.length + j] = k.data[i * k.cols + cols[j]];
  return { rows: k.rows, cols: cols.length, data: out };
}

/** P = K, Q = I: full rank, exact. */
export function exactLmf(k: Matrix): LowRankFactors {
  return { kind: 'lmf', rank: k.cols, p: k, q: identity(k.cols), params: 0, error: 0 };
}

/** Outputs `isDense` kept, the rest K_R = K_R · I: exact. */
export function exactHmf(k: Matrix, isDense: (j: number) => boolean): HybridFactors {
  const all = [...Array(k.cols).keys()];
  const denseOutputs = Int32Array.from(all.filter(isDense));
  const lowRankOutputs = Int32Array.from(all.filter((j) => !isDense(j)));
  return {
    kind: 'hmf',
    rank: lowRankOutputs.length,
    k: denseOutputs.length,
    denseOutputs,
    lowRankOutputs,
    dense: columns(k, denseOutputs),
    p: columns(k, lowRankOutputs),
    q: identity(lowRankOutputs.length),
    params: 0,
    error: 0,
  };
}

/** A model saved in memory as the pipeline reads it: model.json (without manifest) and decoded weights. */
export async function savedModel(model: tf.LayersModel): Promise<{ json: Record<string, unknown>; weights: Weight[] }> {
  const artifacts = await savedArtifacts(model);
  return { json: { modelTopology: artifacts.modelTopology, format: 'layers-model' }, weights: artifactsWeights(artifacts, 'test') };
}
