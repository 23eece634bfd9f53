import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { cholesky, gramOf, permuteGram, Whitening, weightedSquared } from '../../src/calibrate/gram.js';
import { gaussianArray } from '../../src/linalg/random.js';

before(async () => {
  await initBackend();
});

describe('Gram and whitening', () => {
  const x = { rows: 50, cols: 12, data: gaussianArray(600, 3) };
  const g = gramOf(x);

  it('cholesky reproduces A + λI', () => {
    const l = cholesky(g.data, 12, 0.5)!;
    for (let i = 0; i < 12; i++) {
      for (let j = 0; j < 12; j++) {
        let s = 0;
        for (let k = 0; k < 12; k++) s += l[i * 12 + k] * l[j * 12 + k];
        assert.ok(Math.abs(s - g.data[i * 12 + j] - (i === j ? 0.5 : 0)) < 1e-9);
      }
    }
    assert.equal(cholesky(new Float64Array([1, 2, 2, 1]), 2), null);
  });

  it('unwhiten inverts whiten, and ||Lᵀ D|| = ||X D|| without damping', () => {
    const w = new Whitening(g, 0);
    const d = { rows: 12, cols: 5, data: gaussianArray(60, 4) };
    const back = w.unwhiten(w.whiten(d));
    for (let i = 0; i < 60; i++) assert.ok(Math.abs(back.data[i] - d.data[i]) < 1e-4);
    const white = w.whiten(d);
    const norm2 = white.data.reduce((s, v) => s + v * v, 0);
    assert.ok(Math.abs(norm2 - weightedSquared(g, d)) / norm2 < 1e-4);
  });

  it('permuteGram follows a permutation of the inputs', () => {
    const order = Int32Array.from([3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 11, 10]);
    const p = permuteGram(g, order);
    assert.equal(p.data[0], g.data[3 * 12 + 3]);
    assert.equal(p.data[1], g.data[3 * 12 + 0]);
  });
});
