import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { luBasis, orthonormalBasis, orthonormalizeColumns } from '../../src/linalg/qr.js';
import { gaussianArray } from '../../src/linalg/random.js';

before(async () => {
  await initBackend();
});

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

/** Row-major helpers (float64 arithmetic on float32 data). */
function rowDefect(q: Float32Array, rows: number, cols: number): number {
  const g = new Float64Array(cols * cols);
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < cols; a++) {
      const x = q[i * cols + a];
      if (x === 0) continue;
      for (let b = 0; b < cols; b++) g[a * cols + b] += x * q[i * cols + b];
    }
  }
  let worst = 0;
  for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) worst = Math.max(worst, Math.abs(g[a * cols + b] - (a === b ? 1 : 0)));
  return worst;
}

/**
 * Largest ||y_j - P y_j|| / ||y_j|| over the nonzero columns of y, P projecting on the
 * span of the columns of `basis` (any basis: it is orthonormalised here in float64 first).
 */
function rowOutsideSpan(y: Float32Array, basis: Float32Array, rows: number, cols: number, basisCols = cols): number {
  const cm = new Float64Array(rows * basisCols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < basisCols; j++) cm[j * rows + i] = basis[i * basisCols + j];
  const q = orthonormalizeColumns(cm, rows, basisCols);
  let worst = 0;
  for (let j = 0; j < cols; j++) {
    const x = new Float64Array(rows);
    for (let i = 0; i < rows; i++) x[i] = y[i * cols + j];
    const norm = Math.hypot(...x);
    if (norm === 0) continue;
    for (let k = 0; k < basisCols; k++) {
      let dot = 0;
      for (let i = 0; i < rows; i++) dot += q[k * rows + i] * x[i];
      for (let i = 0; i < rows; i++) x[i] -= dot * q[k * rows + i];
    }
    worst = Math.max(worst, Math.hypot(...x) / norm);
  }
  return worst;
}

/** rows x cols of rank `rank` (product of Gaussian factors). */
function lowRank(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const a = gaussianArray(rows * rank, seed);
  const b = gaussianArray(rank * cols, seed + 1);
  const y = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let t = 0; t < rank; t++) {
      const f = a[i * rank + t];
      for (let j = 0; j < cols; j++) y[i * cols + j] += f * b[t * cols + j];
    }
  }
  return y;
}

/** Column j of a Gaussian matrix scaled by 1e-6 for every third j: condition number ~1e6. */
function badlyScaled(rows: number, cols: number, seed: number): Float32Array {
  const y = gaussianArray(rows * cols, seed);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j += 3) y[i * cols + j] *= 1e-6;
  return y;
}

/**
 * Unit lower triangular with -1 below the diagonal on top of zero rows: partial pivoting
 * keeps it as its own LU factor, whose inverse grows like 2^cols, so Cholesky QR of it breaks
 * down (checked when this test was written: the fallback answers for cols = 20, 40, 80).
 */
function wilkinsonLower(rows: number, cols: number): Float32Array {
  const y = new Float32Array(rows * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j <= i; j++) y[i * cols + j] = i === j ? 1 : -1;
  return y;
}

function maxAbs(x: Float32Array): number {
  return x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

// Sizes on both sides of the blocked / Cholesky QR thresholds.
const sizes: [rows: number, cols: number][] = [
  [50, 12],
  [300, 70],
  [650, 163],
];

describe('luBasis', () => {
  for (const [rows, cols] of sizes) {
    it(`${rows}x${cols} Gaussian: spans the input, unit diagonal entries bounded by 1, deterministic`, () => {
      const y = gaussianArray(rows * cols, rows + cols);
      const l = luBasis(y, rows, cols);
      assert.ok(maxAbs(l) <= 1);
      assert.ok(rowOutsideSpan(y, l, rows, cols) < 1e-5);
      assert.deepEqual(luBasis(y, rows, cols), l);
    });
  }

  it('spans rank-deficient input and stays bounded', () => {
    const [rows, cols] = [400, 96];
    const y = lowRank(rows, cols, 30, 5);
    const l = luBasis(y, rows, cols);
    assert.ok(maxAbs(l) <= 1);
    assert.ok(rowOutsideSpan(y, l, rows, cols) < 1e-5);
  });

  it('spans badly scaled columns relative to their own norm', () => {
    const [rows, cols] = [300, 80];
    const y = badlyScaled(rows, cols, 6);
    assert.ok(rowOutsideSpan(y, luBasis(y, rows, cols), rows, cols) < 1e-5);
  });

  it('rejects wide input', () => {
    assert.throws(() => luBasis(new Float32Array(6), 2, 3), RangeError);
  });
});

describe('orthonormalBasis', () => {
  for (const [rows, cols] of [...sizes, [2000, 100] as [number, number]]) {
    it(`${rows}x${cols} Gaussian: orthonormal columns spanning the input, deterministic`, () => {
      const y = gaussianArray(rows * cols, 3 * rows + cols);
      const q = orthonormalBasis(y, rows, cols);
      assert.equal(q.length, rows * cols);
      assert.ok(rowDefect(q, rows, cols) < 1e-5);
      assert.ok(rowOutsideSpan(y, q, rows, cols) < 1e-5);
      assert.deepEqual(orthonormalBasis(y, rows, cols), q);
    });
  }

  it('rank-deficient input: orthonormal, spanning it', () => {
    const [rows, cols] = [650, 163];
    const y = lowRank(rows, cols, 40, 9);
    const q = orthonormalBasis(y, rows, cols);
    assert.ok(rowDefect(q, rows, cols) < 1e-5);
    assert.ok(rowOutsideSpan(y, q, rows, cols) < 1e-5);
  });

  it('zero columns: orthonormal', () => {
    const [rows, cols] = [300, 70];
    const y = gaussianArray(rows * cols, 10);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j += 2) y[i * cols + j] = 0;
    const q = orthonormalBasis(y, rows, cols);
    assert.ok(rowDefect(q, rows, cols) < 1e-5);
    assert.ok(rowOutsideSpan(y, q, rows, cols) < 1e-5);
  });

  it('badly scaled columns: orthonormal, spanning even the small columns', () => {
    const [rows, cols] = [650, 163];
    const y = badlyScaled(rows, cols, 11);
    const q = orthonormalBasis(y, rows, cols);
    assert.ok(rowDefect(q, rows, cols) < 1e-5);
    assert.ok(rowOutsideSpan(y, q, rows, cols) < 1e-5);
  });

  it('an input whose LU factor defeats Cholesky QR: falls back to Householder, orthonormal and spanning', () => {
    const [rows, cols] = [300, 80];
    const y = wilkinsonLower(rows, cols);
    const q = orthonormalBasis(y, rows, cols);
    assert.ok(rowDefect(q, rows, cols) < 1e-5);
    assert.ok(rowOutsideSpan(y, q, rows, cols) < 1e-5);
  });

  it('rejects wide input', () => {
    assert.throws(() => orthonormalBasis(new Float32Array(6), 2, 3), RangeError);
  });
});
