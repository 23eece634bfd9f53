import type * as Tf from '@tensorflow/tfjs';
import type { TfModule } from './factors.js';
import { wasmKernel } from './sparseWasm.js';

/**
 * How a runtime layer stores a pruned matrix K (n x m, y = x K) compactly (config
 * `kernelSparse` / `recurrentKernelSparse`), weights named `<role>_<part>`:
 * - `csr`: `<role>_values` float32 [nnz], the non-zeros row by row; `<role>_indices`
 *   int32 [nnz], the column of each; `<role>_counts` int32 [n], the non-zeros per row.
 *   The int32 weights are written with TF.js's uint8 / uint16 weight encoding where
 *   their values fit (columns < 256 / 65536), which every TF.js loader decodes.
 * - `bitmap`: `<role>_values` as above; `<role>_mask` int32 [ceil(n m / 8)], one byte
 *   (0..255, stored as uint8) per 8 entries of K in row-major order, bit b of byte i
 *   set when entry 8 i + b is stored.
 * Which is smaller depends on the density: 4 + 2 bytes per non-zero (CSR, m up to
 * 65536) against 4 per non-zero plus 1/8 byte per entry (bitmap).
 */
export interface SparseConfig {
  format: SparseFormat;
  /** Non-zeros stored. */
  nnz: number;
  /**
   * How the layer multiplies: `auto` chooses per call between the sparse kernel and the
   * matrix expanded to dense (`prefersSparseKernel`), `sparse` / `dense` force one.
   * @default 'auto'
   */
  kernel?: SparseKernelChoice;
}

export type SparseFormat = 'csr' | 'bitmap';
export type SparseKernelChoice = 'auto' | 'sparse' | 'dense';

export const SPARSE_FORMATS: readonly SparseFormat[] = ['csr', 'bitmap'];
const KERNEL_CHOICES: readonly SparseKernelChoice[] = ['auto', 'sparse', 'dense'];

/** K in compressed sparse rows, as the kernel reads it. */
export interface Csr {
  rows: number;
  cols: number;
  /** rows + 1 offsets into `columns` / `values`. */
  rowStart: Int32Array;
  columns: Int32Array;
  values: Float32Array;
}

/** The stored parts of one sparse matrix, by suffix (`values`, `indices`, `counts`, `mask`). */
export type SparseParts = Record<string, Float32Array | Int32Array>;

/** Weight suffixes and shapes a sparse matrix of `rows` x `cols` stores in `config.format`. */
export function sparseWeightShapes(config: SparseConfig, rows: number, cols: number): { part: string; shape: number[]; dtype: 'float32' | 'int32' }[] {
  const values = { part: 'values', shape: [config.nnz], dtype: 'float32' as const };
  if (config.format === 'csr') {
    return [values, { part: 'indices', shape: [config.nnz], dtype: 'int32' }, { part: 'counts', shape: [rows], dtype: 'int32' }];
  }
  return [values, { part: 'mask', shape: [Math.ceil((rows * cols) / 8)], dtype: 'int32' }];
}

/** Checks a SparseConfig read from a model file. */
export function checkSparseConfig(c: unknown, what: string): SparseConfig {
  const s = c as Partial<SparseConfig> | null;
  if (!s || typeof s !== 'object') throw new Error(`${what}: expected a sparse config {format, nnz}, found ${JSON.stringify(c)}`);
  if (!SPARSE_FORMATS.includes(s.format as SparseFormat)) {
    throw new Error(`${what}: sparse format must be ${SPARSE_FORMATS.join(' or ')}, found ${JSON.stringify(s.format)}`);
  }
  if (!Number.isInteger(s.nnz) || (s.nnz as number) < 0) throw new Error(`${what}: nnz must be a non-negative integer, found ${JSON.stringify(s.nnz)}`);
  const kernel = s.kernel ?? 'auto';
  if (!KERNEL_CHOICES.includes(kernel)) throw new Error(`${what}: kernel must be ${KERNEL_CHOICES.join(', ')}, found ${JSON.stringify(kernel)}`);
  return { format: s.format as SparseFormat, nnz: s.nnz as number, kernel };
}

