import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eigenvaluesOfEach, tallyAll, TALLY_CHUNKS, TALLY_SHARED_MIN } from '../src/helper/jobs.js';
import { helperThreadOnline, lastBatchHelperJobs, startHelperThread } from '../src/helper/thread.js';
import { symmetricEigenvalues } from '../src/linalg/eig.js';
import { gaussianArray } from '../src/linalg/random.js';
import { tallyRows } from '../src/measure/tally.js';

function symmetric(n: number, seed: number): Float64Array {
  const g = gaussianArray(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = g[i * n + j] + g[j * n + i];
  return a;
}

/** Row-wise softmax of seeded normals: rows x width. */
function softmaxRows(rows: number, width: number, seed: number): Float32Array {
  const z = gaussianArray(rows * width, seed);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, z[r * width + j]);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += Math.exp(z[r * width + j] - max);
    for (let j = 0; j < width; j++) out[r * width + j] = Math.exp(z[r * width + j] - max) / sum;
  }
  return out;
}

test('eigenvaluesOfEach without the helper thread: each symmetricEigenvalues, bit for bit, inputs left as they were', () => {
  const mats = [0, 1, 2].map((s) => symmetric(30, s));
  const copies = mats.map((m) => m.slice());
  const expected = mats.map((m) => symmetricEigenvalues(m.slice(), 30));
  assert.deepEqual(eigenvaluesOfEach(mats, 30), expected);
  assert.deepEqual(mats, copies);
  assert.equal(lastBatchHelperJobs(), 0);
});

test('the helper thread shares batches and gives the same bits (eigenvalues, tally)', async () => {
  // Parts computed without the helper, before it starts: the reference.
  const rows = 640;
  const width = 2000;
  assert.ok(rows * width >= TALLY_SHARED_MIN);
  const x = softmaxRows(rows, width, 1);
  const y = softmaxRows(rows, width, 2);
  const alone = tallyAll(x, y, width);
  assert.equal(alone.length, TALLY_CHUNKS);
  assert.equal(lastBatchHelperJobs(), 0);

  startHelperThread();
  assert.equal(await helperThreadOnline(), true);
  const n = 120;
  let sharedEigen = 0;
  // The helper takes jobs once its message arrives: a batch of ~2 ms jobs leaves it time to.
  for (let attempt = 0; attempt < 5 && sharedEigen === 0; attempt++) {
    const mats = Array.from({ length: 16 }, (_, j) => symmetric(n, 100 * attempt + j));
    const expected = mats.map((m) => symmetricEigenvalues(m.slice(), n));
    const got = eigenvaluesOfEach(mats, n);
    got.forEach((values, j) => assert.deepEqual(values, expected[j], `job ${j}`));
    sharedEigen = lastBatchHelperJobs();
    assert.ok(sharedEigen < 16, 'the caller always takes the first job');
  }
  assert.ok(sharedEigen > 0, 'the helper thread computed none of five eigenvalue batches');

  let sharedTally = 0;
  for (let attempt = 0; attempt < 5 && sharedTally === 0; attempt++) {
    assert.deepEqual(tallyAll(x, y, width), alone);
    sharedTally = lastBatchHelperJobs();
  }
  assert.ok(sharedTally > 0, 'the helper thread computed none of five tally batches');
});

test('tallyAll: the parts add up to the sums over all rows', () => {
  const rows = 600;
  const width = 1800;
  const x = softmaxRows(rows, width, 3);
  const y = softmaxRows(rows, width, 4);
  const parts = tallyAll(x, y, width);
  const whole = tallyRows(x, y, width, 0, rows);
  const sum = (key: 'diff' | 'norm' | 'rows' | 'agree' | 'kl') => parts.reduce((s, p) => s + p[key], 0);
  assert.equal(sum('rows'), rows);
  assert.equal(sum('agree'), whole.agree);
  for (const key of ['diff', 'norm', 'kl'] as const) assert.ok(Math.abs(sum(key) - whole[key]) <= 1e-12 * whole[key], key);
  assert.ok(parts.every((p) => p.distribution));
  // One row that is not a distribution flags its part.
  x[(rows - 1) * width] = -0.5;
  assert.deepEqual(tallyAll(x, y, width).map((p) => p.distribution), [true, true, true, true, true, true, true, false]);
});

test('tallyRows: agreement, KL and the distribution check on a small hand-made case', () => {
  const x = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]);
  const y = Float32Array.from([0.6, 0.3, 0.1, 0.5, 0.4, 0.1]);
  const part = tallyRows(x, y, 3, 0, 2);
  assert.equal(part.rows, 2);
  assert.equal(part.agree, 1);
  const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + pi * Math.log(pi / q[i]), 0);
  const f = (a: Float32Array, i: number) => Array.from(a.subarray(i, i + 3));
  assert.ok(Math.abs(part.kl - (kl(f(x, 0), f(y, 0)) + kl(f(x, 3), f(y, 3)))) < 1e-12);
  assert.equal(part.distribution, true);
  assert.equal(tallyRows(Float32Array.from([0.5, 0.4, 0.0]), Float32Array.from([0.5, 0.4, 0.1]), 3, 0, 1).distribution, false);
});

test('eigenvaluesOfEach refuses a matrix of the wrong size', () => {
  assert.throws(() => eigenvaluesOfEach([new Float64Array(9), new Float64Array(8)], 3), /3x3 needs 9 values, got 8/);
});
