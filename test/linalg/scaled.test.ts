import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { ScaledMatrix } from '../../src/linalg/scaled.js';
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
});
