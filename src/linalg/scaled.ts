/**
 * W = A * scale held on the TF.js backend together with its transpose, for the
 * randomized SVD's repeated products W X and W^T X and its Gram W W^T.
 *
 * Only plain (untransposed) matMuls are used: the wasm backend sends transposeA /
 * transposeB to a slow path, measured 25-100x slower than XNNPACK (650x10000 by
 * 10000x163 with transposeA: 1170 ms; on the materialised transpose: 43 ms; the
 * transpose itself: 18 ms for 10000x650). On the threaded wasm build these products use
 * every thread of its pool (backend.ts).
 */
import { tf } from '../tf.js';
import { symmetrized, type Matrix } from './matrix.js';

/** Smallest Gram side computed as halves (see ScaledMatrix.gram). */
export const GRAM_HALVES_MIN = 256;

export class ScaledMatrix {
  readonly rows: number;
  readonly cols: number;
  private readonly w: tf.Tensor2D;
  private readonly wt: tf.Tensor2D;

  constructor(a: Matrix, scale: number) {
    this.rows = a.rows;
    this.cols = a.cols;
    this.w = scale === 1 ? tf.tensor2d(a.data, [a.rows, a.cols]) : tf.tidy(() => tf.mul(tf.tensor2d(a.data, [a.rows, a.cols]), tf.scalar(scale)));
    this.wt = tf.transpose(this.w);
  }

  /** W X, X row-major cols x xCols. */
  mulW(x: Float32Array, xCols: number): Float32Array {
    return product(this.w, x, this.cols, xCols);
  }

  /** W^T X, X row-major rows x xCols. */
  mulWt(x: Float32Array, xCols: number): Float32Array {
    return product(this.wt, x, this.rows, xCols);
  }

  /**
   * W W^T (rows x rows) when `ofRows`, else W^T W (cols x cols); the caller disposes it.
   * From a side of GRAM_HALVES_MIN or more, as three products of halves (the fourth block is
   * the transpose of one): bit for bit the same G (each entry is the same dot product), in
   * 0.93x the time with the slicing (10000x650: 310 against 335 ms, fresh tensors).
   */
  gram(ofRows: boolean): tf.Tensor2D {
    const left = ofRows ? this.w : this.wt; // n x N
    const right = ofRows ? this.wt : this.w; // N x n
    const n = left.shape[0];
    const bigN = left.shape[1];
    if (n < GRAM_HALVES_MIN) return tf.matMul(left, right);
    return tf.tidy(() => {
      const h = n >> 1;
      const top = tf.slice(left, [0, 0], [h, bigN]);
      const bottom = tf.slice(left, [h, 0], [n - h, bigN]);
      const first = tf.slice(right, [0, 0], [bigN, h]);
      const second = tf.slice(right, [0, h], [bigN, n - h]);
      const g00 = tf.matMul(top, first);
      const g10 = tf.matMul(bottom, first); // `first` packed once for both
      const g11 = tf.matMul(bottom, second);
      return tf.concat([tf.concat([g00, tf.transpose(g10)], 1), tf.concat([g10, g11], 1)], 0) as tf.Tensor2D;
    });
  }

  dispose(): void {
    tf.dispose([this.w, this.wt]);
  }
}

/** M X through TF.js, X given row-major (xRows x xCols); M is kept. */
export function product(m: tf.Tensor2D, x: Float32Array, xRows: number, xCols: number): Float32Array {
  if (x.length !== xRows * xCols) throw new RangeError(`product: expected ${xRows}x${xCols} values, got ${x.length}`);
  const out = tf.tidy(() => tf.matMul(m, tf.tensor2d(x, [xRows, xCols])));
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

/**
 * T^T T (cols x cols) on TF.js, symmetrised in float64. A float64 Gram in JavaScript took
 * 2.7 s for 10000x315 (vs ~0.15 s here); its extra precision is lost anyway, since the
 * randomized SVD's power iterations already limit resolution to about sqrt(eps32) * s_1.
 */
export function columnGram(t: tf.Tensor2D): Float64Array {
  const out = tf.tidy(() => tf.matMul(tf.transpose(t), t));
  const g32 = out.dataSync() as Float32Array;
  out.dispose();
  return symmetrized(g32, t.shape[1]);
}
