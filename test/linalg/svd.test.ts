import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { exactSvd, sketchSvd, truncatedSvd, truncateSvd, type Svd } from '../../src/linalg/svd.js';
import { gaussian, optimalError, orthonormalityDefect, reconstruct, relativeDifference, spectral } from './matrices.js';

before(async () => {
  await initBackend();
});

function assertDescending(s: ArrayLike<number>): void {
  for (let i = 1; i < s.length; i++) assert.ok(s[i - 1] >= s[i], `s[${i - 1}] = ${s[i - 1]} < s[${i}] = ${s[i]}`);
}

/** `svd` has `rank` descending components, orthonormal factors, s_1 within 1% and an error within 1% of the optimum; returns the error. */
function assertNearOptimal(a: Matrix, svd: Svd, reference: Svd, rank: number): number {
  assert.equal(svd.s.length, rank);
  assertDescending(svd.s);
  const err = relativeDifference(a, reconstruct(svd.u, svd.s, svd.v));
  const opt = optimalError(reference.s, rank);
  assert.ok(err <= opt * 1.01, `error ${err} vs optimal ${opt}`);
  assert.ok(orthonormalityDefect(svd.u) < 1e-4);
  assert.ok(orthonormalityDefect(svd.v) < 1e-4);
  assert.ok(Math.abs(svd.s[0] - reference.s[0]) / reference.s[0] < 1e-2);
  return err;
}

function sameSvd(a: Svd, b: Svd): boolean {
  const eq = (x: ArrayLike<number>, y: ArrayLike<number>): boolean =>
    x.length === y.length && Array.from(x).every((v, i) => Object.is(v, y[i]));
  return eq(a.s, b.s) && eq(a.u.data, b.u.data) && eq(a.v.data, b.v.data);
}

describe('exactSvd', () => {
  for (const [rows, cols] of [
    [30, 20],
    [20, 30],
    [1, 7],
    [9, 1],
  ]) {
    it(`reconstructs a ${rows}x${cols} matrix with orthonormal factors`, () => {
      const a = gaussian(rows, cols, 11);
      const svd = exactSvd(a);
      const r = Math.min(rows, cols);
      assert.equal(svd.s.length, r);
      assert.deepEqual([svd.u.rows, svd.u.cols, svd.v.rows, svd.v.cols], [rows, r, cols, r]);
      assertDescending(svd.s);
      assert.ok(relativeDifference(a, reconstruct(svd.u, svd.s, svd.v)) < 1e-5);
      assert.ok(orthonormalityDefect(svd.u) < 1e-5);
      assert.ok(orthonormalityDefect(svd.v) < 1e-5);
    });
  }
});

const decaying = spectral(300, 200, 3, (i) => 1 / Math.sqrt(i + 1));

