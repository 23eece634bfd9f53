import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { gaussianArray, mulberry32 } from '../../src/linalg/random.js';
import { hmf, hybridRank } from '../../src/methods/hmf.js';
import { lmf } from '../../src/methods/lmf.js';
import type { HybridFactors, OutputSelection } from '../../src/methods/types.js';
import { gaussian, multiply, relativeDifference, spectral } from '../linalg/matrices.js';

before(async () => {
  await initBackend();
});

/** K' assembled from the factors, in the original output order. */
function assemble(f: HybridFactors, n: number, m: number): Matrix {
  const out = new Float32Array(n * m);
  const lowRank = f.rank > 0 ? multiply(f.p, f.q) : null;
  for (let i = 0; i < n; i++) {
    f.denseOutputs.forEach((j, t) => (out[i * m + j] = f.dense.data[i * f.k + t]));
    if (lowRank) f.lowRankOutputs.forEach((j, t) => (out[i * m + j] = lowRank.data[i * lowRank.cols + t]));
  }
  return { rows: n, cols: m, data: out };
}

function checkStructure(f: HybridFactors, n: number, m: number, budget: number): void {
  assert.equal(f.params, f.k * n + f.rank * (n + m - f.k));
  assert.ok(f.params <= budget, `params ${f.params} > budget ${budget}`);
  assert.ok(f.rank >= 1);
  assert.equal(f.denseOutputs.length, f.k);
  assert.equal(f.denseOutputs.length + f.lowRankOutputs.length, m);
  const all = [...f.denseOutputs, ...f.lowRankOutputs].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: m }, (_, j) => j));
  for (const list of [f.denseOutputs, f.lowRankOutputs]) for (let i = 1; i < list.length; i++) assert.ok(list[i - 1] < list[i]);
  assert.deepEqual([f.dense.rows, f.dense.cols, f.p.rows, f.p.cols, f.q.rows, f.q.cols], [n, f.k, n, f.rank, f.rank, m - f.k]);
}

/** Gaussian matrix whose columns have random scales (some outputs much larger than others). */
function unevenColumns(n: number, m: number, seed: number): Matrix {
  const k = spectral(n, m, seed, (i) => 0.9 ** i);
  const next = mulberry32(seed);
  const scales = Array.from({ length: m }, () => (next() < 0.1 ? 8 : 1));
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) k.data[i * m + j] *= scales[j];
  return k;
}

/** Outputs `noisy` are large Gaussian noise, the others a rank-3 matrix. */
function noisyOutputs(n: number, m: number, noisy: number[], seed: number): Matrix {
  const k = multiply(gaussian(n, 3, seed), gaussian(3, m, seed + 1));
  const noise = gaussianArray(n * m, seed + 2);
  for (const j of noisy) for (let i = 0; i < n; i++) k.data[i * m + j] = 10 * noise[i * m + j];
  return k;
}

describe('hybridRank', () => {
  it('is floor((B - k n) / (n + m - k)) and decreases with k', () => {
    assert.equal(hybridRank(100, 60, 4000, 0), 25);
    assert.equal(hybridRank(100, 60, 4000, 10), Math.floor(3000 / 150));
    assert.equal(hybridRank(100, 60, 4000, 39), Math.floor(100 / 121) || 0);
    assert.equal(hybridRank(100, 60, 4000, 60), 0);
  });
});

