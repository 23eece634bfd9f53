import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gaussianArray, mulberry32 } from '../../src/linalg/random.js';

describe('random', () => {
  it('mulberry32 is reproducible, seed-dependent and in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  it('gaussianArray has mean ~0 and variance ~1 and handles odd lengths', () => {
    const g = gaussianArray(100_001, 3);
    assert.equal(g.length, 100_001);
    const mean = g.reduce((s, x) => s + x, 0) / g.length;
    const variance = g.reduce((s, x) => s + (x - mean) ** 2, 0) / g.length;
    assert.ok(Math.abs(mean) < 0.02);
    assert.ok(Math.abs(variance - 1) < 0.02);
    assert.ok(Number.isFinite(g[g.length - 1]) && g[g.length - 1] !== 0);
  });
});
