import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { tf } from '../../src/tf.js';
import { GRAM_HALVES_MIN, ScaledMatrix } from '../../src/linalg/scaled.js';
import { gaussian, multiply } from './matrices.js';

before(async () => {
  await initBackend();
});

describe('ScaledMatrix', () => {
  const rows = 301;
  const cols = 517;
  const a = gaussian(rows, cols, 11);
  const at = { rows: cols, cols: rows, data: new Float32Array(rows * cols) };
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) at.data[j * rows + i] = a.data[i * cols + j];

  const close = (got: Float32Array, want: Float32Array, factor: number): void => {
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i] * factor) < 1e-3, `entry ${i}: ${got[i]} vs ${want[i] * factor}`);
  };

  it('computes W X, W^T X and both Grams with the scale applied', () => {
    const w = new ScaledMatrix(a, 0.5);
    try {
      const x = gaussian(cols, 7, 12);
      const y = gaussian(rows, 7, 13);
      close(w.mulW(x.data, 7), multiply(a, x).data, 0.5);
      close(w.mulWt(y.data, 7), multiply(at, y).data, 0.5);
      const rowsGram = w.gram(true);
      const colsGram = w.gram(false);
      close(rowsGram.dataSync() as Float32Array, multiply(a, at).data, 0.25);
      close(colsGram.dataSync() as Float32Array, multiply(at, a).data, 0.25);
      assert.deepEqual(rowsGram.shape, [rows, rows]);
      assert.deepEqual(colsGram.shape, [cols, cols]);
      rowsGram.dispose();
      colsGram.dispose();
      assert.throws(() => w.mulW(y.data.subarray(0, 10), 7), RangeError);
    } finally {
      w.dispose();
    }
  });

  it('forms Grams of a side >= GRAM_HALVES_MIN as halves, bit for bit the one product, symmetric', () => {
    // 301 and 517 are both above GRAM_HALVES_MIN and odd (unequal halves).
    assert.ok(rows >= GRAM_HALVES_MIN && cols >= GRAM_HALVES_MIN);
    const w = new ScaledMatrix(a, 0.5);
    const scaledA = tf.mul(tf.tensor2d(a.data, [rows, cols]), tf.scalar(0.5)) as tf.Tensor2D;
    try {
      for (const ofRows of [true, false]) {
        const g = w.gram(ofRows);
        const want = ofRows ? tf.matMul(scaledA, tf.transpose(scaledA)) : tf.matMul(tf.transpose(scaledA), scaledA);
        const got = g.dataSync() as Float32Array;
        assert.deepEqual(got, want.dataSync());
        const n = g.shape[0];
        for (let i = 0; i < n; i += 37) for (let j = 0; j < n; j += 41) assert.equal(got[i * n + j], got[j * n + i]);
        tf.dispose([g, want]);
      }
    } finally {
      w.dispose();
      scaledA.dispose();
    }
  });
});
