import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import type { HybridFactors } from '../../src/methods/types.js';
import { scanTargets } from '../../src/model/targets.js';
import { parseLayersTopology } from '../../src/model/topology.js';
import { exactHmf as exactHmfWhere, exactLmf, rewriteAndCompare, savedModel as saved } from './exact.js';

/** Exact HMF with the listed dense outputs. */
function exactHmf(k: Matrix, dense: number[]): HybridFactors {
  return exactHmfWhere(k, (j) => dense.includes(j));
}

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [10], units: 8, activation: 'relu', name: 'a' }),
      tf.layers.dropout({ rate: 0.5, name: 'drop' }),
      tf.layers.dense({ units: 6, activation: 'tanh', name: 'b' }),
      tf.layers.dense({ units: 4, activation: 'softmax', name: 'c' }),
    ],
  });
}

test('LMF rewrite of a Sequential MLP computes the same function and stays Sequential', async () => {
  await initBackend('wasm');
  const r = await rewriteAndCompare(mlp(), tf.randomNormal([5, 10], 0, 1, 'float32', 1), (_w, k) => exactLmf(k));
  assert.equal(r.className, 'Sequential');
  assert.equal(r.layers.filter((c) => c === 'Dense').length, 6);
});

test('HMF rewrite with a non-identity output order: the next kernel (through Dropout) absorbs it', async () => {
  await initBackend('wasm');
  const r = await rewriteAndCompare(mlp(), tf.randomNormal([5, 10], 0, 1, 'float32', 2), (w, k) =>
    w === 'a/kernel' ? exactHmf(k, [1, 4, 6]) : w === 'b/kernel' ? exactHmf(k, [5, 0]) : exactHmf(k, [0, 1]),
  );
  assert.equal(r.className, 'Model');
  assert.ok(r.layers.includes('Concatenate'));
  // The softmax output layer's join is followed by its activation.
  assert.ok(r.layers.includes('Activation'));
});

test('output layer: order is fixed (no absorbers); hidden layers can absorb', async () => {
  await initBackend('wasm');
  const file = await saved(mlp());
  const scan = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1);
  const byLayer = Object.fromEntries(scan.targets.map((t) => [t.layer, t.orderAbsorbers]));
  assert.deepEqual(byLayer, { a: ['b/kernel'], b: ['c/kernel'], c: null });
});

test('Embedding + pooling functional model: HMF and LMF on the table keep the function (mask_zero too)', async () => {
  await initBackend('wasm');
  for (const maskZero of [false, true]) {
    const input = tf.input({ shape: [7], dtype: 'int32', name: 'tokens' });
    const e = tf.layers.embedding({ inputDim: 30, outputDim: 12, maskZero, name: 'emb' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling1d({ name: 'pool' }).apply(e) as tf.SymbolicTensor;
    const h = tf.layers.dense({ units: 5, activation: 'relu', name: 'h' }).apply(pooled) as tf.SymbolicTensor;
    const o = tf.layers.dense({ units: 3, activation: 'softmax', name: 'o' }).apply(h) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: o });
    const ids = tf.tensor2d([[1, 2, 3, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9, 10]], undefined, 'int32');
    await rewriteAndCompare(model, ids, (w, k) => (w === 'emb/embeddings' ? exactHmf(k, [2, 7, 9]) : null));
    await rewriteAndCompare(model, ids, (w, k) => (w === 'emb/embeddings' ? exactLmf(k) : w === 'h/kernel' ? exactHmf(k, [3]) : null));
  }
});
