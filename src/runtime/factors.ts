import type * as Tf from '@tensorflow/tfjs';
import type { SparseConfig } from './sparse.js';
import { SparseWeights } from './sparseWeights.js';

/** The TF.js the runtime's layers run on: the app's own `@tensorflow/tfjs` module. */
export type TfModule = typeof Tf;

/**
 * How a runtime recurrent layer stores one of its matrices K (n x m): config
 * `kernelFactors` / `recurrentKernelFactors`. `null` is the dense matrix (weight
 * `<role>`). Otherwise the outputs in `denseRanges` are kept exactly in
 * `<role>_dense` (n x k, absent when k = 0) and the others are `<role>_p` (n x r)
 * times `<role>_q` (r x (m - k)); both parts list their outputs in ascending order.
 */
export interface FactorsConfig {
  rank: number;
  /** Outputs kept dense, as ascending, disjoint [start, end) ranges; empty for LMF. */
  denseRanges: number[][];
}

/** A matrix's outputs split into its dense and low-rank parts (plain numbers, no tensors). */
export interface FactorLayout {
  rank: number;
  cols: number;
  dense: Int32Array;
  lowRank: Int32Array;
}

/**
 * One contiguous block of outputs [start, end) of a factored matrix: its dense outputs are
 * columns [denseFrom, denseTo) of `<role>_dense`, its low-rank outputs columns
 * [lowFrom, lowTo) of `<role>_q`. `gather[j]` is the position of output start + j in
 * [dense part | low-rank part]; null when that is already the order.
 */
export interface BlockLayout {
  denseFrom: number;
  denseTo: number;
  lowFrom: number;
  lowTo: number;
  gather: Int32Array | null;
}

/** Reads and checks a FactorsConfig for a matrix with `cols` outputs. */
export function factorLayout(f: FactorsConfig, cols: number, what: string): FactorLayout {
  if (!Number.isInteger(f.rank) || f.rank < 1) throw new Error(`${what}: expected a rank >= 1, found ${f.rank}`);
  const isDense = new Uint8Array(cols);
  let last = 0;
  for (const range of f.denseRanges) {
    const [start, end] = range;
    if (range.length !== 2 || !Number.isInteger(start) || !Number.isInteger(end) || start < last || end <= start || end > cols) {
      throw new Error(`${what}: dense range [${range.join(', ')}] is not an ascending range inside [0, ${cols})`);
    }
    isDense.fill(1, start, end);
    last = end;
  }
  const dense: number[] = [];
  const lowRank: number[] = [];
  for (let j = 0; j < cols; j++) (isDense[j] ? dense : lowRank).push(j);
  if (lowRank.length === 0) throw new Error(`${what}: every output is dense; store the matrix dense (factors null)`);
  return { rank: f.rank, cols, dense: Int32Array.from(dense), lowRank: Int32Array.from(lowRank) };
}

/** Ascending column indices as [start, end) ranges. */
export function toRanges(columns: ArrayLike<number>): number[][] {
  const ranges: number[][] = [];
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i];
    const lastRange = ranges[ranges.length - 1];
    if (lastRange && lastRange[1] === c) lastRange[1] = c + 1;
    else ranges.push([c, c + 1]);
  }
  return ranges;
}

export function blockLayout(layout: FactorLayout, start: number, end: number): BlockLayout {
  const denseFrom = countBelow(layout.dense, start);
  const denseTo = countBelow(layout.dense, end);
  const lowFrom = countBelow(layout.lowRank, start);
  const lowTo = countBelow(layout.lowRank, end);
  const gather = new Int32Array(end - start);
  for (let i = denseFrom; i < denseTo; i++) gather[layout.dense[i] - start] = i - denseFrom;
  for (let i = lowFrom; i < lowTo; i++) gather[layout.lowRank[i] - start] = denseTo - denseFrom + i - lowFrom;
  return { denseFrom, denseTo, lowFrom, lowTo, gather: gather.every((v, j) => v === j) ? null : gather };
}

