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

  /** The current values of a 2-D float32 weight as a matrix. */
  matrix(name: string): Matrix {
    const w = this.original.get(name);
    if (!w || w.shape.length !== 2 || w.dtype !== 'float32') throw new Error(`internal: ${name} is not a 2-D float32 weight`);
    return { rows: w.shape[0], cols: w.shape[1], data: this.edited.get(name) ?? (w.values as Float32Array) };
  }

  set(name: string, values: Float32Array): void {
    this.edited.set(name, values);
  }

  permuteRows(name: string, order: Int32Array): void {
    this.set(name, permuteRows(this.matrix(name), order).data);
  }

  /** New values of every weight that changed. */
  changed(): ReadonlyMap<string, Float32Array> {
    return this.edited;
  }
}
