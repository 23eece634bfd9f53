import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { mulberry32 } from '../../src/linalg/random.js';
import { encodeSparse } from '../../src/model/sparseEncode.js';
import {
  decodeSparse,
  densify,
  registerHmfLayers,
  sparseProduct,
  type SparseConfig,
  type SparseEngine,
  type SparseFormat,
  type SparseKernelChoice,
} from '../../src/runtime/index.js';
import { wasmKernel } from '../../src/runtime/sparseWasm.js';
import { BYTES_TS, bytesSource, compileWat } from '../../scripts/build-sparse-wasm.js';
import { savedArtifacts } from '../helpers.js';

/** A rows x cols matrix with about `density` of its entries non-zero (some rows empty). */
function sparseMatrix(rows: number, cols: number, density: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    if (i % 7 === 3) continue; // an empty row now and then
    for (let j = 0; j < cols; j++) if (u() < density) out[i * cols + j] = u() * 2 - 1;
  }
  return out;
}

function denseProduct(x: Float32Array, batch: number, k: Float32Array, n: number, m: number): Float64Array {
  const y = new Float64Array(batch * m);
  for (let b = 0; b < batch; b++) for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) y[b * m + j] += x[b * n + i] * k[i * m + j];
  return y;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const { HmfLSTM, HmfSparseDense } = registerHmfLayers(tf);

before(async () => {
  await initBackend();
});

describe('sparse storage formats', () => {
  for (const format of ['csr', 'bitmap'] as SparseFormat[]) {
    test(`${format}: encode then decode gives back the matrix, whatever the density`, () => {
      for (const [rows, cols, density] of [[13, 9, 0.3], [1, 300, 0.05], [40, 1, 0.5], [17, 257, 0.9], [5, 5, 0]] as const) {
        const k = sparseMatrix(rows, cols, density, rows * cols);
        const parts = encodeSparse(k, rows, cols, format);
        const nnz = k.filter((v) => v !== 0).length;
        assert.equal(parts.values.length, nnz);
        const csr = decodeSparse({ format, nnz }, rows, cols, parts, 'test');
        assert.deepEqual(densify(csr), k);
      }
    });
  }

  test('decoding names the matrix and what is inconsistent', () => {
    const k = sparseMatrix(6, 10, 0.4, 1);
    const csr = encodeSparse(k, 6, 10, 'csr');
    const nnz = csr.values.length;
    const bad = (parts: Record<string, Float32Array | Int32Array>, format: SparseFormat, pattern: RegExp) =>
      assert.throws(() => decodeSparse({ format, nnz }, 6, 10, parts, 'layer d kernel'), pattern);
    bad({ ...csr, counts: Int32Array.from(csr.counts, (c, i) => (i === 0 ? c + 1 : c)) }, 'csr', /layer d kernel: row counts sum to \d+, expected \d+/);
    bad({ ...csr, indices: Int32Array.from(csr.indices, (c, i) => (i === 0 ? 10 : c)) }, 'csr', /layer d kernel: column index 10 at 0 is outside \[0, 10\)/);
    bad({ ...csr, values: csr.values.subarray(1) }, 'csr', /layer d kernel: expected \d+ values/);
    const bitmap = encodeSparse(k, 6, 10, 'bitmap');
    const mask = Int32Array.from(bitmap.mask);
    mask[0] ^= 1;
    bad({ ...bitmap, mask }, 'bitmap', /layer d kernel: the mask marks/);
  });
});