describe('truncatedSvd (randomized)', () => {
  const cases = [
    { name: '300x200 decaying spectrum', a: decaying },
    { name: '200x300 decaying spectrum (wide)', a: spectral(200, 300, 4, (i) => 0.97 ** i) },
    { name: '150x120 gaussian (flat spectrum)', a: gaussian(150, 120, 5) },
  ];
  for (const { name, a } of cases) {
    const reference = exactSvd(a);
    for (const rank of [5, 30, 60]) {
      it(`${name}, rank ${rank}: error within 1% of the exact truncation, orthonormal, descending`, () => {
        const svd = truncatedSvd(a, rank, { seed: 1, method: 'randomized' });
        assertNearOptimal(a, svd, reference, rank);
      });
    }
  }

  it('recovers an exactly low-rank matrix', () => {
    const a = spectral(200, 150, 8, () => 1, 5);
    const svd = truncatedSvd(a, 5, { seed: 2, method: 'randomized' });
    assert.ok(relativeDifference(a, reconstruct(svd.u, svd.s, svd.v)) < 1e-4);
  });

  it('is bit-identical for the same seed and differs for another seed', () => {
    // One power iteration: 30 x 4 sketch columns stay below the small side (200), so the sketch is random.
    const opts = { method: 'randomized' as const, powerIterations: 1 };
    const one = truncatedSvd(decaying, 20, { seed: 42, ...opts });
    const two = truncatedSvd(decaying, 20, { seed: 42, ...opts });
    const other = truncatedSvd(decaying, 20, { seed: 43, ...opts });
    assert.ok(sameSvd(one, two));
    assert.ok(!sameSvd(one, other));
  });

  it('uses the whole small side when the sketch would cost as much (seed-independent, optimal error)', () => {
    // 30 x (2 * 4 + 2) = 300 sketch columns >= 200.
    const one = sketchSvd(decaying, 20, { seed: 1, method: 'randomized' });
    const other = sketchSvd(decaying, 20, { seed: 2, method: 'randomized' });
    assert.equal(one.s.length, 200);
    assert.ok(sameSvd(one, other));
    const top = truncateSvd(one, 20);
    const opt = optimalError(exactSvd(decaying).s, 20);
    assert.ok(relativeDifference(decaying, reconstruct(top.u, top.s, top.v)) <= opt * 1.0001);
  });

  it('covers the whole small side when rank + oversample reaches it', () => {
    const a = gaussian(40, 400, 9);
    const svd = truncatedSvd(a, 35, { seed: 1, method: 'randomized' });
    const opt = optimalError(exactSvd(a).s, 35);
    assert.ok(relativeDifference(a, reconstruct(svd.u, svd.s, svd.v)) <= opt * 1.001 + 1e-6);
  });

  it('sketchSvd returns the oversampled components and truncatedSvd is its head', () => {
    const opts = { seed: 5, method: 'randomized' as const, oversample: 7 };
    const sketch = sketchSvd(decaying, 12, opts);
    assert.equal(sketch.s.length, 19);
    assert.ok(sameSvd(truncateSvd(sketch, 12), truncatedSvd(decaying, 12, opts)));
  });

  for (const [rows, cols] of [
    [300, 200],
    [200, 300],
  ]) {
    it(`warm start (${rows}x${cols}) from a parent matrix's basis reaches the optimal error; too narrow a start is ignored`, () => {
      const parent = spectral(rows, cols + 40, 12, (i) => 1 / Math.sqrt(i + 1));
      const child = { rows, cols, data: new Float32Array(rows * cols) };
      for (let i = 0; i < rows; i++) child.data.set(parent.data.subarray(i * (cols + 40) + 40, (i + 1) * (cols + 40)), i * cols);
      const start = truncatedSvd(parent, 40, { seed: 3, method: 'randomized' }).u;
      const warm = truncatedSvd(child, 25, { seed: 1, method: 'randomized', start, powerIterations: 3 });
      const opt = optimalError(exactSvd(child).s, 25);
      assert.ok(relativeDifference(child, reconstruct(warm.u, warm.s, warm.v)) <= opt * 1.01);
      const narrow = truncatedSvd(child, 35, { seed: 1, method: 'randomized', start });
      assert.ok(sameSvd(narrow, truncatedSvd(child, 35, { seed: 1, method: 'randomized' })));
    });
  }

  it('handles a zero matrix and rank 0', () => {
    const zero = { rows: 300, cols: 200, data: new Float32Array(300 * 200) };
    const svd = truncatedSvd(zero, 4, { seed: 1, method: 'randomized' });
    assert.equal(svd.s.length, 4);
    assert.ok(svd.s.every((x) => x === 0));
    assert.equal(truncatedSvd(decaying, 0, { seed: 1 }).s.length, 0);
    assert.throws(() => truncatedSvd(decaying, -1, { seed: 1 }), RangeError);
  });

  it('auto uses the exact SVD for small matrices', () => {
    const a = gaussian(20, 30, 3);
    const auto = truncatedSvd(a, 6, { seed: 1 });
    assert.ok(sameSvd(auto, truncateSvd(exactSvd(a), 6)));
  });
});

