import { tf } from '../tf.js';
import { createRequire } from 'node:module';
import type * as MlMatrixModule from 'ml-matrix';
import { symmetricEigen } from './eig.js';
import { frobenius, symmetrized, type Matrix } from './matrix.js';
import { choleskyQr2Of, choleskyStep, luBasis, orthonormalBasis } from './qr.js';
import { gaussianArray } from './random.js';
import { columnGram, product, ScaledMatrix } from './scaled.js';

/** Thin SVD A ~ U diag(s) V^T. */
export interface Svd {
  /** rows x r, orthonormal columns. */
  readonly u: Matrix;
  /** r singular values, descending. */
  readonly s: Float64Array;
  /** cols x r, orthonormal columns. */
  readonly v: Matrix;
}

/**
 * `randomized` sketches A and power-iterates with A; `gram` forms the small side's Gram
 * once and power-iterates with it (cheaper when the small side is below ~(2q + 1) l);
 * `auto` picks exact, gram or randomized by size.
 */
export type SvdMethod = 'auto' | 'exact' | 'randomized' | 'gram';

export interface TruncatedSvdOptions {
  /** Seed of the Gaussian sketch: same input and seed give bit-identical output. */
  seed: number;
  /** Extra sketch columns beyond `rank`. @default DEFAULT_OVERSAMPLE */
  oversample?: number;
  /** Power (subspace) iterations. @default DEFAULT_POWER_ITERATIONS */
  powerIterations?: number;
  /** `auto`: exact when rows * cols * min(rows, cols) <= EXACT_MAX_WORK, else gram or randomized (see sketchSvd). @default 'auto' */
  method?: SvdMethod;
  /**
   * Warm start for the randomized method: rows x c (c >= rank + oversample) whose
   * leading columns roughly span A's dominant column space (e.g. the left singular
   * vectors of a matrix A was cut from). Replaces the Gaussian sketch; fewer power
   * iterations are then needed. Ignored when it has too few columns.
   */
  start?: Matrix;
  /** ||A||_F when the caller has it (each is a pass over A). */
  norm?: number;
}

/*
 * Defaults measured with scripts/bench-svd.ts (2-core machine, wasm backend) on matrices
 * with a slowly decaying spectrum s_i ~ 1/sqrt(i), the hard case typical of trained
 * weights. Excess of the rank-r error over the optimal one, and time:
 *   q (power iterations)       1        2        3        4
 *   512^2, r=128            +6.6%    +2.2%    +1.0%    +0.5%  (0.14 -> 0.27 s)
 *   1024^2, r=128           +5.4%    +1.9%    +0.9%    +0.5%  (0.40 -> 0.87 s)
 *   650x10000, r=152        +6.2%    +2.1%    +0.9%    +0.5%  (1.1 -> 2.6 s)
 * Oversampling 20 instead of 10 helped less than one more power iteration at similar cost.
 * The error lands in the compressed model, so accuracy wins: q = 4, p = 10.
 */
export const DEFAULT_OVERSAMPLE = 10;
export const DEFAULT_POWER_ITERATIONS = 4;
/**
 * `auto` uses ml-matrix's exact SVD when rows * cols * min(rows, cols) is at most this
 * (128x128, 2048x32). Measured: ml-matrix takes ~0.15 s at 128x128, 0.3 s at 200x200,
 * 1.6 s at 256x256, 4.6 s at 512x512; the randomized one 0.02-0.05 s at 128-256.
 */
export const EXACT_MAX_WORK = 128 ** 3;
/**
 * Up to this small side, a sketch that would cost as much as the whole small side uses the
 * whole small side instead: its Gram's eigendecomposition is then exact, and cheap (0.13 s
 * at 256). Measured on the trained 4000x64 embedding of fixtures/sentiment-embed (a flat
 * tail: s = 46.7, 9.4, 4.1, 2.9, then 2.7 slowly down to 1.6), the randomized rank-31 error
 * was 1.2% above the optimum with q = 4, p = 10.
 */
