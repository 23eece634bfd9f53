import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Matrix } from '../../src/linalg/matrix.js';
import { pruneGlobal, pruneLayer } from '../../src/methods/prune.js';
import type { PrunedMatrix } from '../../src/methods/types.js';
import { gaussian, relativeDifference } from '../linalg/matrices.js';

function nonZeros(m: Matrix): number {
  return m.data.reduce((c, x) => c + (x !== 0 ? 1 : 0), 0);
}

/** Smallest |w| kept and largest |w| dropped over all matrices. */
function keptDroppedBounds(ks: Matrix[], results: PrunedMatrix[]): { minKept: number; maxDropped: number } {
  let minKept = Infinity;
  let maxDropped = 0;
  ks.forEach((k, t) => {
    k.data.forEach((w, i) => {
      const kept = results[t].pruned.data[i];
      if (kept !== 0) {
        assert.equal(kept, w);
        minKept = Math.min(minKept, Math.abs(w));
      } else maxDropped = Math.max(maxDropped, Math.abs(w));
    });
  });
  return { minKept, maxDropped };
}

describe('pruneLayer', () => {
  it('keeps exactly the budget largest magnitudes, unchanged', () => {
    const k = gaussian(64, 48, 1);
    for (const budget of [0, 1, 100, 1536, 3071, 3072]) {
      const p = pruneLayer(k, budget);
      assert.equal(p.params, budget);
      assert.equal(nonZeros(p.pruned), budget);
      const { minKept, maxDropped } = keptDroppedBounds([k], [p]);
      assert.ok(budget === 0 || minKept >= maxDropped);
      assert.ok(Math.abs(p.error - relativeDifference(k, p.pruned)) < 1e-6);
    }
    assert.equal(pruneLayer(k, 0).error, 1);
    assert.equal(pruneLayer(k, 3072).error, 0);
  });

  it('breaks ties by lower index', () => {
    const k = { rows: 2, cols: 3, data: Float32Array.from([1, -2, 2, 2, -2, 0.5]) };
    assert.deepEqual(Array.from(pruneLayer(k, 2).pruned.data), [0, -2, 2, 0, 0, 0]);
    assert.deepEqual(Array.from(pruneLayer(k, 4).pruned.data), [0, -2, 2, 2, -2, 0]);
  });

  it('never counts zeros: fewer non-zeros than the budget keeps them all, params = non-zeros', () => {
    const k = { rows: 2, cols: 4, data: Float32Array.from([0, 3, 0, -1, 0, 0, 2, 0]) };
    const p = pruneLayer(k, 5);
    assert.equal(p.params, 3);
    assert.deepEqual(p.pruned.data, k.data);
    assert.equal(p.error, 0);
    const two = pruneLayer(k, 2);
    assert.equal(two.params, 2);
    assert.deepEqual(Array.from(two.pruned.data), [0, 3, 0, 0, 0, 0, 2, 0]);
  });

  it('handles an all-zero matrix', () => {
    const p = pruneLayer({ rows: 3, cols: 3, data: new Float32Array(9) }, 4);
    assert.equal(p.params, 0);
    assert.equal(p.error, 0);
  });

  it('rejects a bad budget', () => {
    assert.throws(() => pruneLayer(gaussian(2, 2, 1), -1), RangeError);
    assert.throws(() => pruneLayer(gaussian(2, 2, 1), 1.5), RangeError);
  });
});

describe('pruneGlobal', () => {
  it('keeps exactly the total budget across matrices, by one global threshold', () => {
    const ks = [gaussian(40, 30, 1), gaussian(20, 50, 2, 3), gaussian(10, 10, 3, 0.1)];
    // 2300 entries in all: a larger budget keeps everything
    for (const budget of [0, 1, 777, 2000, 2299, 3100]) {
      const results = pruneGlobal(ks, budget);
      assert.equal(results.length, 3);
      results.forEach((r, t) => {
        assert.equal(r.params, nonZeros(r.pruned));
        assert.deepEqual([r.pruned.rows, r.pruned.cols], [ks[t].rows, ks[t].cols]);
      });
      assert.equal(
        results.reduce((s, r) => s + r.params, 0),
        Math.min(budget, 2300),
      );
      const { minKept, maxDropped } = keptDroppedBounds(ks, results);
      assert.ok(budget === 0 || minKept >= maxDropped);
    }
    // the large-scale matrix gets most of a small budget
    const small = pruneGlobal(ks, 500);
    assert.ok(small[1].params > small[0].params && small[2].params === 0);
  });

  it('breaks ties by matrix order, then index', () => {
    const a = { rows: 1, cols: 3, data: Float32Array.from([1, 1, 5]) };
    const b = { rows: 1, cols: 2, data: Float32Array.from([1, 1]) };
    const [pa, pb] = pruneGlobal([a, b], 3);
    assert.deepEqual(Array.from(pa.pruned.data), [1, 1, 5]);
    assert.deepEqual(Array.from(pb.pruned.data), [0, 0]);
    const [qa, qb] = pruneGlobal([b, a], 3);
    assert.deepEqual(Array.from(qa.pruned.data), [1, 1]);
    assert.deepEqual(Array.from(qb.pruned.data), [0, 0, 5]);
  });
});
