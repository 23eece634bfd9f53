import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { lowRankRelativeError, lowRankResidualSquared, matMul } from '../../src/linalg/product.js';
import { gaussian, multiply, relativeDifference } from './matrices.js';

before(async () => {
  await initBackend();
});

describe('product', () => {
  it('matMul matches a float64 reference', () => {
    const a = gaussian(33, 17, 1);
    const b = gaussian(17, 29, 2);
    assert.ok(relativeDifference(multiply(a, b), matMul(a, b)) < 1e-6);
    assert.throws(() => matMul(a, a), RangeError);
  });

  it('lowRankRelativeError equals the directly computed error', () => {
    const p = gaussian(40, 3, 3);
    const q = gaussian(3, 25, 4);
    const k = multiply(p, q);
    const noise = gaussian(40, 25, 5, 0.1);
    const noisy = { rows: 40, cols: 25, data: k.data.map((x, i) => x + noise.data[i]) };
    assert.ok(Math.abs(lowRankRelativeError(noisy, p, q) - relativeDifference(noisy, k)) < 1e-5);
    assert.ok(lowRankRelativeError(k, p, q) < 1e-6);
    // rank 0: the whole matrix is residual
    const empty = { rows: 40, cols: 0, data: new Float32Array(0) };
    const emptyQ = { rows: 0, cols: 25, data: new Float32Array(0) };
    assert.equal(lowRankRelativeError(noisy, empty, emptyQ), 1);
    assert.equal(lowRankResidualSquared({ rows: 40, cols: 25, data: new Float32Array(1000) }, p, { rows: 3, cols: 25, data: new Float32Array(75) }), 0);
  });
});
