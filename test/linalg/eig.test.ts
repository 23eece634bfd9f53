import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { symmetricEigen, symmetricEigenvalues } from '../../src/linalg/eig.js';
import { gaussianArray } from '../../src/linalg/random.js';

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (const v of x) m = Math.max(m, Math.abs(v));
  return m;
}

/** Checks the symmetricEigen contract on `a` and returns the figures. */
function checkEigen(a: Float64Array, n: number): { residual: number; orthogonality: number; valueGap: number } {
  const input = a.slice();
  const { values, vectors } = symmetricEigen(a, n);
  assert.deepEqual(a, input, 'input left unchanged');
  assert.equal(values.length, n);
  assert.equal(vectors.length, n * n);
  for (let i = 1; i < n; i++) assert.ok(values[i - 1] >= values[i], `values descending at ${i}`);
  const scale = maxAbs(a) || 1;
  const reference = symmetricEigenvalues(a.slice(), n);
  let valueGap = 0;
  for (let i = 0; i < n; i++) valueGap = Math.max(valueGap, Math.abs(values[i] - reference[i]) / scale);
  let residual = 0;
  const av = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    av.fill(0);
    for (let i = 0; i < n; i++) {
      const x = vectors[i * n + k];
      for (let j = 0; j < n; j++) av[j] += a[j * n + i] * x;
    }
    for (let i = 0; i < n; i++) residual = Math.max(residual, Math.abs(av[i] - values[k] * vectors[i * n + k]) / scale);
  }
  let orthogonality = 0;
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let k = 0; k < n; k++) {
      const x = vectors[row + k];
      for (let l = 0; l < n; l++) gram[k * n + l] += x * vectors[row + l];
    }
  }
  for (let k = 0; k < n; k++) for (let l = 0; l < n; l++) orthogonality = Math.max(orthogonality, Math.abs(gram[k * n + l] - (k === l ? 1 : 0)));
  assert.ok(valueGap < 1e-10, `values vs symmetricEigenvalues: ${valueGap}`);
  assert.ok(residual < 1e-10, `||AV - V diag(values)||_max / ||A||_max = ${residual}`);
  assert.ok(orthogonality < 1e-12, `||V^T V - I||_max = ${orthogonality}`);
  return { residual, orthogonality, valueGap };
}

/** X^T X for a k x n Gaussian X: PSD of rank min(k, n). */
function gramOf(k: number, n: number, seed: number): Float64Array {
  const x = gaussianArray(k * n, seed);
  const g = new Float64Array(n * n);
  for (let t = 0; t < k; t++) {
    for (let i = 0; i < n; i++) {
      const xi = x[t * n + i];
      for (let j = 0; j < n; j++) g[i * n + j] += xi * x[t * n + j];
    }
  }
  return g;
}

/** H diag(spectrum) H with H = I - 2 u u^T / u^T u for a Gaussian u: exactly the given eigenvalues, dense. */
function withSpectrum(spectrum: number[], seed: number): Float64Array {
  const n = spectrum.length;
  const u = Float64Array.from(gaussianArray(n, seed));
  const uu = u.reduce((s, x) => s + x * x, 0);
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = (i === j ? 1 : 0) - (2 * u[i] * u[j]) / uu;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += h[i * n + t] * spectrum[t] * h[t * n + j];
      a[i * n + j] = s;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

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

  it('converges on a rank-deficient Gram (eigenvalues at rounding level)', () => {
    const n = 163;
    const g = gramOf(40, n, 5);
    const values = symmetricEigenvalues(g.slice(), n);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += g[i * n + i];
    assert.ok(Math.abs(values.reduce((x, y) => x + y, 0) - trace) < 1e-10 * trace);
    for (let i = 40; i < n; i++) assert.ok(Math.abs(values[i]) < 1e-12 * values[0]);
  });

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
  for (const n of [1, 2, 5, 64, 163, 320]) {
    it(`decomposes a random ${n}x${n} symmetric matrix`, () => {
      checkEigen(randomSymmetric(n, 100 + n), n);
    });
  }

  it('returns the empty decomposition for n = 0 and rejects a wrong length', () => {
    assert.deepEqual(symmetricEigen(new Float64Array(0), 0), { values: new Float64Array(0), vectors: new Float64Array(0) });
    assert.throws(() => symmetricEigen(new Float64Array(5), 2), RangeError);
  });

  it('decomposes a diagonal matrix into sorted values and unit vectors', () => {
    const diagonal = [0.5, -3, 7, 0, 2, 2];
    const n = diagonal.length;
    const a = new Float64Array(n * n);
    diagonal.forEach((x, i) => (a[i * n + i] = x));
    checkEigen(a, n);
    const { values, vectors } = symmetricEigen(a, n);
    assert.deepEqual(Array.from(values), [7, 2, 2, 0.5, 0, -3]);
    for (let k = 0; k < n; k++) {
      let ones = 0;
      for (let i = 0; i < n; i++) if (Math.abs(Math.abs(vectors[i * n + k]) - 1) < 1e-15) ones++;
      assert.equal(ones, 1, `column ${k} is a signed unit vector`);
    }
  });

  it('finds repeated eigenvalues with an orthonormal basis of each eigenspace', () => {
    const spectrum = [3, 3, 3, 3, 1, 1, -2, -2, -2, 0, 0, 0, 0, 0, 5, 0.25, 0.25, 3, 1, -2];
    const a = withSpectrum(spectrum, 7);
    checkEigen(a, spectrum.length);
    const { values } = symmetricEigen(a, spectrum.length);
    const expected = spectrum.slice().sort((x, y) => y - x);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(values[i] - expected[i]) < 1e-12, `value ${i}: ${values[i]} vs ${expected[i]}`);
  });

  for (const [k, n] of [
    [30, 100],
    [40, 163],
  ]) {
    it(`decomposes a rank-${k} PSD Gram X^T X of size ${n}`, () => {
      const g = gramOf(k, n, k + n);
      checkEigen(g, n);
      const { values } = symmetricEigen(g, n);
      const scale = values[0];
      assert.ok(values[k - 1] > 1e-6 * scale, 'rank k part is clearly positive');
      for (let i = k; i < n; i++) assert.ok(Math.abs(values[i]) < 1e-12 * scale, `value ${i} is zero to rounding: ${values[i]}`);
    });
  }

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
