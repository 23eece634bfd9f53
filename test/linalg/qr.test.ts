import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { orthonormalizeColumns } from '../../src/linalg/qr.js';
import { gaussianArray } from '../../src/linalg/random.js';

/** Column-major helpers. */
function defect(q: Float64Array, rows: number, cols: number): number {
  let worst = 0;
  for (let a = 0; a < cols; a++) {
    for (let b = 0; b < cols; b++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += q[a * rows + i] * q[b * rows + i];
      worst = Math.max(worst, Math.abs(dot - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/** Largest norm of a column of `a` left after projecting on span(q). */
function outsideSpan(a: Float64Array, q: Float64Array, rows: number, cols: number): number {
  let worst = 0;
  for (let c = 0; c < cols; c++) {
    const x = Array.from(a.subarray(c * rows, (c + 1) * rows));
    for (let k = 0; k < cols; k++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += q[k * rows + i] * x[i];
      for (let i = 0; i < rows; i++) x[i] -= dot * q[k * rows + i];
    }
    worst = Math.max(worst, Math.hypot(...x));
  }
  return worst;
}

describe('orthonormalizeColumns', () => {
  it('gives orthonormal columns spanning the input', () => {
    const rows = 50;
    const cols = 12;
    const a = Float64Array.from(gaussianArray(rows * cols, 1));
    const q = orthonormalizeColumns(a.slice(), rows, cols);
    assert.ok(defect(q, rows, cols) < 1e-12);
    assert.ok(outsideSpan(a, q, rows, cols) < 1e-10);
  });

  it('stays orthonormal on rank-deficient input (zero and repeated columns)', () => {
    const rows = 20;
    const cols = 6;
    const a = new Float64Array(rows * cols);
    const g = gaussianArray(rows * 2, 2);
    for (let i = 0; i < rows; i++) {
      a[i] = g[i];
      a[rows + i] = g[i] * 2; // parallel to column 0
      a[3 * rows + i] = g[rows + i];
      a[5 * rows + i] = g[i] + g[rows + i];
    }
    const q = orthonormalizeColumns(a.slice(), rows, cols);
    assert.ok(defect(q, rows, cols) < 1e-12);
    assert.ok(outsideSpan(a, q, rows, cols) < 1e-10);
  });

  it('rejects wide input', () => {
    assert.throws(() => orthonormalizeColumns(new Float64Array(6), 2, 3), RangeError);
  });
});