export const FULL_SPACE_MAX = 256;
/**
 * Largest small side whose Gram (n x n float32, on the backend) the
 * randomized SVD may form instead of sketching A itself (see sketchSvd).
 */
export const GRAM_MAX = 4096;
/**
 * Extra power iterations when they run on the small side's Gram G = W W^T: each costs
 * 2 n^2 l flops there instead of 4 n N l on W, so a few more buy accuracy almost free.
 */
export const GRAM_EXTRA_ITERATIONS = 2;

/** Matrices with ||A|| within 2^+-this are used unscaled (see randomizedSvd). */
const UNSCALED_NORM_LOG2 = 20;

/** ml-matrix, loaded on first use (~35 ms, which a model of only large matrices never needs). */
let mlMatrix: typeof MlMatrixModule | undefined;
const requireModule = createRequire(import.meta.url);

/** Full thin SVD with ml-matrix (Golub-Kahan); r = min(rows, cols). Slow beyond ~200x200. */
export function exactSvd(a: Matrix): Svd {
  const r = Math.min(a.rows, a.cols);
  if (r === 0) return emptySvd(a);
  mlMatrix ??= requireModule('ml-matrix') as typeof MlMatrixModule;
  const { Matrix: MlMatrix, SingularValueDecomposition } = mlMatrix;
  const rows: Float32Array[] = [];
  for (let i = 0; i < a.rows; i++) rows.push(a.data.subarray(i * a.cols, (i + 1) * a.cols));
  const svd = new SingularValueDecomposition(new MlMatrix(rows), { autoTranspose: true });
  const raw = svd.diagonal;
  const uMl = svd.leftSingularVectors;
  const vMl = svd.rightSingularVectors;
  // ml-matrix returns descending values already; sort anyway (stable on index) so the contract holds.
  const order = Array.from({ length: r }, (_, i) => i).sort((x, y) => raw[y] - raw[x] || x - y);
  const s = new Float64Array(r);
  const u = new Float32Array(a.rows * r);
  const v = new Float32Array(a.cols * r);
  order.forEach((src, dst) => {
    s[dst] = raw[src];
    for (let i = 0; i < a.rows; i++) u[i * r + dst] = uMl.get(i, src);
    for (let i = 0; i < a.cols; i++) v[i * r + dst] = vMl.get(i, src);
  });
  return { u: { rows: a.rows, cols: r, data: u }, s, v: { rows: a.cols, cols: r, data: v } };
}

/** The leading min(rank, r) components of `svd`. */
export function truncateSvd(svd: Svd, rank: number): Svd {
  const r = Math.min(rank, svd.s.length);
  if (r === svd.s.length) return svd;
  return { u: leadingColumns(svd.u, r), s: svd.s.slice(0, r), v: leadingColumns(svd.v, r) };
}

/**
 * Rank-`rank` truncated SVD (exactly min(rank, rows, cols) components).
 * Randomized (Halko, Martinsson & Tropp 2011) for large matrices, exact for small ones.
 */
export function truncatedSvd(a: Matrix, rank: number, opts: TruncatedSvdOptions): Svd {
  return truncateSvd(sketchSvd(a, rank, opts), rank);
}

/**
 * Like truncatedSvd but returns every component the computation produced: up to
 * rank + oversample for the randomized method (min(rows, cols) when the whole small side
 * is no dearer, see FULL_SPACE_MAX), min(rows, cols) for the exact one.
 * Its leading `rank` components are exactly truncatedSvd's (same code path), so a
 * caller can use the extra components for estimates without a second SVD.
 */
