import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeWeights } from '../../src/io/encode.js';
import { mulberry32 } from '../../src/linalg/random.js';
import { chooseStorage, encodeSparse, sparseMatrixWeights, storageBytes, valueBytes } from '../../src/model/sparseEncode.js';
import type { Weight } from '../../src/io/index.js';

function matrix(rows: number, cols: number, density: number, seed: number): Float32Array {
  const u = mulberry32(seed);
  return Float32Array.from({ length: rows * cols }, () => (u() < density ? u() - 0.5 : 0));
}

describe('compact storage sizes', () => {
  test('storageBytes is what the encoded weights take, for index widths uint8, uint16 and int32', () => {
    for (const [rows, cols, density] of [[300, 200, 0.25], [40, 256, 0.1], [20, 257, 0.5], [3, 70000, 0.01]] as const) {
      const k = matrix(rows, cols, density, rows + cols);
      const nnz = k.filter((v) => v !== 0).length;
      const source: Weight = { name: 'd/kernel', shape: [rows, cols], dtype: 'float32', values: k };
      const sizes = storageBytes(rows, cols, nnz, valueBytes(source, 'keep'));
      for (const format of ['csr', 'bitmap'] as const) {
        const weights = sparseMatrixWeights('d', 'kernel', encodeSparse(k, rows, cols, format), cols, source);
        assert.equal(encodeWeights(weights).data.byteLength, sizes[format], `${rows}x${cols} ${format}`);
      }
      assert.equal(encodeWeights([source]).data.byteLength, sizes.dense);
    }
  });

  test('the smaller format wins; dense when neither is smaller', () => {
    // 75% zeros, 256 columns: bitmap 4*nnz + n*m/8 beats CSR 4*nnz + nnz (uint8 columns) + 2 n (uint16 counts).
    assert.equal(chooseStorage(2000, 256, 128000, 4).format, 'bitmap');
    // 99% zeros: CSR.
    assert.equal(chooseStorage(2000, 256, 5120, 4).format, 'csr');
    // Hardly any zeros: dense.
    assert.equal(chooseStorage(100, 100, 9990, 4).format, 'dense');
    // uint8-quantized values: the mask costs as much as an eighth of the values, so density matters more.
    assert.equal(chooseStorage(100, 100, 9000, 1).format, 'dense');
  });
});