function countBelow(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A TF.js weight initializer (the class is not exported by name). */
export type Initializer = ReturnType<typeof Tf.initializers.ones>;

/** A layer's addWeight (protected in TF.js), bound by the cell that owns the weights. */
export type AddWeight = (name: string, shape: number[], initializer: Initializer, dtype?: 'float32' | 'int32', trainable?: boolean) => Tf.LayerVariable;

/** The tensors one block of a matrix is multiplied with during one call of the layer. */
export interface PreparedBlock {
  full: Tf.Tensor2D | null;
  /** A sparse matrix: every block of the call shares it; `widths` cuts its product, this block is number `index`. */
  sparse: { weights: SparseWeights; widths: number[]; index: number } | null;
  dense: Tf.Tensor2D | null;
  p: Tf.Tensor2D | null;
  q: Tf.Tensor2D | null;
  gather: Tf.Tensor1D | null;
}

/**
 * The weights of one matrix of a runtime layer, dense, factored or sparse (pruned, stored
 * compactly), split into column blocks that the cell multiplies separately (e.g. one per gate).
 */
export class MatrixWeights {
  readonly layout: FactorLayout | null;
  private full: Tf.LayerVariable | null = null;
  private dense: Tf.LayerVariable | null = null;
  private p: Tf.LayerVariable | null = null;
  private q: Tf.LayerVariable | null = null;
  readonly sparseWeights: SparseWeights | null;

  constructor(
    private readonly tf: TfModule,
    readonly role: string,
    readonly factors: FactorsConfig | null,
    readonly cols: number,
    readonly sparse: SparseConfig | null = null,
    owner = '',
  ) {
    if (factors && sparse) throw new Error(`${owner} ${role}: a matrix is factored or sparse, not both`);
    this.layout = factors ? factorLayout(factors, cols, role) : null;
    this.sparseWeights = sparse ? new SparseWeights(tf, role, sparse, cols, owner) : null;
  }

  /** Creates the weights for `rows` inputs (called from the cell's build()). */
  build(add: AddWeight, rows: number, initializer: Initializer): void {
    if (this.sparseWeights) {
      this.sparseWeights.build((name, shape, dtype, trainable) => add(name, shape, this.tf.initializers.zeros(), dtype, trainable), rows);
      return;
    }
    if (!this.layout) {
      this.full = add(this.role, [rows, this.cols], initializer);
      return;
    }
    const { dense, lowRank, rank } = this.layout;
    if (dense.length > 0) this.dense = add(`${this.role}_dense`, [rows, dense.length], initializer);
    this.p = add(`${this.role}_p`, [rows, rank], initializer);
    this.q = add(`${this.role}_q`, [rank, lowRank.length], initializer);
  }

  /**
   * Reads the weights and cuts them into blocks of consecutive columns of the given widths;
   * the tensors belong to the caller's tidy scope.
   */
  prepare(blockWidths: number[] = [this.cols]): PreparedBlock[] {
    const tf = this.tf;
    let start = 0;
    const blocks = blockWidths.map((w) => {
      const block = { start, end: start + w, layout: this.layout ? blockLayout(this.layout, start, start + w) : null };
      start += w;
      return block;
    });
    if (start !== this.cols) throw new Error(`${this.role}: blocks of ${start} columns for a matrix of ${this.cols}`);
    const single = blocks.length === 1;
    const none = { full: null, sparse: null, dense: null, p: null, q: null, gather: null };
    return blocks.map((b, index) => {
      if (this.sparseWeights) return { ...none, sparse: { weights: this.sparseWeights, widths: blockWidths, index } };
      if (this.full) {
        const w = this.full.read() as Tf.Tensor2D;
        return { ...none, full: single ? w : tf.slice(w, [0, b.start], [-1, b.end - b.start]) };
      }
      const l = b.layout as BlockLayout;
      const cut = (v: Tf.LayerVariable | null, from: number, to: number): Tf.Tensor2D | null => {
        if (!v || to <= from) return null;
        const w = v.read() as Tf.Tensor2D;
        return from === 0 && to === w.shape[1] ? w : tf.slice(w, [0, from], [-1, to - from]);
      };
      const q = cut(this.q, l.lowFrom, l.lowTo);
      const dense = cut(this.dense, l.denseFrom, l.denseTo);
      if (single && l.gather && dense && q && dense.shape[1] <= q.shape[0]) return { ...none, ...foldedOrder(tf, dense, this.p!.read() as Tf.Tensor2D, q, l.gather) };
      return {
        ...none,
        dense,
        p: q ? (this.p?.read() as Tf.Tensor2D) : null,
        q,
        gather: l.gather ? tf.tensor1d(l.gather, 'int32') : null,
      };
    });
  }
}

/**
 * A hybrid whose dense outputs are scattered among the low-rank ones, as two products with
 * the order folded into the second: x [D | P] times [[I_k, 0], [0, Q]] with its columns put in
 * output order (a gather of a (k + r) x m weight, not of the activations). The wasm backend's
 * Gather and Slice along columns copy element by element: char-lstm x8's input projection at
 * batch 32 ([2048, 512]) spent 37-49 ms in the gather of the product, which made HMF 2.35x
 * slower than LMF at equal size. Exact: each dense output is 1 times its value plus zeros.
 * Costs k m more multiply-adds per row, hence only where k <= r (see prepare).
 */
function foldedOrder(tf: TfModule, dense: Tf.Tensor2D, p: Tf.Tensor2D, q: Tf.Tensor2D, gather: Int32Array): Pick<PreparedBlock, 'p' | 'q'> {
  const k = dense.shape[1];
  const [r, low] = q.shape;
  const top = tf.concat2d([tf.eye(k) as Tf.Tensor2D, tf.zeros([k, low]) as Tf.Tensor2D], 1);
  const bottom = tf.concat2d([tf.zeros([r, k]) as Tf.Tensor2D, q], 1);
  return { p: tf.concat2d([dense, p], 1), q: tf.gather(tf.concat2d([top, bottom], 0), tf.tensor1d(gather, 'int32'), 1) as Tf.Tensor2D };
}

/**
 * x K for each of the blocks of one matrix, in output order: x P once for all of them,
 * then each block's Q, joined with the block's dense part. One product per block instead
 * of one product and a split: the wasm backend's split copies its whole input per piece.
 */
export function multiplyBlocks(tf: TfModule, x: Tf.Tensor2D, blocks: PreparedBlock[]): Tf.Tensor2D[] {
  const sparse = blocks[0]?.sparse;
  if (sparse) {
    // One product gives every block; a call that wants some of them (GRU's) drops the rest.
    const all = sparse.weights.multiplyBlocks(x, sparse.widths);
    return blocks.map((b) => all[(b.sparse ?? sparse).index]);
  }
  let xp: Tf.Tensor2D | null = null;
  return blocks.map((b) => {
    if (b.full) return tf.matMul(x, b.full);
    const parts: Tf.Tensor2D[] = [];
    if (b.dense) parts.push(tf.matMul(x, b.dense));
    if (b.q && b.p) {
      const shared: Tf.Tensor2D = xp ?? tf.matMul(x, b.p);
      xp = shared;
      parts.push(tf.matMul(shared, b.q));
    }
    const joined = parts.length === 1 ? parts[0] : tf.concat2d(parts, 1);
    return b.gather ? tf.gather(joined, b.gather, 1) : joined;
  });
}

/** x K for one block: x P once, then Q for all its low-rank outputs, joined with the dense part in output order. */
export function multiply(tf: TfModule, x: Tf.Tensor2D, b: PreparedBlock): Tf.Tensor2D {
  return multiplyBlocks(tf, x, [b])[0];
}
