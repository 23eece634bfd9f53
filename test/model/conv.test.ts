/**
 * Convolutions in layers models: every factorized form (LMF, HMF with a scattered dense set
 * absorbed downstream, HMF with leading channels, pruning) of Conv1D and Conv2D kernels,
 * with strides, same/valid padding, dilation and TimeDistributed, computes the
 * original function through stock tf.loadLayersModel when the factors are exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import type { HybridFactors } from '../../src/methods/types.js';
import { scanTargets } from '../../src/model/targets.js';
import { parseLayersTopology } from '../../src/model/topology.js';
import { exactHmf, exactLmf, rewriteAndCompare, savedModel } from './exact.js';

/** Exact HMF whose dense channels are every third one from 1: never the leading ones, so the order changes. */
const scattered = (k: Matrix): HybridFactors => exactHmf(k, (j) => j % 3 === 1);
/** Exact HMF keeping the first channels dense: the original order. */
const leading = (k: Matrix): HybridFactors => exactHmf(k, (j) => j < Math.ceil(k.cols / 3));

/** A small convnet: strided same conv, BN, ReLU6, padding, depthwise, dilated valid conv, pooling, Flatten, Dense. */
function convnet(): tf.LayersModel {
  const input = tf.input({ shape: [16, 14, 3], name: 'image' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'c1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ name: 'bn1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ maxValue: 6, name: 'relu1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.zeroPadding2d({ padding: 1, name: 'pad1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw1' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 9, kernelSize: [2, 3], dilationRate: 2, padding: 'valid', activation: 'relu', name: 'c2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: y });
}

/**
 * BN's statistics and the biases are zeros and ones at initialisation: give each channel its
 * own values (kernels keep their initialisers, so activations stay in ReLU6's linear range),
 * so that a weight left out of a permutation shows.
 */
function randomizeWeights(model: tf.LayersModel, seed: number): tf.LayersModel {
  const weights = model.weights.map((w, i) => {
    const current = w.read();
    if (w.shape.length !== 1) return current;
    const values = tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed + i);
    return w.originalName.endsWith('moving_variance') || w.originalName.endsWith('gamma') ? values : values.sub(1);
  });
  model.setWeights(weights);
  return model;
}

test('Conv2D targets: the (kh·kw·cin) x cout matrix, geometry, and absorbers through BN, depthwise and Flatten', async () => {
  await initBackend('wasm');
  const file = await savedModel(convnet());
  const scan = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1);
  const c1 = scan.targets.find((t) => t.layer === 'c1');
  const c2 = scan.targets.find((t) => t.layer === 'c2');
  assert.deepEqual([c1?.rows, c1?.cols, c2?.rows, c2?.cols], [27, 8, 6 * 8, 9]);
  assert.deepEqual(c1?.conv, { kernel: [3, 3], inChannels: 3, strides: [2, 2], padding: 'same', dilation: [1, 1], dataFormat: 'channels_last' });
  assert.deepEqual(c2?.conv?.dilation, [2, 2]);
  assert.deepEqual(c1?.orderAbsorbers, ['bn1/gamma', 'bn1/beta', 'bn1/moving_mean', 'bn1/moving_variance', 'dw1/depthwise_kernel', 'dw1/bias', 'c2/kernel']);
  assert.deepEqual(c2?.orderAbsorbers, ['out/kernel']);
  assert.deepEqual(
    scan.skipped.map((s) => `${s.weight}: ${s.reason}`),
    ['dw1/depthwise_kernel: depthwise convolution: one kh x kw filter per channel, no matrix to factorize'],
  );
});

test('Conv2D LMF and HMF (scattered dense channels absorbed through BN, ReLU6, padding, depthwise, pooling and Flatten) are exact', async () => {
  await initBackend('wasm');
  const input = tf.randomNormal([3, 16, 14, 3], 0, 1, 'float32', 5);
  const lmf = await rewriteAndCompare(randomizeWeights(convnet(), 1), input, (_w, k) => exactLmf(k));
  assert.equal(lmf.layers.filter((c) => c === 'Conv2D').length, 4);
  const hmf = await rewriteAndCompare(randomizeWeights(convnet(), 2), input, (w, k) => (w === 'out/kernel' ? null : scattered(k)));
  assert.equal(hmf.layers.filter((c) => c === 'Concatenate').length, 2);
  assert.equal(hmf.layers.filter((c) => c === 'Conv2D').length, 6);
  const pruned = await rewriteAndCompare(randomizeWeights(convnet(), 3), input, (_w, k) => leading(k));
  assert.ok(pruned.layers.includes('Concatenate'));
  input.dispose();
});

