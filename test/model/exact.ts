import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { toArtifacts } from '../../src/io/index.js';
import { emittedOrder, WeightEdits } from '../../src/model/order.js';
import { rewriteLayers, type MatrixRewrite } from '../../src/model/rewrite.js';
import { scanTargets } from '../../src/model/targets.js';
import { parseLayersTopology, serializeLayersTopology } from '../../src/model/topology.js';
import { artifactsWeights } from '../../src/io/artifacts.js';
import type { Weight } from '../../src/io/index.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import type { Compressed, HybridFactors, LowRankFactors } from '../../src/methods/types.js';
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

/**
 * Rewrites every target of `model` with the factors `choose` gives (null: left as is),
 * permuting the absorbers of HMF layers that change their output order, loads the result
 * with stock tf.loadLayersModel and checks it computes what `model` does on `input` (1e-5).
 */
export async function rewriteAndCompare(
  model: tf.LayersModel,
  input: tf.Tensor,
  choose: (weight: string, k: Matrix) => Compressed | null,
): Promise<{ className: string; layers: string[] }> {
  const file = await savedModel(model);
  const graph = parseLayersTopology(file.json.modelTopology, 'test');
  const scan = scanTargets(graph, file.weights, 1);
  const edits = new WeightEdits(file.weights);
  const rewrites: MatrixRewrite[] = [];
  for (const t of scan.targets) {
    const result = choose(t.weight, edits.matrix(t.weight));
    if (!result) continue;
    rewrites.push({ target: t, result });
    const order = result.kind === 'hmf' ? emittedOrder(result.denseOutputs, result.lowRankOutputs) : null;
    if (order) {
      assert.ok(t.orderAbsorbers, `${t.layer} must be able to absorb its output order`);
      for (const a of t.orderAbsorbers) edits.permuteRows(a, order);
    }
  }
  const out = rewriteLayers(graph, file.weights, rewrites, edits.changed());
  const json = { ...file.json, modelTopology: serializeLayersTopology(file.json.modelTopology, out.graph) };
  const rebuilt = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts({ json, weights: out.weights })));
  const expected = model.predict(input) as tf.Tensor;
  const actual = rebuilt.predict(input) as tf.Tensor;
  assert.deepEqual(actual.shape, expected.shape);
  // NaN would pass a max-difference check (the wasm backend's max skips it).
  assert.ok(expected.dataSync().every(Number.isFinite) && actual.dataSync().every(Number.isFinite), 'outputs must be finite');
  const diff = tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0];
  assert.ok(diff < 1e-5, `max abs difference ${diff}`);
  const topology = json.modelTopology as { class_name: string };
  const result = { className: topology.class_name, layers: rebuilt.layers.map((l) => l.getClassName()) };
  rebuilt.dispose();
  return result;
}
