/** Compact storage of pruned matrices (src/runtime/sparse.ts describes the formats): sizes, encoding, weights. */
import type { Quantization, QuantizeMode, Weight } from '../io/index.js';
import type { SparseConfig, SparseFormat } from '../runtime/sparse.js';

/** A pruned matrix in compact form, ready to be written. */
export interface SparseMatrix {
  config: SparseConfig;
  /** By suffix: `values`, and `indices` + `counts` or `mask`. */
  parts: Record<string, Float32Array | Int32Array>;
}

/** Bytes per stored value of a float weight written with `mode` (src/io chooseEncoding). */
export function valueBytes(source: Pick<Weight, 'quantization'>, mode: QuantizeMode): number {
  if (mode === 'float16') return 2;
  if (mode === 'uint8') return 1;
  if (mode === 'none' || !source.quantization) return 4;
  return source.quantization.dtype === 'uint8' ? 1 : 2;
}

/** Bytes of an index array whose values are below `bound`, in the narrowest TF.js encoding (uint8, uint16, int32). */
function indexBytes(bound: number): number {
  return bound <= 256 ? 1 : bound <= 65536 ? 2 : 4;
}

/** Bytes of a rows x cols matrix with `nnz` non-zeros in each format, values of `bytesPerValue` bytes. */
export function storageBytes(rows: number, cols: number, nnz: number, bytesPerValue: number): Record<SparseFormat | 'dense', number> {
  return {
    dense: rows * cols * bytesPerValue,
    csr: nnz * bytesPerValue + nnz * indexBytes(cols) + rows * indexBytes(cols + 1),
    bitmap: nnz * bytesPerValue + Math.ceil((rows * cols) / 8),
  };
}

/** The smaller compact format for the matrix, and whether it is smaller than dense. */
export function chooseStorage(rows: number, cols: number, nnz: number, bytesPerValue: number): { format: SparseFormat | 'dense'; bytes: Record<SparseFormat | 'dense', number> } {
  const bytes = storageBytes(rows, cols, nnz, bytesPerValue);
  const format: SparseFormat = bytes.csr <= bytes.bitmap ? 'csr' : 'bitmap';
  return { format: bytes[format] < bytes.dense ? format : 'dense', bytes };
}

/** The compact parts of a row-major rows x cols matrix (zeros dropped), by suffix. */
export function encodeSparse(values: Float32Array, rows: number, cols: number, format: SparseFormat): Record<string, Float32Array | Int32Array> {
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nnz++;
  const kept = new Float32Array(nnz);
  if (format === 'csr') {
    const indices = new Int32Array(nnz);
    const counts = new Int32Array(rows);
    let p = 0;
    for (let i = 0; i < rows; i++) {
      for (let j = 0, at = i * cols; j < cols; j++, at++) {
        if (values[at] === 0) continue;
        kept[p] = values[at];
        indices[p++] = j;
        counts[i]++;
      }
    }
    return { values: kept, indices, counts };
  }
  const mask = new Int32Array(Math.ceil((rows * cols) / 8));
  let p = 0;
  for (let at = 0; at < values.length; at++) {
    if (values[at] === 0) continue;
    kept[p++] = values[at];
    mask[at >> 3] |= 1 << (at & 7);
  }
  return { values: kept, mask };
}

/** The weights of one compact matrix named `<prefix>/<role>_<part>`, int32 parts in the narrowest TF.js encoding. */
export function sparseMatrixWeights(prefix: string, role: string, parts: Record<string, Float32Array | Int32Array>, cols: number, source: Weight): Weight[] {
  return Object.entries(parts).map(([part, v]) => {
    const name = `${prefix}/${role}_${part}`;
    if (v instanceof Float32Array) {
      return { name, shape: [v.length], dtype: 'float32' as const, values: v, ...(source.quantization ? { quantization: source.quantization } : {}) };
    }
    const bound = part === 'mask' ? 256 : part === 'counts' ? cols + 1 : cols;
    const bytes = indexBytes(bound);
    const quantization: Quantization | undefined = bytes === 1 ? { dtype: 'uint8', scale: 1, min: 0 } : bytes === 2 ? { dtype: 'uint16', scale: 1, min: 0 } : undefined;
    return { name, shape: [v.length], dtype: 'int32' as const, values: v, ...(quantization ? { quantization } : {}) };
  });
}

export function nonZeros(values: Float32Array): number {
  let nnz = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) nnz++;
  return nnz;
}