test('Conv1D: same and valid padding, strides and dilation; HMF through pooling and Flatten', async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [20, 6] });
  let x = tf.layers.conv1d({ filters: 7, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'tanh', name: 'k1' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv1d({ filters: 8, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu', name: 'k2' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv1d({ filters: 5, kernelSize: 2, padding: 'valid', name: 'k3' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling1d({ poolSize: 2, name: 'pool' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flat' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: 3, name: 'out' }).apply(x) as tf.SymbolicTensor;
  const make = () => tf.model({ inputs: input, outputs: y });
  const probe = tf.randomNormal([4, 20, 6], 0, 1, 'float32', 6);
  const file = await savedModel(make());
  const scan = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1);
  assert.deepEqual(scan.targets.map((t) => `${t.layer} ${t.rows}x${t.cols} ${JSON.stringify(t.conv?.padding ?? null)}`), [
    'k1 18x7 "same"',
    'k2 28x8 "same"',
    'k3 16x5 "valid"',
    'out 20x3 null',
  ]);
  await rewriteAndCompare(make(), probe, (_w, k) => exactLmf(k));
  const r = await rewriteAndCompare(make(), probe, (w, k) => (w === 'out/kernel' ? null : scattered(k)));
  assert.equal(r.layers.filter((c) => c === 'Concatenate').length, 3);
  probe.dispose();
});

test('TimeDistributed(Conv2D): LMF and leading HMF (its order is fixed) wrap every part in TimeDistributed', async () => {
  await initBackend('wasm');
  const make = () =>
    tf.sequential({
      layers: [
        tf.layers.timeDistributed({ inputShape: [3, 8, 8, 2], layer: tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }), name: 'td' }),
        tf.layers.flatten({ name: 'flat' }),
        tf.layers.dense({ units: 2, name: 'out' }),
      ],
    });
  const probe = tf.randomNormal([2, 3, 8, 8, 2], 0, 1, 'float32', 7);
  const lmf = await rewriteAndCompare(make(), probe, (w, k) => (w === 'td/kernel' ? exactLmf(k) : null));
  assert.equal(lmf.className, 'Sequential');
  assert.equal(lmf.layers.filter((c) => c === 'TimeDistributed').length, 2);
  const file = await savedModel(make());
  const td = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1).targets.find((t) => t.layer === 'td');
  assert.equal(td?.orderAbsorbers, null);
  const hmf = await rewriteAndCompare(make(), probe, (w, k) => (w === 'td/kernel' ? leading(k) : null));
  assert.equal(hmf.layers.filter((c) => c === 'TimeDistributed').length, 3);
  probe.dispose();
});

test('1x1 convolutions, a Sequential convnet, and a conv output layer: LMF stays Sequential, HMF keeps the output order', async () => {
  await initBackend('wasm');
  const make = () =>
    tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 4], filters: 10, kernelSize: 1, strides: 2, name: 'pw' }),
        tf.layers.conv2d({ filters: 5, kernelSize: 3, padding: 'same', activation: 'softmax', name: 'head' }),
      ],
    });
  const probe = tf.randomNormal([2, 6, 6, 4], 0, 1, 'float32', 8);
  const lmf = await rewriteAndCompare(make(), probe, (_w, k) => exactLmf(k));
  assert.equal(lmf.className, 'Sequential');
  const file = await savedModel(make());
  const head = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1).targets.find((t) => t.layer === 'head');
  assert.equal(head?.orderAbsorbers, null);
  // softmax is not elementwise: the parts join linear, then the softmax runs on the joined channels.
  const hmf = await rewriteAndCompare(make(), probe, (w, k) => (w === 'pw/kernel' ? scattered(k) : leading(k)));
  assert.ok(hmf.layers.includes('Activation'));
  probe.dispose();
});