/** The CSR form of stored parts; throws naming `what` when they do not describe a rows x cols matrix with config.nnz values. */
export function decodeSparse(config: SparseConfig, rows: number, cols: number, parts: SparseParts, what: string): Csr {
  const values = Float32Array.from(parts.values ?? []);
  if (values.length !== config.nnz) throw new Error(`${what}: expected ${config.nnz} values, found ${values.length}`);
  const rowStart = new Int32Array(rows + 1);
  let columns: Int32Array;
  if (config.format === 'csr') {
    const counts = parts.counts;
    const indices = parts.indices;
    if (!counts || counts.length !== rows) throw new Error(`${what}: expected ${rows} row counts, found ${counts?.length ?? 0}`);
    if (!indices || indices.length !== config.nnz) throw new Error(`${what}: expected ${config.nnz} column indices, found ${indices?.length ?? 0}`);
    for (let i = 0; i < rows; i++) {
      const c = counts[i];
      if (!(c >= 0 && c <= cols)) throw new Error(`${what}: row ${i} claims ${c} non-zeros in ${cols} columns`);
      rowStart[i + 1] = rowStart[i] + c;
    }
    if (rowStart[rows] !== config.nnz) throw new Error(`${what}: row counts sum to ${rowStart[rows]}, expected ${config.nnz}`);
    columns = Int32Array.from(indices);
    for (let p = 0; p < columns.length; p++) {
      if (!(columns[p] >= 0 && columns[p] < cols)) throw new Error(`${what}: column index ${columns[p]} at ${p} is outside [0, ${cols})`);
    }
  } else {
    const mask = parts.mask;
    const bytes = Math.ceil((rows * cols) / 8);
    if (!mask || mask.length !== bytes) throw new Error(`${what}: expected a mask of ${bytes} bytes, found ${mask?.length ?? 0}`);
    columns = new Int32Array(config.nnz);
    let p = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const flat = i * cols + j;
        if ((mask[flat >> 3] >> (flat & 7)) & 1) {
          if (p === config.nnz) throw new Error(`${what}: the mask marks more than ${config.nnz} entries`);
          columns[p++] = j;
        }
      }
      rowStart[i + 1] = p;
    }
    if (p !== config.nnz) throw new Error(`${what}: the mask marks ${p} entries, expected ${config.nnz}`);
  }
  return { rows, cols, rowStart, columns, values };
}

/** The dense rows x cols matrix (row-major) of a CSR matrix. */
export function densify(k: Csr): Float32Array {
  const out = new Float32Array(k.rows * k.cols);
  for (let i = 0; i < k.rows; i++) {
    const base = i * k.cols;
    for (let p = k.rowStart[i]; p < k.rowStart[i + 1]; p++) out[base + k.columns[p]] = k.values[p];
  }
  return out;
}

/** Batch rows from which the kernel runs batch-inner (x and y transposed): contiguous inner loops beat the scattered row updates. */
const BATCH_INNER_FROM = 4;

/** Which implementation of the sparse product runs: WebAssembly SIMD where the engine has it, else JavaScript. */
export type SparseEngine = 'wasm' | 'js';

/**
 * y = x K for x (batch x K.rows, row-major); returns y (batch x K.cols, row-major). TF.js has
 * no sparse matrix product op: this is hmf's own, on WebAssembly SIMD (src/runtime/sparse.wat)
 * where the JavaScript engine runs it, else in plain JavaScript over the CSR arrays.
 */
export function sparseProduct(x: Float32Array, batch: number, k: Csr, engine: SparseEngine = 'wasm'): Float32Array {
  if (x.length !== batch * k.rows) throw new Error(`sparseProduct: x holds ${x.length} values, expected ${batch} x ${k.rows}`);
  const wasm = engine === 'wasm' ? wasmKernel(k) : null;
  return wasm ? wasm.product(x, batch) : sparseProductJs(x, batch, k);
}

