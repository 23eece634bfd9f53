import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { selectColumns } from '../../src/linalg/matrix.js';
import { exactSvd, sketchSvd } from '../../src/linalg/svd.js';
import { HybridEstimator, largestIndices } from '../../src/methods/estimate.js';
import { gaussian, spectral } from '../linalg/matrices.js';

before(async () => {
  await initBackend();
});

/** Optimal ||K_R - rank r||^2 / ||K||^2 by exact SVD of K_R. */
function optimal2(k: ReturnType<typeof gaussian>, dense: Int32Array, rank: number): number {
  const isDense = new Set(dense);
  const rest = Array.from({ length: k.cols }, (_, j) => j).filter((j) => !isDense.has(j));
  const s = exactSvd(selectColumns(k, rest)).s;
  let tail = 0;
  for (let i = rank; i < s.length; i++) tail += s[i] * s[i];
  const total = k.data.reduce((a, x) => a + x * x, 0);
  return tail / total;
}

describe('HybridEstimator', () => {
  it('is exact with a full SVD of K (the subspace holds every column)', () => {
    const k = spectral(40, 60, 1, (i) => 0.9 ** i);
    const est = new HybridEstimator(k, exactSvd(k));
    for (const [count, rank] of [
      [0, 5],
      [7, 4],
      [35, 3],
    ]) {
      for (const selection of ['leading', 'residual'] as const) {
        const dense = est.denseSet(count, rank, selection);
        assert.equal(dense.length, count);
        assert.ok(Math.abs(est.relativeError2(dense, rank) - optimal2(k, dense, rank)) < 1e-5);
      }
    }
  });

  it('never under-estimates with a truncated (randomized) SVD', () => {
    const k = spectral(200, 160, 2, (i) => 1 / Math.sqrt(i + 1));
    const est = new HybridEstimator(k, sketchSvd(k, 20, { seed: 1, method: 'randomized' }));
    for (const [count, rank] of [
      [0, 20],
      [10, 15],
      [60, 8],
      [120, 5],
    ]) {
      const dense = est.denseSet(count, rank, 'residual');
      assert.ok(est.relativeError2(dense, rank) >= optimal2(k, dense, rank) - 1e-6);
    }
  });

  it('residual picks the outputs a rank-r approximation serves worst', () => {
    const k = gaussian(30, 40, 3);
    for (const j of [5, 22, 31]) for (let i = 0; i < 30; i++) k.data[i * 40 + j] *= 20;
    const est = new HybridEstimator(k, exactSvd(k));
    // at rank 0 nothing is served: the largest columns are the worst served
    assert.deepEqual(Array.from(est.denseSet(3, 0, 'residual')), [5, 22, 31]);
    assert.deepEqual(Array.from(est.denseSet(3, 4, 'leading')), [0, 1, 2]);
  });
});

describe('largestIndices', () => {
  const reference = (values: Float64Array, count: number): number[] =>
    Array.from({ length: values.length }, (_, j) => j)
      .sort((a, b) => values[b] - values[a] || a - b)
      .slice(0, Math.max(0, count))
      .sort((a, b) => a - b);

  it('equals the first count of a sort by value descending then index, ties and all', () => {
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
    for (let trial = 0; trial < 200; trial++) {
      const m = 1 + Math.floor(next() * 60);
      // Few distinct values, so ties straddle the cut; some -0 and +0 too.
      const values = Float64Array.from({ length: m }, () => (next() < 0.1 ? -0 : Math.floor(next() * 6) - 2));
      for (const count of [0, 1, Math.floor(m / 2), m - 1, m, m + 3]) {
        assert.deepEqual(Array.from(largestIndices(values, count)), reference(values, count), `m ${m} count ${count}`);
      }
    }
  });
});