export function sketchSvd(a: Matrix, rank: number, opts: TruncatedSvdOptions): Svd {
  if (!Number.isInteger(rank) || rank < 0) throw new RangeError(`truncatedSvd: rank must be a non-negative integer, got ${rank}`);
  const small = Math.min(a.rows, a.cols);
  if (small === 0 || rank === 0) return emptySvd(a);
  const method = opts.method ?? 'auto';
  const exact = method === 'exact' || (method === 'auto' && a.rows * a.cols * small <= EXACT_MAX_WORK);
  if (exact) return exactSvd(a);
  const oversample = opts.oversample ?? DEFAULT_OVERSAMPLE;
  const power = opts.powerIterations ?? DEFAULT_POWER_ITERATIONS;
  const l = Math.min(small, rank + oversample);
  // The sketch and its power iterations multiply by l (2q + 2) columns: when that reaches
  // the small side, the whole small side (identity sketch, l = small) is no dearer and exact.
  const full = small <= FULL_SPACE_MAX && l * (2 * power + 2) >= small;
  if (full) return randomizedSvd(a, small, power, opts.seed, opts.start, false, opts.norm);
  // Forming the small side's Gram (2 n^2 N flops) beats the sketch's power iterations
  // ((4q + 2) n N l flops) when n < (2q + 1) l; its own iterations then cost only n^2 l each.
  const viaGram = method === 'gram' || (method === 'auto' && small <= GRAM_MAX && small < (2 * power + 1) * l);
  return randomizedSvd(a, l, power, opts.seed, opts.start, viaGram, opts.norm);
}

/**
 * Randomized SVD. W is A or A^T, whichever is wide (n <= N), so the sketch basis Q
 * (n x l) lives on the small side. Power iterations compute Y = W (W^T Q) (or G Q on the
 * Gram route) on TF.js and normalise Y only, never the big side: its QR (N x l, e.g.
 * 10000 x 315) costs seconds in JavaScript, and skipping it only blurs components below
 * ~sqrt(eps32) * s_1 that do not affect compression. Between iterations the normaliser is
 * LU (luBasis; Householder QR instead was 2.2 of 8.7 s of HMF on the PTB benchmark for the
 * same subspaces), or on the Gram route one Cholesky QR pass kept on the backend (LU when
 * it breaks down: PTB factorize 2.2 -> 1.9 s); the final basis is Cholesky QR2 (of Y, or
 * of its LU factor, Householder when both break down).
 * The small SVD of B = Q^T W comes from the eigendecomposition (float64) of its l x l
 * Gram B B^T, formed on TF.js in float32.
 */
