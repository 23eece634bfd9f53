import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { gaussianArray } from '../../src/linalg/random.js';
import { lmf } from '../../src/methods/lmf.js';
import { energyKept, spectrumReport } from '../../src/methods/spectrum.js';
import { gaussian, multiply, spectral } from '../linalg/matrices.js';

before(async () => {
  await initBackend();
});

describe('spectrumReport / energyKept', () => {
  const decaying = spectral(200, 150, 1, (i) => 0.95 ** i);

  it('energy is in [0, 1], HMF >= LMF, and falls as the factor grows', () => {
    const points = spectrumReport(decaying, [2, 4, 8], 1);
    assert.deepEqual(
      points.map((p) => p.factor),
      [2, 4, 8],
    );
    for (const p of points) {
      assert.equal(p.budget, Math.floor((200 * 150) / p.factor));
      assert.ok(p.lmf > 0 && p.lmf <= 1 && p.hmf >= p.lmf && p.hmf <= 1);
    }
    assert.ok(points[0].lmf > points[1].lmf && points[1].lmf > points[2].lmf);
  });

  it('LMF energy is 1 - error^2 of lmf()', () => {
    for (const k of [decaying, gaussian(30, 40, 2)]) {
      const budget = Math.floor((k.rows * k.cols) / 4);
      const f = lmf(k, budget, { seed: 1 });
      assert.ok(f);
      assert.ok(Math.abs(energyKept(k, budget, 'lmf', 1) - (1 - f.error ** 2)) < 1e-4);
    }
  });

  it('energyKept agrees with spectrumReport whatever the call order', () => {
    const k = spectral(180, 160, 3, (i) => 1 / (i + 1));
    const report = spectrumReport(k, [2, 4, 8], 5);
    for (const p of [...report].reverse()) {
      assert.equal(energyKept(k, p.budget, 'hmf', 5), p.hmf);
      assert.equal(energyKept(k, p.budget, 'lmf', 5), p.lmf);
    }
  });

  it('shows HMF keeping more energy when some outputs are noise', () => {
    const k = multiply(gaussian(120, 3, 1), gaussian(3, 200, 2));
    const noise = gaussianArray(120 * 10, 3);
    for (let i = 0; i < 120; i++) for (let j = 0; j < 10; j++) k.data[i * 200 + j] = 10 * noise[i * 10 + j];
    assert.ok(energyKept(k, 2200, 'hmf', 1) > 0.999);
    assert.ok(energyKept(k, 2200, 'lmf', 1) < 0.9);
  });

  it('reports 0 where the factor cannot be reached', () => {
    const k = gaussian(2, 300, 1);
    const [p] = spectrumReport(k, [8], 1);
    assert.deepEqual([p.lmf, p.hmf], [0, 0]);
    assert.equal(energyKept(k, 10, 'hmf'), 0);
    assert.throws(() => spectrumReport(k, [0], 1), RangeError);
  });
});