/** The JavaScript sparse product (see sparseProduct). */
function sparseProductJs(x: Float32Array, batch: number, k: Csr): Float32Array {
  const { rows: n, cols: m, rowStart, columns, values } = k;
  const y = new Float32Array(batch * m);
  if (batch < BATCH_INNER_FROM) {
    for (let b = 0; b < batch; b++) {
      const xo = b * n;
      const yo = b * m;
      for (let i = 0; i < n; i++) {
        const xi = x[xo + i];
        if (xi === 0) continue;
        let p = rowStart[i];
        const end = rowStart[i + 1];
        // Unrolled by four: 1.7x faster in V8 (2000x256 at 75% sparsity: 327 -> 190 µs).
        for (const end4 = p + ((end - p) & ~3); p < end4; p += 4) {
          y[yo + columns[p]] += xi * values[p];
          y[yo + columns[p + 1]] += xi * values[p + 1];
          y[yo + columns[p + 2]] += xi * values[p + 2];
          y[yo + columns[p + 3]] += xi * values[p + 3];
        }
        for (; p < end; p++) y[yo + columns[p]] += xi * values[p];
      }
    }
    return y;
  }
  const xT = new Float32Array(n * batch);
  for (let b = 0; b < batch; b++) for (let i = 0, xo = b * n; i < n; i++) xT[i * batch + b] = x[xo + i];
  const yT = new Float32Array(m * batch);
  for (let i = 0; i < n; i++) {
    const xo = i * batch;
    const end = rowStart[i + 1];
    for (let p = rowStart[i]; p < end; p++) {
      const v = values[p];
      const yo = columns[p] * batch;
      for (let b = 0; b < batch; b++) yT[yo + b] += v * xT[xo + b];
    }
  }
  for (let j = 0; j < m; j++) for (let b = 0, yo = j * batch; b < batch; b++) y[b * m + j] = yT[yo + b];
  return y;
}

/**
 * Whether the sparse kernel is expected to be at least as fast as TF.js's dense product of
 * `batchRows` rows with a matrix of `matrixRows` rows and this density (non-zeros / entries)
 * on `backend`, by the crossover `scripts/bench-sparse.ts` measured (wasm, one thread; the
 * table is in README, "Sparse pruning"). One row: not slower from 75% zeros on every shape
 * measured but 64 x 1024 (0.95-1.04 at 75% in three runs, not slower from 80%). Several rows:
 * the sparse side pays reading x out of the backend and uploading the result, which the dense
 * product, already in the backend, does not; with few matrix rows (32 x 512, 64 x 1024) that
 * outweighs the multiply-adds saved even at 95% zeros, and from 128 rows the sparse kernel was
 * not slower from 85% zeros (128 x 80 at 80%: 0.95 and 1.02 in two runs).
 * Backends whose tensors live off the CPU (webgl, webgpu) would pay a read-back per
 * product, and tfjs-node's native product is not measured: always dense there.
 */
export function prefersSparseKernel(backend: string, batchRows: number, density: number, matrixRows: number): boolean {
  if (backend === 'cpu') return density <= CPU_MAX_DENSITY;
  if (backend !== 'wasm') return false;
  if (batchRows === 1) return density <= WASM_MAX_DENSITY_ONE_ROW;
  return density <= WASM_MAX_DENSITY_ROWS && matrixRows >= WASM_MIN_MATRIX_ROWS;
}

/** Densities up to which the sparse kernel was not slower than TF.js's dense product (see prefersSparseKernel). */
const WASM_MAX_DENSITY_ONE_ROW = 0.25;
const WASM_MAX_DENSITY_ROWS = 0.15;
const WASM_MIN_MATRIX_ROWS = 128;
const CPU_MAX_DENSITY = 0.5;

/** Non-zeros over entries. */
export function density(k: Csr): number {
  return k.values.length / Math.max(1, k.rows * k.cols);
}

/** x K as a tensor (x: [rows, n]), computed by sparseProduct on x's values. */
export function sparseMatMul(tf: TfModule, x: Tf.Tensor2D, k: Csr, engine: SparseEngine = 'wasm'): Tf.Tensor2D {
  const [rows, n] = x.shape;
  if (n !== k.rows) throw new Error(`sparseMatMul: x has ${n} columns, the matrix ${k.rows} rows`);
  return tf.tensor2d(sparseProduct(x.dataSync() as Float32Array, rows, k, engine), [rows, k.cols]);
}
