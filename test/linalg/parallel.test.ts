import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { parallelReady, remoteBlockCount, setParallel, SplitProducts, SPLIT_MIN_ENTRIES } from '../../src/linalg/parallel.js';
import { truncatedSvd } from '../../src/linalg/svd.js';
import { gaussian, multiply } from './matrices.js';

before(async () => {
  await initBackend();
});

after(() => {
  setParallel(true);
});

const bitEqual = (x: ArrayLike<number>, y: ArrayLike<number>): boolean => x.length === y.length && Array.from(x).every((v, i) => Object.is(v, y[i]));

describe('SplitProducts', () => {
  // Just above the split threshold, with odd sizes so the blocks are uneven.
  const rows = 1025;
  const cols = 1031;
  const a = gaussian(rows, cols, 11);
  const x = gaussian(cols, 7, 12);
  const y = gaussian(rows, 7, 13);

  it('splits only large matrices and computes W X and W^T X with the scale applied', () => {
    assert.ok(rows * cols >= SPLIT_MIN_ENTRIES);
    const p = new SplitProducts(a.data, rows, cols, 0.5, 7);
    try {
      const want = multiply(a, x);
      const got = p.mulW(x.data, 7);
      for (let i = 0; i < want.data.length; i += 97) assert.ok(Math.abs(got[i] - want.data[i] / 2) < 1e-3, `entry ${i}`);
      const at = { rows: cols, cols: rows, data: new Float32Array(rows * cols) };
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) at.data[j * rows + i] = a.data[i * cols + j];
      const wantT = multiply(at, y);
      const gotT = p.mulWt(y.data, 7);
      for (let i = 0; i < wantT.data.length; i += 97) assert.ok(Math.abs(gotT[i] - wantT.data[i] / 2) < 1e-3, `entry ${i}`);
      assert.throws(() => p.mulW(y.data.subarray(0, 10), 7), RangeError);
    } finally {
      p.dispose();
    }
  });

  it('gives bit-identical results with and without the worker thread', async () => {
    setParallel(false);
    const local = new SplitProducts(a.data, rows, cols, 1, 7);
    const l1 = local.mulW(x.data, 7);
    const l2 = local.mulWt(y.data, 7);
    local.dispose();
    const svdLocal = truncatedSvd(a, 20, { seed: 3, method: 'randomized', powerIterations: 1 });
    const gramLocal = truncatedSvd(a, 20, { seed: 3, method: 'gram', powerIterations: 1 });

    setParallel(true);
    assert.ok(await parallelReady(), 'the worker should start with the wasm backend');
    const remote = new SplitProducts(a.data, rows, cols, 1, 7);
    assert.ok(await remote.remoteLoaded());
    const before = remoteBlockCount();
    const r1 = remote.mulW(x.data, 7);
    const r2 = remote.mulWt(y.data, 7);
    remote.dispose();
    assert.equal(remoteBlockCount() - before, 2, 'both second blocks should come from the worker');
    assert.ok(bitEqual(l1, r1));
    assert.ok(bitEqual(l2, r2));
    // Whichever products the worker takes (it starts on a matrix once it has loaded it), the SVD is the same.
    const svdRemote = truncatedSvd(a, 20, { seed: 3, method: 'randomized', powerIterations: 1 });
    assert.ok(bitEqual(svdLocal.s, svdRemote.s) && bitEqual(svdLocal.u.data, svdRemote.u.data) && bitEqual(svdLocal.v.data, svdRemote.v.data));
    // The Gram route's W W^T (1025 x 1025 from two row blocks) is split the same way.
    const gramRemote = truncatedSvd(a, 20, { seed: 3, method: 'gram', powerIterations: 1 });
    assert.ok(bitEqual(gramLocal.s, gramRemote.s) && bitEqual(gramLocal.u.data, gramRemote.u.data) && bitEqual(gramLocal.v.data, gramRemote.v.data));
  });
});
