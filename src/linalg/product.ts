import { tf } from '../tf.js';
import { frobenius, type Matrix } from './matrix.js';

/** Largest number of output entries computed per TF.js call (bounds peak memory). */
const BLOCK_ENTRIES = 1 << 22;

/** A B through TF.js on the active backend (float32). */
export function matMul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new RangeError(`matMul: ${a.rows}x${a.cols} by ${b.rows}x${b.cols}`);
  const out = tf.tidy(() => tf.matMul(tf.tensor2d(a.data, [a.rows, a.cols]), tf.tensor2d(b.data, [b.rows, b.cols])));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return { rows: a.rows, cols: b.cols, data };
}

/**
 * ||K - P Q||_F^2 recomputed from the factors: P Q through TF.js in row blocks, the
 * residual accumulated in float64 (exact recomputation rather than ||K||^2 - sum s_i^2,
 * which cancels badly when the error is small).
 */
export function lowRankResidualSquared(k: Matrix, p: Matrix, q: Matrix): number {
  if (p.rows !== k.rows || q.cols !== k.cols || p.cols !== q.rows) {
    throw new RangeError(`lowRankResidual: K ${k.rows}x${k.cols}, P ${p.rows}x${p.cols}, Q ${q.rows}x${q.cols}`);
  }
  if (p.cols === 0) {
    const f = frobenius(k);
    return f * f;
  }
  const m = k.cols;
  const blockRows = Math.max(1, Math.floor(BLOCK_ENTRIES / Math.max(1, m)));
  const qt = tf.tensor2d(q.data, [q.rows, q.cols]);
  let sum = 0;
  try {
    for (let r0 = 0; r0 < k.rows; r0 += blockRows) {
      const r1 = Math.min(k.rows, r0 + blockRows);
      const out = tf.tidy(() => tf.matMul(tf.tensor2d(p.data.subarray(r0 * p.cols, r1 * p.cols), [r1 - r0, p.cols]), qt));
      const approx = out.dataSync();
      out.dispose();
      const base = r0 * m;
      for (let i = 0; i < approx.length; i++) {
        const d = k.data[base + i] - approx[i];
        sum += d * d;
      }
    }
  } finally {
    qt.dispose();
  }
  return sum;
}

/** ||K - P Q||_F / ||K||_F (0 for a zero K). */
export function lowRankRelativeError(k: Matrix, p: Matrix, q: Matrix): number {
  const norm = frobenius(k);
  if (norm === 0) return 0;
  return Math.sqrt(lowRankResidualSquared(k, p, q)) / norm;
}