describe('sparse kernel', () => {
  test('Node runs the WebAssembly SIMD kernel (not the JavaScript fallback)', () => {
    const parts = encodeSparse(sparseMatrix(4, 4, 0.5, 1), 4, 4, 'csr');
    assert.notEqual(wasmKernel(decodeSparse({ format: 'csr', nnz: parts.values.length }, 4, 4, parts, 'k')), null);
  });

  for (const engine of ['wasm', 'js'] as SparseEngine[]) {
    test(`${engine}: x K equals the dense product, for batches around the vector widths (1-5, 31-33, 64) and awkward shapes`, () => {
      for (const [n, m, density] of [[37, 29, 0.2], [5, 300, 0.5], [64, 3, 0.9], [9, 9, 0]] as const) {
        const k = sparseMatrix(n, m, density, n + m);
        const parts = encodeSparse(k, n, m, 'csr');
        const csr = decodeSparse({ format: 'csr', nnz: parts.values.length }, n, m, parts, 'k');
        for (const batch of [1, 2, 3, 4, 5, 31, 32, 33, 64]) {
          const u = mulberry32(batch);
          const x = Float32Array.from({ length: batch * n }, (_, i) => (i % 5 === 0 ? 0 : u() - 0.5));
          const y = sparseProduct(x, batch, csr, engine);
          assert.equal(y.length, batch * m);
          assert.ok(maxAbsDiff(y, denseProduct(x, batch, k, n, m)) < 1e-5, `${n}x${m} batch ${batch}`);
        }
      }
    });
  }

  test('src/runtime/sparseWasmBytes.ts is what wat2wasm makes of src/runtime/sparse.wat', (t) => {
    let compiled: Buffer;
    try {
      compiled = compileWat();
    } catch (err) {
      t.skip(`wat2wasm (Debian package wabt) is not installed: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    assert.equal(readFileSync(BYTES_TS, 'utf8'), bytesSource(compiled), 'rerun: node dist/scripts/build-sparse-wasm.js');
  });
});

/** A pruned dense layer and the same weights in an HmfSparseDense (format, kernel choice). */
function denseAndSparse(format: SparseFormat, kernel: SparseKernelChoice, inputShape: number[]): { stock: tf.LayersModel; sparse: tf.LayersModel } {
  const [n, m] = [inputShape[inputShape.length - 1], 23];
  const k = sparseMatrix(n, m, 0.15, 9);
  const bias = Float32Array.from({ length: m }, (_, j) => j / 10 - 1);
  const stock = tf.sequential({ layers: [tf.layers.dense({ units: m, activation: 'relu', inputShape })] });
  stock.setWeights([tf.tensor2d(k, [n, m]), tf.tensor1d(bias)]);
  const parts = encodeSparse(k, n, m, format);
  const config: SparseConfig = { format, nnz: parts.values.length, kernel };
  const sparse = tf.sequential({ layers: [new HmfSparseDense({ units: m, activation: 'relu', kernelSparse: config, inputShape })] });
  const byName = new Map<string, tf.Tensor>(Object.entries(parts).map(([p, v]) => [`kernel_${p}`, v instanceof Int32Array ? tf.tensor1d(v, 'int32') : tf.tensor1d(v)]));
  byName.set('bias', tf.tensor1d(bias));
  sparse.setWeights(sparse.weights.map((w) => byName.get(w.originalName.split('/').pop() as string) as tf.Tensor));
  return { stock, sparse };
}

describe('HmfSparseDense', () => {
  for (const format of ['csr', 'bitmap'] as SparseFormat[]) {
    for (const kernel of ['sparse', 'dense', 'auto'] as SparseKernelChoice[]) {
      test(`${format}, kernel ${kernel}: same outputs as Dense with the pruned kernel, on 2-D and 3-D inputs, after a save/load round trip`, async () => {
        for (const inputShape of [[31], [4, 31]]) {
          const { stock, sparse } = denseAndSparse(format, kernel, inputShape);
          const reloaded = await tf.loadLayersModel(tf.io.fromMemory(await savedArtifacts(sparse)));
          assert.equal(reloaded.layers[0].getClassName(), 'HmfSparseDense');
          for (const batch of [1, 9]) {
            const x = tf.randomNormal([batch, ...inputShape], 0, 1, 'float32', batch);
            const want = (stock.predict(x) as tf.Tensor).dataSync();
            for (const m of [sparse, reloaded]) assert.ok(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), want) < 1e-5);
          }
          for (const m of [stock, sparse, reloaded]) m.dispose();
        }
      });
    }
  }

  test('a bad kernel choice or format in the config is refused by name', () => {
    assert.throws(() => new HmfSparseDense({ units: 3, kernelSparse: { format: 'coo' as SparseFormat, nnz: 1 } }), /kernelSparse: sparse format must be csr or bitmap, found "coo"/);
    assert.throws(() => new HmfSparseDense({ units: 3, kernelSparse: { format: 'csr', nnz: 1, kernel: 'fast' as SparseKernelChoice } }), /kernel must be auto, sparse, dense, found "fast"/);
  });
});

describe('HmfLSTM with sparse matrices', () => {
  test('both kernels sparse: same sequence outputs as a stock LSTM with the pruned weights, whichever kernel runs', () => {
    const [steps, n, units] = [5, 6, 7];
    const stock = tf.sequential({ layers: [tf.layers.lstm({ units, returnSequences: true, inputShape: [steps, n] })] });
    const kernel = sparseMatrix(n, 4 * units, 0.3, 11);
    const recurrent = sparseMatrix(units, 4 * units, 0.2, 12);
    const bias = Float32Array.from({ length: 4 * units }, (_, j) => (j % 3) / 5);
    stock.setWeights([tf.tensor2d(kernel, [n, 4 * units]), tf.tensor2d(recurrent, [units, 4 * units]), tf.tensor1d(bias)]);
    for (const choice of ['sparse', 'dense'] as SparseKernelChoice[]) {
      const kp = encodeSparse(kernel, n, 4 * units, 'csr');
      const rp = encodeSparse(recurrent, units, 4 * units, 'bitmap');
      const layer = new HmfLSTM({
        units,
        returnSequences: true,
        inputShape: [steps, n],
        kernelSparse: { format: 'csr', nnz: kp.values.length, kernel: choice },
        recurrentKernelSparse: { format: 'bitmap', nnz: rp.values.length, kernel: choice },
      });
      const model = tf.sequential({ layers: [layer] });
      const values: Record<string, tf.Tensor> = { bias: tf.tensor1d(bias) };
      for (const [p, v] of Object.entries(kp)) values[`kernel_${p}`] = v instanceof Int32Array ? tf.tensor1d(v, 'int32') : tf.tensor1d(v);
      for (const [p, v] of Object.entries(rp)) values[`recurrent_kernel_${p}`] = v instanceof Int32Array ? tf.tensor1d(v, 'int32') : tf.tensor1d(v);
      model.setWeights(model.weights.map((w) => values[w.originalName.split('/').pop() as string]));
      for (const batch of [1, 9]) {
        const x = tf.randomNormal([batch, steps, n], 0, 1, 'float32', batch);
        const d = maxAbsDiff((model.predict(x) as tf.Tensor).dataSync(), (stock.predict(x) as tf.Tensor).dataSync());
        assert.ok(d < 1e-5, `${choice} batch ${batch}: ${d}`);
      }
      model.dispose();
    }
    stock.dispose();
  });
});