function randomizedSvd(a: Matrix, l: number, powerIterations: number, seed: number, start: Matrix | undefined, viaGram: boolean, knownNorm?: number): Svd {
  const norm = knownNorm ?? frobenius(a);
  const tall = a.rows > a.cols;
  const n = tall ? a.cols : a.rows;
  const bigN = tall ? a.rows : a.cols;
  if (norm === 0) return zeroSvd(a, l);
  // Scale by a power of two (exact) so W W^T Q stays well inside float32 range; a norm
  // within 2^+-UNSCALED_NORM_LOG2 already does (G's entries within 2^+-40), and skips the
  // pass (~35 ms of wasm multiplies over the PTB benchmark's matrices).
  const scale = Math.abs(Math.log2(norm)) <= UNSCALED_NORM_LOG2 ? 1 : 2 ** -Math.round(Math.log2(norm));
  const scaled = new ScaledMatrix(a, scale);
  // Gram route: G = W W^T, formed once, serves the power iterations and the final small problem.
  const g = viaGram && l < n ? scaled.gram(!tall) : null;
  try {
    // W Z for Z (N x l) and W^T Q for Q (n x l), with W = A (wide) or A^T (tall).
    const mulW = (z: Float32Array): Float32Array => (tall ? scaled.mulWt(z, l) : scaled.mulW(z, l));
    const mulWt = (q: Float32Array): Float32Array => (tall ? scaled.mulW(q, l) : scaled.mulWt(q, l));
    let q32: Float32Array; // n x l, orthonormal columns
    if (l >= n) {
      // The sketch would span the whole small side: use the identity, no randomness needed.
      l = n;
      q32 = new Float32Array(n * n);
      for (let i = 0; i < n; i++) q32[i * n + i] = 1;
    } else {
      let y: Float32Array | null = null;
      if (start && start.rows === a.rows && start.cols >= l) {
        const head = leadingColumns(start, l).data;
        // The start lives in A's column space: the small side itself, or mapped to it by W = A^T.
        y = tall ? mulW(head) : head;
      }
      if (g) {
        // The power iterations multiply by G = W W^T, each as strong as one W (W^T Y) below,
        // and stay on the backend: a Cholesky QR pass normalises Y between them (LU when Y is
        // too ill-conditioned for it), its Gram and product on TF.js, only l x l in JavaScript.
        // One G step per normalisation. Two would halve them (same error on the PTB benchmark),
        // but float32 G (G Y) keeps a direction only to eps (s_1 / s_i)^4: garbage at
        // s_i / s_1 ~ 1e-2, which trained matrices with a dominant component reach.
        let yt: tf.Tensor2D = y ? tf.tensor2d(y, [n, l]) : tf.tidy(() => tf.matMul(g, tf.tensor2d(gaussianArray(n * l, seed), [n, l])) as tf.Tensor2D);
        try {
          for (let it = 0; it < powerIterations + GRAM_EXTRA_ITERATIONS; it++) {
            const q = choleskyStep(yt) ?? tf.tensor2d(luBasis(yt.dataSync() as Float32Array, n, l), [n, l]);
            yt.dispose();
            yt = tf.matMul(g, q) as tf.Tensor2D;
            q.dispose();
          }
          q32 = choleskyQr2Of(yt) ?? orthonormalBasis(yt.dataSync() as Float32Array, n, l);
        } finally {
          yt.dispose();
        }
      } else {
        y ??= mulW(gaussianArray(bigN * l, seed));
        // LU between power iterations (same span, a quarter of QR's cost), an orthonormal basis last.
        for (let it = 0; it < powerIterations; it++) y = mulW(mulWt(luBasis(y, n, l)));
        q32 = orthonormalBasis(y, n, l);
      }
    }
    // Rayleigh-Ritz: the eigenvectors E of B B^T (B = Q^T W, l x l) rotate Q into U = Q E;
    // V = W^T U diag(1/s). With G at hand, B B^T = Q^T (G Q) costs n^2 l instead of N n l + N l^2.
    let bt: Float32Array | null = null; // N x l, = B^T
    let bbt: Float64Array;
    if (g) bbt = symmetrized(productOf(transposed(q32, n, l), l, n, product(g, q32, n, l), l), l);
    else {
      bt = mulWt(q32);
      bbt = gram(bt, bigN, l);
    }
    const e = Float32Array.from(symmetricEigen(bbt, l).vectors);
    const qe = productOf(q32, n, l, e, l); // n x l = Q E
    const vProjected = bt ? productOf(bt, bigN, l, e, l) : mulWt(qe); // N x l, = W^T Q E
    const { s, vw, order } = normalizedColumns(vProjected, bigN, l);
    const uw = permuteColumns(qe, n, l, order);
    for (let i = 0; i < l; i++) s[i] /= scale;
    return tall
      ? { u: { rows: a.rows, cols: l, data: vw }, s, v: { rows: a.cols, cols: l, data: uw } }
      : { u: { rows: a.rows, cols: l, data: uw }, s, v: { rows: a.cols, cols: l, data: vw } };
  } finally {
    g?.dispose();
    scaled.dispose();
  }
}

/** M X through TF.js for row-major M (rows x inner) and X (inner x xCols). */
function productOf(m: Float32Array, rows: number, inner: number, x: Float32Array, xCols: number): Float32Array {
  const t = tf.tensor2d(m, [rows, inner]);
  try {
    return product(t, x, inner, xCols);
  } finally {
    t.dispose();
  }
}

