import type { Weight } from '../io/index.js';
import type { Matrix } from '../linalg/matrix.js';

/**
 * The order in which an HMF layer emits its outputs: [dense | low-rank]. Null when that
 * is the original order (nothing to absorb).
 */
export function emittedOrder(denseOutputs: Int32Array, lowRankOutputs: Int32Array): Int32Array | null {
  const order = Int32Array.from([...denseOutputs, ...lowRankOutputs]);
  return order.every((v, i) => v === i) ? null : order;
}

/** Row i of the result is row order[i] of `m`: a consumer kernel that reads inputs in `order`. */
export function permuteRows(m: Matrix, order: Int32Array): Matrix {
  if (order.length !== m.rows) throw new RangeError(`permuteRows: ${order.length} indices for ${m.rows} rows`);
  const out = new Float32Array(m.data.length);
  for (let i = 0; i < order.length; i++) out.set(m.data.subarray(order[i] * m.cols, (order[i] + 1) * m.cols), i * m.cols);
  return { rows: m.rows, cols: m.cols, data: out };
}

/**
 * `order` (a permutation of m channels) applied to each of the t blocks of a weight with
 * rows = t·m: row b·m + i of the result is row b·m + order[i]. A convolution kernel viewed
 * as (kh·kw·cin) x cout has one block of cin rows per kernel offset; a Dense kernel after
 * Flatten one per position; a per-channel vector one.
 */
export function tileOrder(order: Int32Array, rows: number): Int32Array {
  const m = order.length;
  if (rows === m) return order;
  if (m === 0 || rows % m !== 0) throw new RangeError(`tileOrder: ${rows} rows are not blocks of ${m} channels`);
  const out = new Int32Array(rows);
  for (let b = 0; b < rows; b += m) for (let i = 0; i < m; i++) out[b + i] = b + order[i];
  return out;
}

/**
 * The float32 weights of a model as they are being edited: a target may get its rows
 * permuted (by an HMF layer before it) before it is compressed itself, and a weight
 * that is left dense still has to be written with its permuted rows.
 */
export class WeightEdits {
  private readonly original: ReadonlyMap<string, Weight>;
  private readonly edited = new Map<string, Float32Array>();

  constructor(weights: readonly Weight[]) {
    this.original = new Map(weights.map((w) => [w.name, w]));
  }

  /**
   * The current values of a float32 weight as a matrix: its last axis is the columns (a
   * convolution kernel (kh, kw, cin, cout) is (kh·kw·cin) x cout); a vector is one column.
   */
  matrix(name: string): Matrix {
    const w = this.original.get(name);
    if (!w || w.shape.length === 0 || w.dtype !== 'float32') throw new Error(`internal: ${name} is not a float32 weight of rank 1 or more`);
    const cols = w.shape.length === 1 ? 1 : w.shape[w.shape.length - 1];
    const size = w.shape.reduce((a, b) => a * b, 1);
    return { rows: cols === 0 ? 0 : size / cols, cols, data: this.edited.get(name) ?? (w.values as Float32Array) };
  }

  set(name: string, values: Float32Array): void {
    this.edited.set(name, values);
  }

  /** Reorders the weight's rows for a producer's new channel order, in each block of rows (see tileOrder). */
  permuteRows(name: string, order: Int32Array): void {
    const m = this.matrix(name);
    this.set(name, permuteRows(m, tileOrder(order, m.rows)).data);
  }

  /** Forgets every edit: the weights as read. */
  reset(): void {
    this.edited.clear();
  }

  /** New values of every weight that changed. */
  changed(): ReadonlyMap<string, Float32Array> {
    return this.edited;
  }
}
