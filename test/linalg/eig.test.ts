import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { symmetricEigen, symmetricEigenvalues } from '../../src/linalg/eig.js';
import { gaussianArray } from '../../src/linalg/random.js';

function randomSymmetric(n: number, seed: number): Float64Array {
  const g = gaussianArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
  return a;
}

describe('symmetricEigenvalues', () => {
  for (const n of [1, 2, 3, 17, 60]) {
    it(`matches the eigenvector solver on a random ${n}x${n} symmetric matrix`, () => {
      const a = randomSymmetric(n, n);
      const values = symmetricEigenvalues(a.slice(), n);
      const full = symmetricEigen(a.slice(), n);
      let trace = 0;
      for (let i = 0; i < n; i++) trace += a[i * n + i];
      const sum = values.reduce((x, y) => x + y, 0);
      assert.ok(Math.abs(sum - trace) < 1e-9 * (1 + Math.abs(trace)));
      for (let i = 0; i < n; i++) assert.ok(Math.abs(values[i] - full.values[i]) < 1e-9, `value ${i}`);
      for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i]);
    });
  }

  it('handles a diagonal matrix and a rank-one matrix', () => {
    assert.deepEqual(Array.from(symmetricEigenvalues(Float64Array.from([1, 0, 0, 0, 3, 0, 0, 0, 2]), 3)), [3, 2, 1]);
    const v = [1, 2, 3, 4];
    const r1 = new Float64Array(16);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) r1[i * 4 + j] = v[i] * v[j];
    const values = symmetricEigenvalues(r1, 4);
    assert.ok(Math.abs(values[0] - 30) < 1e-12);
    for (let i = 1; i < 4; i++) assert.ok(Math.abs(values[i]) < 1e-12);
  });
});

describe('symmetricEigen', () => {
  it('returns A w_i = lambda_i w_i with orthonormal w', () => {
    const n = 12;
    const a = randomSymmetric(n, 4);
    const { values, vectors } = symmetricEigen(a.slice(), n);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let aw = 0;
        for (let j = 0; j < n; j++) aw += a[i * n + j] * vectors[j * n + k];
        assert.ok(Math.abs(aw - values[k] * vectors[i * n + k]) < 1e-9);
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
        assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-9);
      }
    }
  });
});