test('convolutions hmf does not rewrite pass through with the reason', async () => {
  await initBackend('wasm');
  const input = tf.input({ shape: [8, 8, 4] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, dataFormat: 'channelsFirst', name: 'nchw' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.separableConv2d({ filters: 6, kernelSize: 3, name: 'sep' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2dTranspose({ filters: 4, kernelSize: 2, name: 'up' }).apply(x) as tf.SymbolicTensor;
  const file = await savedModel(tf.model({ inputs: input, outputs: x }));
  const scan = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1);
  assert.deepEqual(scan.targets.map((t) => `${t.weight} ${t.rows}x${t.cols}`), ['sep/pointwise_kernel 2x6']);
  assert.deepEqual(
    scan.skipped.map((s) => `${s.weight}: ${s.reason}`),
    [
      'nchw/kernel: data format channels_first is not rewritten (only channels_last)',
      "sep/depthwise_kernel: a separable convolution's depthwise part: one kh x kw filter per channel, no matrix to factorize (its pointwise part is compressed)",
      'up/kernel: transposed convolution is not rewritten',
    ],
  );
  const causal = tf.sequential({ layers: [tf.layers.conv1d({ inputShape: [10, 3], filters: 4, kernelSize: 2, padding: 'causal', name: 'causal' })] });
  const causalFile = await savedModel(causal);
  const causalScan = scanTargets(parseLayersTopology(causalFile.json.modelTopology, 't'), causalFile.weights, 1);
  assert.deepEqual(causalScan.skipped.map((s) => `${s.weight}: ${s.reason}`), ['causal/kernel: padding "causal" is not rewritten (only same and valid)']);
});

test('SeparableConv2D: its pointwise kernel is a 1x1 target (depthwise part split off), exact in every form; it absorbs an order', async () => {
  await initBackend('wasm');
  const make = (multiplier: number) => {
    const input = tf.input({ shape: [10, 9, 3] });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.separableConv2d({ filters: 10, kernelSize: 3, strides: 2, padding: 'same', depthMultiplier: multiplier, activation: 'relu', name: 'sep' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 4, name: 'out' }).apply(x) as tf.SymbolicTensor;
    return randomizeWeights(tf.model({ inputs: input, outputs: y }), multiplier);
  };
  const probe = tf.randomNormal([2, 10, 9, 3], 0, 1, 'float32', 13);
  for (const multiplier of [1, 2]) {
    const file = await savedModel(make(multiplier));
    const scan = scanTargets(parseLayersTopology(file.json.modelTopology, 't'), file.weights, 1);
    const sep = scan.targets.find((t) => t.layer === 'sep');
    assert.deepEqual([sep?.weight, sep?.rows, sep?.cols, sep?.conv?.kernel], ['sep/pointwise_kernel', 8 * multiplier, 10, [1, 1]]);
    assert.deepEqual(sep?.orderAbsorbers, ['out/kernel']);
    // c1's channels go through the separable layer only with one filter per channel.
    const c1 = scan.targets.find((t) => t.layer === 'c1');
    assert.deepEqual(c1?.orderAbsorbers, multiplier === 1 ? ['sep/depthwise_kernel', 'sep/pointwise_kernel'] : null);
    const lmf = await rewriteAndCompare(make(multiplier), probe, (w, k) => (w === 'sep/pointwise_kernel' ? exactLmf(k) : null));
    assert.ok(lmf.layers.includes('DepthwiseConv2D') && !lmf.layers.includes('SeparableConv2D'));
    await rewriteAndCompare(make(multiplier), probe, (w, k) => (w === 'out/kernel' ? null : w === 'c1/kernel' && multiplier === 2 ? leading(k) : scattered(k)));
    // Pruned, the layer stays a SeparableConv2D; TF.js saves those without their depth_multiplier (a stock
    // model with multiplier 2 does not reload), so only multiplier 1 can be checked that way.
    if (multiplier === 1) await rewriteAndCompare(make(multiplier), probe, (w, k) => (w === 'sep/pointwise_kernel' ? { kind: 'prune', pruned: k, params: k.rows * k.cols, error: 0 } : null));
  }
  probe.dispose();
});

