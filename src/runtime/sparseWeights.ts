import type * as Tf from '@tensorflow/tfjs';
import type { TfModule } from './factors.js';
import { decodeSparse, density, densify, prefersSparseKernel, sparseMatMul, sparseProduct, sparseWeightShapes, type Csr, type SparseConfig } from './sparse.js';

/** A layer's addWeight (protected in TF.js), bound by the layer that owns the weights. */
export type AddTypedWeight = (name: string, shape: number[], dtype: 'float32' | 'int32', trainable: boolean) => Tf.LayerVariable;

/**
 * The stored parts of one sparse matrix of a runtime layer (`<role>_values`, ...; see
 * SparseConfig), decoded to CSR on first use and again whenever a part's value is
 * replaced (loading weights). Inference only: the parts are not trainable.
 */
export class SparseWeights {
  private parts: { part: string; variable: Tf.LayerVariable }[] = [];
  private decoded: { key: unknown[]; csr: Csr } | null = null;
  private expanded: Tf.Tensor2D | null = null;
  private blocks: { key: string; tensors: Tf.Tensor2D[] } | null = null;
  private rows = 0;

  constructor(
    private readonly tf: TfModule,
    readonly role: string,
    readonly config: SparseConfig,
    readonly cols: number,
    /** Layer name, for error messages. */
    readonly owner: string,
  ) {}

  build(add: AddTypedWeight, rows: number): void {
    this.rows = rows;
    this.parts = sparseWeightShapes(this.config, rows, this.cols).map((s) => ({ part: s.part, variable: add(`${this.role}_${s.part}`, s.shape, s.dtype, false) }));
  }

  /** The matrix in CSR form, decoded from the current weight values. */
  csr(): Csr {
    const key = this.parts.map((p) => (p.variable.read() as unknown as { dataId: unknown }).dataId);
    if (this.decoded && key.every((k, i) => k === this.decoded!.key[i])) return this.decoded.csr;
    const values: Record<string, Float32Array | Int32Array> = {};
    for (const p of this.parts) values[p.part] = p.variable.read().dataSync() as Float32Array | Int32Array;
    const csr = decodeSparse(this.config, this.rows, this.cols, values, `${this.owner} ${this.role}`);
    this.decoded = { key, csr };
    this.releaseDense();
    return csr;
  }

  /** x K (x: [rows, n]) with the sparse kernel, or with K expanded to dense, as the config and prefersSparseKernel say. */
  multiply(x: Tf.Tensor2D): Tf.Tensor2D {
    const tf = this.tf;
    const k = this.csr();
    const choice = this.config.kernel ?? 'auto';
    const sparse = choice === 'sparse' || (choice === 'auto' && prefersSparseKernel(tf.getBackend(), x.shape[0], density(k), k.rows));
    const input = x.dtype === 'float32' ? x : (tf.cast(x, 'float32') as Tf.Tensor2D);
    if (sparse) return sparseMatMul(tf, input, k);
    return tf.matMul(input, this.dense());
  }

  /**
   * x K cut into blocks of consecutive output columns of the given widths (e.g. one per
   * gate), each [rows, width]: one product for all of them either way.
   */
  multiplyBlocks(x: Tf.Tensor2D, widths: readonly number[]): Tf.Tensor2D[] {
    if (widths.length === 1) return [this.multiply(x)];
    const tf = this.tf;
    const k = this.csr();
    const choice = this.config.kernel ?? 'auto';
    const input = x.dtype === 'float32' ? x : (tf.cast(x, 'float32') as Tf.Tensor2D);
    const rows = x.shape[0];
    if (choice === 'sparse' || (choice === 'auto' && prefersSparseKernel(tf.getBackend(), rows, density(k), k.rows))) {
      const y = sparseProduct(input.dataSync() as Float32Array, rows, k);
      let start = 0;
      return widths.map((w) => {
        const block = new Float32Array(rows * w);
        for (let r = 0; r < rows; r++) block.set(y.subarray(r * k.cols + start, r * k.cols + start + w), r * w);
        start += w;
        return tf.tensor2d(block, [rows, w]);
      });
    }
    return this.denseBlocks(widths).map((b) => tf.matMul(input, b));
  }

  /** K's column blocks as dense tensors, kept like `dense()`. */
  private denseBlocks(widths: readonly number[]): Tf.Tensor2D[] {
    const tf = this.tf;
    const key = widths.join(',');
    const dense = this.dense();
    if (this.blocks?.key !== key) {
      tf.dispose(this.blocks?.tensors ?? []);
      let start = 0;
      const tensors = widths.map((w) => {
        const t = tf.keep(tf.slice(dense, [0, start], [-1, w]));
        start += w;
        return t;
      });
      this.blocks = { key, tensors };
    }
    return this.blocks.tensors;
  }

  /** K as a dense tensor, kept until the weights change or the layer is disposed. */
  dense(): Tf.Tensor2D {
    const k = this.csr();
    if (!this.expanded) this.expanded = this.tf.keep(this.tf.tensor2d(densify(k), [k.rows, k.cols]));
    return this.expanded;
  }

  dispose(): void {
    this.releaseDense();
    this.decoded = null;
  }

  private releaseDense(): void {
    this.expanded?.dispose();
    this.expanded = null;
    this.tf.dispose(this.blocks?.tensors ?? []);
    this.blocks = null;
  }
}
