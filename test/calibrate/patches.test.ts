import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { fullGram, weightedSquared } from '../../src/calibrate/gram.js';
import { addPatchGram } from '../../src/calibrate/patches.js';
import { gaussianArray } from '../../src/linalg/random.js';
import type { ConvGeometry } from '../../src/model/conv.js';

before(async () => {
  await initBackend('wasm');
});

/** ||conv(x, W)||² as TF.js computes it: what PᵀP must reproduce as tr(Wᵀ PᵀP W). */
function convSquared(x: tf.Tensor, w: Float32Array, g: ConvGeometry, m: number): number {
  return tf.tidy(() => {
    const pad = typeof g.padding === 'object' ? [[0, 0], ...g.padding.explicit, [0, 0]] : g.padding;
    const y =
      g.kernel.length === 2
        ? tf.conv2d(x as tf.Tensor4D, tf.tensor4d(w, [g.kernel[0], g.kernel[1], g.inChannels, m]), g.strides as [number, number], pad as 'same', 'NHWC', g.dilation as [number, number])
        : tf.conv1d(x as tf.Tensor3D, tf.tensor3d(w, [g.kernel[0], g.inChannels, m]), g.strides[0], g.padding as 'same', 'NWC', g.dilation[0]);
    return y.square().sum().dataSync()[0];
  });
}

function geometry(kernel: number[], inChannels: number, over: Partial<ConvGeometry> = {}): ConvGeometry {
  const ones = kernel.map(() => 1);
  return { kernel, inChannels, strides: ones, padding: 'valid', dilation: ones, dataFormat: 'channels_last', ...over };
}

describe('im2col patch Grams', () => {
  const cases: [string, number[], ConvGeometry][] = [
    ['3x3 same, stride 2', [2, 9, 8, 3], geometry([3, 3], 3, { strides: [2, 2], padding: 'same' })],
    ['2x3 valid, dilation 2', [2, 9, 10, 2], geometry([2, 3], 2, { dilation: [2, 2] })],
    ['3x2 explicit padding, stride (1, 2)', [1, 7, 7, 2], geometry([3, 2], 2, { strides: [1, 2], padding: { explicit: [[1, 2], [0, 1]] } })],
    ['1x1 stride 2', [3, 6, 5, 4], geometry([1, 1], 4, { strides: [2, 2] })],
    ['Conv1D k=4 same, stride 3', [2, 13, 3], geometry([4], 3, { strides: [3], padding: 'same' })],
    ['Conv1D k=3 valid, dilation 3', [2, 15, 2], geometry([3], 2, { dilation: [3] })],
  ];
  for (const [name, shape, g] of cases) {
    it(`${name}: tr(Wᵀ PᵀP W) = ||conv(x, W)||², whatever the band size`, () => {
      const n = g.kernel.reduce((a, b) => a * b, 1) * g.inChannels;
      const m = 5;
      const x = tf.tensor(gaussianArray(shape.reduce((a, b) => a * b, 1), 7), shape);
      const w = gaussianArray(n * m, 8);
      const grams = [1 << 22, n, 1].map((band) => {
        const data = new Float64Array(n * n);
        const rows = addPatchGram(data, x, g, band);
        return fullGram(n, data, rows);
      });
      const expected = convSquared(x, w, g, m);
      for (const gram of grams) {
        assert.equal(gram.rows, grams[0].rows);
        const scale = Math.max(...grams[0].data.map(Math.abs));
        assert.ok(gram.data.every((v, i) => Math.abs(v - grams[0].data[i]) <= 1e-5 * scale), 'the same Gram in any band size');
        const got = weightedSquared(gram, { rows: n, cols: m, data: w });
        assert.ok(Math.abs(got - expected) <= 1e-4 * expected, `${got} vs ${expected}`);
      }
      x.dispose();
    });
  }

  it('TimeDistributed input [batch, time, h, w, c]: the Gram of every frame', () => {
    const g = geometry([2, 2], 2, { padding: 'same' });
    const frames = tf.tensor(gaussianArray(2 * 3 * 4 * 4 * 2, 9), [2, 3, 4, 4, 2]);
    const a = new Float64Array(64);
    const b = new Float64Array(64);
    assert.equal(addPatchGram(a, frames, g), 2 * 3 * 16);
    addPatchGram(b, frames.reshape([6, 4, 4, 2]), g);
    assert.deepEqual(Array.from(a), Array.from(b));
    frames.dispose();
  });
});
