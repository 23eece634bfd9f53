import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { BenchReport } from '../../src/bench.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp', 'model.json');

test('hmf bench times one model, and two models A/B with --vs', async () => {
  const one = await runHmf(['bench', mlp, '--runs', '3', '--batch', '1,4', '--json']);
  assert.equal(one.code, 0, one.stderr);
  const single = JSON.parse(one.stdout) as BenchReport;
  assert.equal(single.vs, null);
  assert.deepEqual(single.batches.map((b) => b.batch), [1, 4]);
  for (const b of single.batches) assert.ok(b.original.medianMs > 0 && b.original.p10Ms <= b.original.p90Ms);

  const out = join(tempDir(), 'out');
  assert.equal((await runHmf(['compress', mlp, '-o', out, '--no-bench', '--quiet'])).code, 0);
  const ab = await runHmf(['bench', mlp, '--vs', join(out, 'model.json'), '--runs', '3', '--batch', '2']);
  assert.equal(ab.code, 0, ab.stderr);
  assert.match(ab.stdout, /\d+\.\d\dx (faster|slower) than A/);
});

test('hmf bench --vs a model with other inputs: exit 2 naming --vs', async () => {
  const r = await runHmf(['bench', mlp, '--vs', join(repoRoot, 'fixtures', 'char-lstm', 'model.json'), '--runs', '2']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--vs .*inputs differ/);
});

test('hmf bench --runs 0 / --batch x: exit 2', async () => {
  assert.equal((await runHmf(['bench', mlp, '--runs', '0'])).code, 2);
  const r = await runHmf(['bench', mlp, '--batch', 'x']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--batch/);
});