describe('hmf', () => {
  const shapes: [number, number, number][] = [
    [40, 30, 1],
    [30, 50, 2],
    [120, 90, 3],
    [60, 300, 4],
    [300, 60, 5],
    [200, 150, 6],
  ];
  for (const selection of ['leading', 'residual'] as OutputSelection[]) {
    for (const [n, m, seed] of shapes) {
      for (const factor of [2, 3.5, 8]) {
        it(`${selection}, ${n}x${m}, factor ${factor}: error <= LMF's, within budget, reconstructs to the reported error`, () => {
          const k = seed % 2 ? unevenColumns(n, m, seed) : gaussian(n, m, seed);
          const budget = Math.floor((n * m) / factor);
          const h = hmf(k, budget, { seed: 9, selection });
          const l = lmf(k, budget, { seed: 9 });
          assert.ok(h && l);
          checkStructure(h, n, m, budget);
          assert.ok(h.error <= l.error, `hmf ${h.error} > lmf ${l.error} (k=${h.k}, r=${h.rank})`);
          assert.ok(Math.abs(relativeDifference(k, assemble(h, n, m)) - h.error) < 1e-5);
        });
      }
    }
  }

  it('uneven columns: HMF keeps some outputs dense and is strictly better than LMF', () => {
    const k = unevenColumns(120, 90, 3);
    const budget = Math.floor((120 * 90) / 4);
    const h = hmf(k, budget, { seed: 1, selection: 'residual' });
    const l = lmf(k, budget, { seed: 1 });
    assert.ok(h && l);
    assert.ok(h.k > 0);
    assert.ok(h.error < l.error, `hmf ${h.error} vs lmf ${l.error}`);
  });

  it('leading: dense noisy first outputs, low-rank rest, is far better than LMF', () => {
    const [n, m] = [120, 200];
    const noisy = Array.from({ length: 10 }, (_, j) => j);
    const k = noisyOutputs(n, m, noisy, 1);
    // k = 10 dense (1200) + rank 3 on the rest (3 * 310 = 930) fits; LMF gets rank 6.
    const budget = 2200;
    const h = hmf(k, budget, { seed: 1, selection: 'leading' });
    const l = lmf(k, budget, { seed: 1 });
    assert.ok(h && l);
    assert.equal(h.k, 10);
    assert.deepEqual(Array.from(h.denseOutputs), noisy);
    assert.equal(h.rank, 3);
    assert.ok(h.error < 1e-3 && l.error > 0.3, `hmf ${h.error} vs lmf ${l.error}`);
  });

  it('residual: finds noisy outputs anywhere, where leading cannot', () => {
    const [n, m] = [120, 200];
    const noisy = [3, 17, 40, 41, 77, 100, 130, 150, 180, 199];
    const k = noisyOutputs(n, m, noisy, 2);
    const residual = hmf(k, 2200, { seed: 1, selection: 'residual' });
    const leading = hmf(k, 2200, { seed: 1, selection: 'leading' });
    assert.ok(residual && leading);
    assert.deepEqual(Array.from(residual.denseOutputs), noisy);
    assert.ok(residual.error < 1e-3 && leading.error > 0.3, `residual ${residual.error} vs leading ${leading.error}`);
  });

  it('is deterministic for a seed', () => {
    const k = unevenColumns(200, 150, 7);
    const a = hmf(k, 7000, { seed: 3, selection: 'residual' });
    const b = hmf(k, 7000, { seed: 3, selection: 'residual' });
    assert.ok(a && b);
    assert.deepEqual([a.k, a.rank, a.error], [b.k, b.rank, b.error]);
    assert.deepEqual(a.p.data, b.p.data);
    assert.deepEqual(a.q.data, b.q.data);
  });

  it('returns null when r < 1 even at k = 0, and at factor <= 1', () => {
    const k = gaussian(30, 20, 5);
    assert.equal(hmf(k, 49, { seed: 1, selection: 'leading' }), null);
    assert.equal(hmf(k, 600, { seed: 1, selection: 'leading' }), null);
    assert.equal(hmf(k, 5000, { seed: 1, selection: 'residual' }), null);
    assert.equal(hmf(gaussian(1, 300, 1), 150, { seed: 1, selection: 'residual' }), null);
    assert.equal(hmf(gaussian(300, 1, 1), 150, { seed: 1, selection: 'residual' }), null);
    assert.throws(() => hmf(k, 1.5, { seed: 1, selection: 'leading' }), RangeError);
  });

  it('tiny shapes stay valid', () => {
    const k = gaussian(3, 4, 1);
    const h = hmf(k, 11, { seed: 1, selection: 'residual' });
    assert.ok(h);
    checkStructure(h, 3, 4, 11);
  });
});
