import assert from 'node:assert/strict';
import { test } from 'node:test';
import { symmetricEigenvalues } from '../../src/linalg/eig.js';
import { eigenHelperOnline, eigenvaluesOfEach, lastBatchHelperJobs, startEigenHelper } from '../../src/linalg/eigenHelper.js';
import { gaussianArray } from '../../src/linalg/random.js';

function symmetric(n: number, seed: number): Float64Array {
  const g = gaussianArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
  return a;
}

test('eigenvaluesOfEach without the helper thread: each symmetricEigenvalues, bit for bit', () => {
  const mats = [0, 1, 2].map((s) => symmetric(30, s));
  const expected = mats.map((m) => symmetricEigenvalues(m.slice(), 30));
  assert.deepEqual(eigenvaluesOfEach(mats, 30), expected);
  assert.equal(lastBatchHelperJobs(), 0);
});

test('eigenvaluesOfEach shares a batch with the helper thread and gives the same bits', async () => {
  startEigenHelper();
  assert.equal(await eigenHelperOnline(), true);
  const n = 120;
  let shared = 0;
  // The helper takes jobs once its message arrives: a batch of ~2 ms jobs leaves it time to.
  for (let attempt = 0; attempt < 5 && shared === 0; attempt++) {
    const mats = Array.from({ length: 16 }, (_, j) => symmetric(n, 100 * attempt + j));
    const expected = mats.map((m) => symmetricEigenvalues(m.slice(), n));
    const got = eigenvaluesOfEach(mats, n);
    assert.equal(got.length, 16);
    got.forEach((values, j) => assert.deepEqual(values, expected[j], `job ${j}`));
    shared = lastBatchHelperJobs();
    assert.ok(shared < 16, 'the caller always takes the first job');
  }
  assert.ok(shared > 0, 'the helper thread computed none of five batches');
});

test('eigenvaluesOfEach refuses a matrix of the wrong size', () => {
  assert.throws(() => eigenvaluesOfEach([new Float64Array(9), new Float64Array(8)], 3), /3x3 needs 9 values, got 8/);
});