describe('truncatedSvd (gram: power iterations on the small side\'s Gram)', () => {
  // Small sides above FULL_SPACE_MAX (256), so neither method falls back to the whole small side.
  const tall = spectral(420, 300, 21, (i) => 1 / Math.sqrt(i + 1));
  const wide = spectral(300, 420, 22, (i) => 0.98 ** i);
  const flat = gaussian(500, 280, 23);
  for (const [name, a] of [
    ['420x300 decaying', tall],
    ['300x420 decaying (wide)', wide],
    ['500x280 gaussian', flat],
  ] as const) {
    const reference = exactSvd(a);
    for (const rank of [5, 40, 90]) {
      it(`${name}, rank ${rank}: error within 1% of the exact truncation (and no worse than the sketch of A), orthonormal, descending`, () => {
        const svd = truncatedSvd(a, rank, { seed: 1, method: 'gram' });
        const err = assertNearOptimal(a, svd, reference, rank);
        const sketched = truncatedSvd(a, rank, { seed: 1, method: 'randomized' });
        assert.ok(err <= relativeDifference(a, reconstruct(sketched.u, sketched.s, sketched.v)) * 1.001);
      });
    }
  }

  it('a steep spectrum (s_1 / s_100 = 1e4, where the Cholesky QR steps break down and LU takes over)', () => {
    const steep = spectral(420, 300, 24, (i) => 10 ** (-i / 25));
    const reference = exactSvd(steep);
    for (const rank of [5, 40]) assertNearOptimal(steep, truncatedSvd(steep, rank, { seed: 1, method: 'gram' }), reference, rank);
    // At rank 90 the optimal error is 1.8e-4 of ||A||, below what a float32 Gram resolves
    // (~sqrt(eps) s_1): the error stays under 1e-3 and no worse than the sketch of A itself.
    const gram = truncatedSvd(steep, 90, { seed: 1, method: 'gram' });
    const sketched = truncatedSvd(steep, 90, { seed: 1, method: 'randomized' });
    const err = relativeDifference(steep, reconstruct(gram.u, gram.s, gram.v));
    assert.ok(err < 1e-3, `error ${err}`);
    assert.ok(err <= relativeDifference(steep, reconstruct(sketched.u, sketched.s, sketched.v)) * 1.05);
  });

  it('scales matrices of extreme norm into float32 range (2^60 and 2^-60 times a matrix, whose Gram overflows or underflows unscaled: same error, singular values scaled)', () => {
    const reference = truncatedSvd(tall, 40, { seed: 1, method: 'gram' });
    const refError = relativeDifference(tall, reconstruct(reference.u, reference.s, reference.v));
    for (const factor of [2 ** 60, 2 ** -60]) {
      const a = { rows: tall.rows, cols: tall.cols, data: Float32Array.from(tall.data, (x) => x * factor) };
      assert.ok(a.data.every(Number.isFinite) && a.data.some((x) => x !== 0));
      const svd = truncatedSvd(a, 40, { seed: 1, method: 'gram' });
      svd.s.forEach((x, i) => assert.ok(Math.abs(x / factor - reference.s[i]) <= 1e-4 * reference.s[0], `s[${i}] at ${factor}`));
      const err = relativeDifference(a, reconstruct(svd.u, svd.s, svd.v));
      assert.ok(Math.abs(err - refError) <= 1e-3 * refError, `error ${err} vs ${refError} at ${factor}`);
    }
  });

  it('recovers an exactly low-rank matrix (rank below the sketch: a singular Gram)', () => {
    const a = spectral(400, 300, 8, () => 1, 5);
    const svd = truncatedSvd(a, 20, { seed: 2, method: 'gram' });
    assert.ok(relativeDifference(a, reconstruct(svd.u, svd.s, svd.v)) < 1e-4);
  });

  it('is bit-identical for the same seed and differs for another seed', () => {
    const one = truncatedSvd(tall, 20, { seed: 42, method: 'gram', powerIterations: 0 });
    assert.ok(sameSvd(one, truncatedSvd(tall, 20, { seed: 42, method: 'gram', powerIterations: 0 })));
    assert.ok(!sameSvd(one, truncatedSvd(tall, 20, { seed: 43, method: 'gram', powerIterations: 0 })));
  });

  it('auto takes the Gram route when the small side is below (2q + 1) l, and the sketch of A above it', () => {
    // l = 60 + 10: 300 < 9 * 70, so gram; rank 5 (l = 15): 300 > 9 * 15, so randomized.
    assert.ok(sameSvd(truncatedSvd(tall, 60, { seed: 1 }), truncatedSvd(tall, 60, { seed: 1, method: 'gram' })));
    assert.ok(sameSvd(truncatedSvd(tall, 5, { seed: 1 }), truncatedSvd(tall, 5, { seed: 1, method: 'randomized' })));
  });

  it('warm start from a parent matrix\'s basis reaches the optimal error', () => {
    const parent = spectral(300, 460, 12, (i) => 1 / Math.sqrt(i + 1));
    const child = { rows: 300, cols: 420, data: new Float32Array(300 * 420) };
    for (let i = 0; i < 300; i++) child.data.set(parent.data.subarray(i * 460 + 40, (i + 1) * 460), i * 420);
    const start = truncatedSvd(parent, 40, { seed: 3, method: 'gram' }).u;
    const warm = truncatedSvd(child, 25, { seed: 1, method: 'gram', start, powerIterations: 1 });
    const opt = optimalError(exactSvd(child).s, 25);
    assert.ok(relativeDifference(child, reconstruct(warm.u, warm.s, warm.v)) <= opt * 1.01);
  });

  it('handles a zero matrix', () => {
    const zero = { rows: 400, cols: 300, data: new Float32Array(400 * 300) };
    const svd = truncatedSvd(zero, 4, { seed: 1, method: 'gram' });
    assert.equal(svd.s.length, 4);
    assert.ok(svd.s.every((x) => x === 0));
  });
});
