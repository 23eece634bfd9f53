import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { exactSvd, truncatedSvd } from '../../src/linalg/svd.js';
import { lmf, lmfRank } from '../../src/methods/lmf.js';
import { gaussian, multiply, optimalError, relativeDifference, spectral } from '../linalg/matrices.js';

before(async () => {
  await initBackend();
});

describe('lmfRank', () => {
  it('is floor(B / (n + m)), or 0 when r < 1 or r(n + m) >= n m', () => {
    assert.equal(lmfRank(100, 60, 4000), 25);
    assert.equal(lmfRank(100, 60, 159), 0);
    assert.equal(lmfRank(100, 60, 160), 1);
    // 2x2 at budget 4: r = 1 costs 4 = n m, not worth it
    assert.equal(lmfRank(2, 2, 4), 0);
    assert.equal(lmfRank(1, 1000, 500), 0);
    assert.throws(() => lmfRank(10, 10, 2.5), RangeError);
    assert.throws(() => lmfRank(10, 10, -1), RangeError);
  });
});

describe('lmf', () => {
  for (const [n, m, budget] of [
    [40, 30, 600],
    [30, 50, 400],
    [64, 20, 252],
  ]) {
    it(`${n}x${m} at budget ${budget}: the optimal rank-r error, reconstructing to it`, () => {
      const k = gaussian(n, m, n + m);
      const f = lmf(k, budget, { seed: 1 });
      assert.ok(f);
      const r = Math.floor(budget / (n + m));
      assert.equal(f.rank, r);
      assert.equal(f.params, r * (n + m));
      assert.ok(f.params <= budget);
      assert.deepEqual([f.p.rows, f.p.cols, f.q.rows, f.q.cols], [n, r, r, m]);
      const expected = optimalError(exactSvd(k).s, r);
      assert.ok(Math.abs(f.error - expected) < 1e-5, `${f.error} vs ${expected}`);
      assert.ok(Math.abs(relativeDifference(k, multiply(f.p, f.q)) - f.error) < 1e-5);
    });
  }

  it('is within 1% of the optimal error on a 300x200 matrix (randomized SVD)', () => {
    const k = spectral(300, 200, 2, (i) => 1 / Math.sqrt(i + 1));
    const f = lmf(k, 12_000, { seed: 3 });
    assert.ok(f);
    assert.equal(f.rank, 24);
    const opt = optimalError(exactSvd(k).s, 24);
    assert.ok(f.error <= opt * 1.01 && f.error >= opt * (1 - 1e-5));
  });

  it('uses a given SVD (truncating it) and rejects one with too few components', () => {
    const k = gaussian(30, 20, 4);
    const svd = exactSvd(k);
    const given = lmf(k, 250, { seed: 1 }, svd);
    const own = lmf(k, 250, { seed: 1 });
    assert.ok(given && own);
    assert.equal(given.rank, 5);
    assert.ok(Math.abs(given.error - own.error) < 1e-6);
    assert.throws(() => lmf(k, 250, { seed: 1 }, truncatedSvd(k, 3, { seed: 1 })), RangeError);
  });

  it('returns null when the factor cannot be reached', () => {
    const k = gaussian(30, 20, 5);
    assert.equal(lmf(k, 49, { seed: 1 }), null);
    assert.equal(lmf(gaussian(1, 200, 1), 100, { seed: 1 }), null);
    assert.equal(lmf(gaussian(2, 2, 1), 4, { seed: 1 }), null);
  });

  it('reports error 0 for a zero matrix', () => {
    const f = lmf({ rows: 200, cols: 150, data: new Float32Array(30_000) }, 3500, { seed: 1 });
    assert.ok(f);
    assert.equal(f.error, 0);
  });
});
