import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/backend.js';
import { readModel } from '../../src/io/index.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { exactSvd, truncatedSvd } from '../../src/linalg/svd.js';
import { lmfRank } from '../../src/methods/lmf.js';
import { repoRoot } from '../helpers.js';
import { optimalError, reconstruct, relativeDifference } from './matrices.js';

before(async () => {
  await initBackend();
});

/** Trained weight matrices small enough for ml-matrix's exact SVD to be the reference. */
const cases: [fixture: string, weight: string][] = [
  ['char-lstm', 'lstm/kernel'],
  ['char-lstm', 'lstm/recurrent_kernel'],
  ['sentiment-mlp', 'hidden2/kernel'],
  ['sentiment-gru', 'bigru/forward_gru/recurrent_kernel'],
  ['sentiment-embed', 'embedding/embeddings'],
];

async function fixtureMatrix(fixture: string, weight: string): Promise<Matrix> {
  const model = await readModel(join(repoRoot, 'fixtures', fixture, 'model.json'));
  const w = model.weights.find((x) => x.name === weight);
  if (!w || w.shape.length !== 2 || !(w.values instanceof Float32Array)) throw new Error(`${fixture}: no float32 matrix ${weight}`);
  return { rows: w.shape[0], cols: w.shape[1], data: w.values };
}

describe('randomized SVD on trained fixture matrices', () => {
  for (const [fixture, weight] of cases) {
    it(`${fixture} ${weight}: rank-r error within 1% of the exact truncation at factors 2, 4, 8`, async () => {
      const k = await fixtureMatrix(fixture, weight);
      const exact = exactSvd(k);
      for (const factor of [2, 4, 8]) {
        const rank = lmfRank(k.rows, k.cols, Math.floor((k.rows * k.cols) / factor));
        if (rank === 0) continue;
        const svd = truncatedSvd(k, rank, { seed: 7, method: 'randomized' });
        const err = relativeDifference(k, reconstruct(svd.u, svd.s, svd.v));
        const opt = optimalError(exact.s, rank);
        assert.ok(err <= opt * 1.01, `factor ${factor}, rank ${rank}: error ${err} vs optimal ${opt}`);
      }
    });
  }
});