/** Row-major transpose of row-major m (rows x cols). */
function transposed(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = m[i * cols + j];
  return out;
}

/** X^T X (see columnGram) for row-major float32 X (rows x cols). */
function gram(x: Float32Array, rows: number, cols: number): Float64Array {
  const t = tf.tensor2d(x, [rows, cols]);
  try {
    return columnGram(t);
  } finally {
    t.dispose();
  }
}

/**
 * V = (W^T Q E) diag(1/s) and s, with s_j = ||W^T Q e_j|| accumulated in float64 (more
 * accurate than the square roots of the float32 Gram's eigenvalues, and exactly
 * ||U^T A||'s column norms, which the methods use for the residual ||A||^2 - sum s_j^2).
 * Components come out sorted by s (order[j] = source column). Components whose value is
 * below float32 resolution of the Gram (s_j <= s_1 * 1e-6) cannot be resolved: they get
 * s = 0 and a zero vector (they contribute nothing to any reconstruction).
 */
function normalizedColumns(data: Float32Array, rows: number, l: number): { s: Float64Array; vw: Float32Array; order: Int32Array } {
  // Each long loop in a function of its own: V8 optimizes a function (on stack) while its
  // first loop runs and deoptimizes it at the next loop, which has no type feedback yet.
  const norm2 = columnNorms2(data, rows, l);
  const order = Int32Array.from({ length: l }, (_, j) => j).sort((x, y) => norm2[y] - norm2[x] || x - y);
  const s = Float64Array.from(order, (j) => Math.sqrt(norm2[j]));
  const floor = s[0] * 1e-6;
  const inv = new Float64Array(l);
  for (let j = 0; j < l; j++) {
    if (s[j] > floor) inv[j] = 1 / s[j];
    else s[j] = 0;
  }
  const vw = permuteColumns(data, rows, l, order);
  scaleColumns(vw, rows, l, inv);
  return { s, vw, order };
}

/** Squared norm of each column of row-major `data` (rows x l), in float64. */
function columnNorms2(data: Float32Array, rows: number, l: number): Float64Array {
  const norm2 = new Float64Array(l);
  for (let i = 0; i < rows; i++) {
    const base = i * l;
    for (let j = 0; j < l; j++) norm2[j] += data[base + j] * data[base + j];
  }
  return norm2;
}

/** m[i][j] *= factor[j] for row-major m (rows x l). */
function scaleColumns(m: Float32Array, rows: number, l: number, factor: Float64Array): void {
  for (let i = 0; i < rows; i++) for (let j = 0; j < l; j++) m[i * l + j] *= factor[j];
}

/** Row-major (rows x cols) with column j taken from column order[j]; `m` itself when order is the identity. */
function permuteColumns(m: Float32Array, rows: number, cols: number, order: Int32Array): Float32Array {
  if (order.every((src, j) => src === j)) return m;
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const base = i * cols;
    for (let j = 0; j < cols; j++) out[base + j] = m[base + order[j]];
  }
  return out;
}

function leadingColumns(m: Matrix, r: number): Matrix {
  const out = new Float32Array(m.rows * r);
  for (let i = 0; i < m.rows; i++) out.set(m.data.subarray(i * m.cols, i * m.cols + r), i * r);
  return { rows: m.rows, cols: r, data: out };
}

function emptySvd(a: Matrix): Svd {
  return zeroSvd(a, 0);
}

/** A zero matrix: r zero singular values with orthonormal (unit-coordinate) vectors. */
function zeroSvd(a: Matrix, r: number): Svd {
  const u = new Float32Array(a.rows * r);
  const v = new Float32Array(a.cols * r);
  for (let j = 0; j < r; j++) {
    u[j * r + j] = 1;
    v[j * r + j] = 1;
  }
  return { u: { rows: a.rows, cols: r, data: u }, s: new Float64Array(r), v: { rows: a.cols, cols: r, data: v } };
}
