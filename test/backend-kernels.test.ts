/**
 * The training kernels hmf registers for the wasm backend, against the cpu backend's own:
 * Conv2DBackpropFilter (the filter gradient of Conv1D and Conv2D) with strides, same,
 * valid and explicit padding, in patch bands smaller than one example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../src/tf.js';
import { initBackend } from '../src/backend.js';
import { convFilterGradientKernel, registerTrainingKernels } from '../src/backend-kernels.js';
import { gaussianArray } from '../src/linalg/random.js';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** d/dW of sum(conv2d(x, W) * dy): the filter gradient, through the backend's Conv2DBackpropFilter. */
function filterGradient(xShape: number[], wShape: number[], strides: [number, number], pad: Pad): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(gaussianArray(xShape.reduce((a, b) => a * b, 1), 1), xShape as [number, number, number, number]);
    const w = tf.tensor4d(gaussianArray(wShape.reduce((a, b) => a * b, 1), 2), wShape as [number, number, number, number]);
    const y = tf.conv2d(x, w, strides, pad);
    const dy = tf.tensor(gaussianArray(y.size, 3), y.shape);
    const grad = tf.grad((filter: tf.Tensor) => tf.conv2d(x, filter as tf.Tensor4D, strides, pad).mul(dy).sum())(w);
    return grad.dataSync() as Float32Array;
  });
}

test('wasm Conv2DBackpropFilter (registered by hmf) matches the cpu backend', async () => {
  await initBackend('wasm');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined, 'stock wasm has no such kernel');
  assert.equal(registerTrainingKernels(), true);
  assert.equal(registerTrainingKernels(), false, 'idempotent');
  const cases: [number[], number[], [number, number], Pad][] = [
    [[2, 9, 8, 3], [3, 3, 3, 5], [1, 1], 'same'],
    [[2, 9, 8, 3], [3, 2, 3, 4], [2, 2], 'valid'],
    [[1, 7, 9, 2], [2, 3, 2, 3], [2, 1], 'same'],
    [[1, 7, 7, 2], [3, 3, 2, 2], [1, 2], [[0, 0], [1, 2], [0, 1], [0, 0]]],
    // Conv1D as TF.js runs it: a 2-D convolution of height 1.
    [[4, 1, 40, 16], [1, 5, 16, 8], [1, 1], 'same'],
  ];
  const wasm = cases.map((c) => filterGradient(...c));
  // The same with patches of at most 240 values at a time: bands of 3 to 8 positions.
  tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel(convFilterGradientKernel('wasm', 3 * 80));
  const banded = cases.map((c) => filterGradient(...c));
  await tf.setBackend('cpu');
  const cpu = cases.map((c) => filterGradient(...c));
  await tf.setBackend('wasm');
  for (const [i, c] of cases.entries()) {
    const scale = Math.max(...cpu[i].map(Math.abs));
    for (const got of [wasm[i], banded[i]]) {
      const diff = Math.max(...got.map((v, j) => Math.abs(v - cpu[i][j])));
      assert.ok(scale > 0 && diff <= 1e-5 * scale, `case ${JSON.stringify(c)}: max difference ${diff} (scale ${scale})`);
    }
  }
});
