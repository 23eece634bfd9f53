/**
 * The sparse product on WebAssembly SIMD (src/runtime/sparse.wat): K is held in compressed
 * sparse columns in the module's own memory, once per matrix; each product copies x in
 * (transposed for several rows) and y out. Where WebAssembly or its SIMD is missing,
 * `wasmKernel()` is null and the JavaScript kernel runs instead.
 */
import type { Csr } from './sparse.js';
import { SPARSE_WASM_BASE64 } from './sparseWasmBytes.js';

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface WasmModule {
  readonly kind?: 'module';
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule) => { exports: unknown };
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface Exports {
  memory: WasmMemory;
  spmv(colStart: number, rows: number, vals: number, m: number, x: number, y: number): void;
  spmm(colStart: number, rows: number, vals: number, m: number, xT: number, yT: number, bp: number): void;
}

let compiled: WasmModule | null | undefined;

/** The compiled module, or null where this JavaScript engine cannot run it (no WebAssembly SIMD). */
function sparseModule(): WasmModule | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  try {
    const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    if (wasm && typeof atob === 'function') {
      const bytes = Uint8Array.from(atob(SPARSE_WASM_BASE64), (c) => c.charCodeAt(0));
      if (wasm.validate(bytes)) compiled = new wasm.Module(bytes);
    }
  } catch {
    compiled = null;
  }
  return compiled;
}

const PAGE = 65536;

/** One matrix in the module's memory, ready to multiply. */
export class WasmSparseMatrix {
  private readonly exports: Exports;
  private readonly colStart = 0;
  private readonly rowsAt: number;
  private readonly valsAt: number;
  private readonly scratchAt: number;

  constructor(
    module: WasmModule,
    readonly k: Csr,
  ) {
    const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    this.exports = new wasm.Instance(module).exports as unknown as Exports;
    const { rows: n, cols: m, rowStart, columns, values } = k;
    const nnz = values.length;
    // CSC: the entries of each output column, in row order.
    const colCount = new Int32Array(m + 1);
    for (let p = 0; p < nnz; p++) colCount[columns[p] + 1]++;
    for (let j = 0; j < m; j++) colCount[j + 1] += colCount[j];
    this.rowsAt = align((m + 1) * 4);
    this.valsAt = align(this.rowsAt + nnz * 4);
    this.scratchAt = align(this.valsAt + nnz * 4);
    this.reserve(this.scratchAt);
    const memory = this.exports.memory.buffer;
    new Int32Array(memory, this.colStart, m + 1).set(colCount);
    const rowsOut = new Int32Array(memory, this.rowsAt, nnz);
    const valsOut = new Float32Array(memory, this.valsAt, nnz);
    const next = colCount.slice(0, m);
    for (let i = 0; i < n; i++) {
      for (let p = rowStart[i]; p < rowStart[i + 1]; p++) {
        const at = next[columns[p]]++;
        rowsOut[at] = i;
        valsOut[at] = values[p];
      }
    }
  }

  /** y = x K for x (batch x n, row-major); y (batch x m, row-major). */
  product(x: Float32Array, batch: number): Float32Array {
    const { rows: n, cols: m } = this.k;
    const e = this.exports;
    if (batch === 1) {
      const xAt = this.scratchAt;
      const yAt = align(xAt + n * 4);
      this.reserve(yAt + m * 4);
      new Float32Array(e.memory.buffer, xAt, n).set(x.subarray(0, n));
      e.spmv(this.colStart, this.rowsAt, this.valsAt, m, xAt, yAt);
      return new Float32Array(e.memory.buffer.slice(yAt, yAt + m * 4));
    }
    const bp = (batch + 3) & ~3;
    const xAt = this.scratchAt;
    const yAt = align(xAt + n * bp * 4);
    this.reserve(yAt + m * bp * 4);
    const xT = new Float32Array(e.memory.buffer, xAt, n * bp);
    for (let b = 0; b < batch; b++) for (let i = 0, xo = b * n; i < n; i++) xT[i * bp + b] = x[xo + i];
    for (let b = batch; b < bp; b++) for (let i = 0; i < n; i++) xT[i * bp + b] = 0;
    e.spmm(this.colStart, this.rowsAt, this.valsAt, m, xAt, yAt, bp);
    const yT = new Float32Array(e.memory.buffer, yAt, m * bp);
    const y = new Float32Array(batch * m);
    for (let j = 0; j < m; j++) for (let b = 0, yo = j * bp; b < batch; b++) y[b * m + j] = yT[yo + b];
    return y;
  }

  /** Grows the memory to hold `bytes`. */
  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    const have = memory.buffer.byteLength;
    if (bytes > have) memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

function align(bytes: number): number {
  return (bytes + 15) & ~15;
}

const kernels = new WeakMap<Csr, WasmSparseMatrix>();

/** The WebAssembly kernel of a matrix (made once per Csr object), or null where it cannot run. */
export function wasmKernel(k: Csr): WasmSparseMatrix | null {
  const cached = kernels.get(k);
  if (cached) return cached;
  const module = sparseModule();
  if (!module) return null;
  const kernel = new WasmSparseMatrix(module, k);
  kernels.set(k, kernel);
  return kernel;
}
