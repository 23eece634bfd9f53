import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { gramOf, Whitening, weightedRelativeError, diagonalGram, type Gram } from '../../src/calibrate/gram.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { gaussianArray } from '../../src/linalg/random.js';
import { hmf } from '../../src/methods/hmf.js';
import { lmf } from '../../src/methods/lmf.js';
import { pruneLayer } from '../../src/methods/prune.js';
import { reconstruct, wandaPrune, weightedHmf, weightedLmf } from '../../src/methods/weighted.js';

before(async () => {
  await initBackend();
});

function gaussian(rows: number, cols: number, seed: number): Matrix {
  return { rows, cols, data: gaussianArray(rows * cols, seed) };
}

/** Activations with very unequal, correlated columns (as real layer inputs are). */
function activations(rows: number, n: number, seed: number): Matrix {
  const z = gaussian(rows, n, seed);
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      const scale = Math.exp(-j / 6);
      out[r * n + j] = scale * z.data[r * n + j] + 0.5 * z.data[r * n + ((j + 1) % n)];
    }
  }
  return { rows, cols: n, data: out };
}

function identityGram(n: number): Gram {
  const g = new Float64Array(n * n);
  for (let i = 0; i < n; i++) g[i * n + i] = 1;
  return { n, kind: 'full', data: g, rows: n };
}

const cases = [
  { n: 40, m: 30, seed: 1 },
  { n: 24, m: 60, seed: 2 },
  { n: 64, m: 48, seed: 3 },
];

describe('weighted (whitened) factorization', () => {
  for (const { n, m, seed } of cases) {
    const k = gaussian(n, m, seed);
    const g = gramOf(activations(5 * n, n, seed + 100));
    const w = new Whitening(g, 1e-8);
    const budget = Math.floor((n * m) / 4);

    it(`LMF ${n}x${m}: weighted error <= the plain factorization's`, () => {
      const plain = lmf(k, budget, { seed })!;
      const white = weightedLmf(k, budget, { seed }, w)!;
      assert.equal(white.result.rank, plain.rank);
      const ePlain = weightedRelativeError(g, k, reconstruct(plain));
      const eWhite = weightedRelativeError(g, k, reconstruct(white.result));
      assert.ok(eWhite <= ePlain + 1e-4, `whitened ${eWhite} > plain ${ePlain}`);
      assert.ok(Math.abs(eWhite - white.whitenedError) < 1e-3, `reported ${white.whitenedError} vs measured ${eWhite}`);
      // The plain weight error is the one reported for the weights, and it is honest.
      assert.ok(white.result.error >= plain.error - 1e-5);
    });

    it(`HMF ${n}x${m}: weighted error <= weighted LMF's and the plain HMF's`, () => {
      const wl = weightedLmf(k, budget, { seed }, w)!;
      for (const selection of ['leading', 'residual'] as const) {
        const wh = weightedHmf(k, budget, { seed, selection }, w)!;
        const plain = hmf(k, budget, { seed, selection })!;
        const eH = weightedRelativeError(g, k, reconstruct(wh.result));
        assert.ok(eH <= weightedRelativeError(g, k, reconstruct(wl.result)) + 1e-4);
        assert.ok(eH <= weightedRelativeError(g, k, reconstruct(plain)) + 1e-4);
        assert.ok(wh.result.params <= budget);
        // Dense outputs are K's own columns.
        wh.result.denseOutputs.forEach((col, j) => assert.equal(wh.result.dense.data[j], k.data[col]));
      }
    });
  }

  it('with X = I it is the plain factorization', () => {
    const k = gaussian(40, 30, 7);
    const w = new Whitening(identityGram(40), 0);
    const plain = lmf(k, 300, { seed: 7 })!;
    const white = weightedLmf(k, 300, { seed: 7 }, w)!;
    assert.ok(Math.abs(white.result.error - plain.error) < 1e-5);
    assert.ok(Math.abs(white.whitenedError - plain.error) < 1e-5);
    const h = hmf(k, 300, { seed: 7, selection: 'residual' })!;
    const wh = weightedHmf(k, 300, { seed: 7, selection: 'residual' }, w)!;
    assert.equal(wh.result.k, h.k);
    assert.ok(Math.abs(wh.result.error - h.error) < 1e-5);
  });

  it('a diagonal Gram (token counts) favours frequent rows', () => {
    const k = gaussian(200, 16, 9);
    const counts = new Float64Array(200);
    for (let i = 0; i < 2; i++) counts[i] = 1000;
    const g = diagonalGram(counts, 20000);
    const plain = lmf(k, 600, { seed: 9 })!;
    const white = weightedLmf(k, 600, { seed: 9 }, new Whitening(g))!;
    assert.ok(weightedRelativeError(g, k, reconstruct(white.result)) < 0.5 * weightedRelativeError(g, k, reconstruct(plain)));
  });
});

describe('Wanda pruning', () => {
  it('uniform activations give magnitude pruning', () => {
    const k = gaussian(30, 20, 11);
    const a = wandaPrune(k, new Float64Array(30).fill(3.5), 150);
    const b = pruneLayer(k, 150);
    assert.deepEqual(Array.from(a.pruned.data), Array.from(b.pruned.data));
    assert.equal(a.params, 150);
  });

  it('keeps the weights of strong inputs', () => {
    const k = gaussian(30, 20, 12);
    const norms = Float64Array.from({ length: 30 }, (_, i) => (i < 5 ? 1e6 : 1));
    const a = wandaPrune(k, norms, 100);
    for (let j = 0; j < 100; j++) assert.equal(a.pruned.data[j], k.data[j]);
    assert.equal(a.params, 100);
    const g = gramOf(activations(10, 30, 1));
    assert.ok(weightedRelativeError(g, k, a.pruned) >= 0);
  });
});
