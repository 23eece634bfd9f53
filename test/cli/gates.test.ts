import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { repoRoot, tempDir } from '../helpers.js';
import { accuracyOn, loadStock, runHmf } from './run.js';
import { initBackend } from '../../src/backend.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp');

test('--max-error / --min-agreement: a failed gate exits 5 naming the gate and writes nothing; a passed one exits 0', async () => {
  const dir = tempDir();
  const failed = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'a'), '--no-bench', '--max-error', '0.0001']);
  assert.equal(failed.code, 5, failed.stderr);
  assert.match(failed.stderr, /--max-error 0\.0001: output \S+ has relative error 0\.\d+/);
  assert.ok(!existsSync(join(dir, 'a')));
  const agreement = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'b'), '--no-bench', '--min-agreement', '1.0', '-f', '8']);
  assert.equal(agreement.code, 5, agreement.stderr);
  assert.match(agreement.stderr, /--min-agreement 1: output \S+ agrees on top-1 for 0\.\d+/);
  const passed = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'c'), '--no-bench', '--max-error', '0.9', '--min-agreement', '0.5']);
  assert.equal(passed.code, 0, passed.stderr);
  const bad = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'd'), '--no-bench', '--min-agreement', '2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--min-agreement/);
});

test('a factor no matrix can reach: exit 4 naming the matrices, nothing written', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-f', '1000', '-o', out, '--no-bench']);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /factor 1000 not reached/);
  assert.match(r.stderr, /hidden1\/kernel \[2000x256\]: rank-1 factors need 2256 parameters, over the budget of 512/);
  assert.ok(!existsSync(out));
});

for (const dtype of ['float16', 'uint8']) {
  test(`--quantize ${dtype}: every float weight stored as ${dtype}, smaller than float32, stock TF.js loads it`, async () => {
    await initBackend('wasm');
    const dir = tempDir();
    const plain = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'plain'), '--no-bench', '--json', '--quiet']);
    const quantized = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'q'), '--no-bench', '--json', '--quiet', '--quantize', dtype]);
    assert.equal(quantized.code, 0, quantized.stderr);
    const a = JSON.parse(plain.stdout) as Report;
    const b = JSON.parse(quantized.stdout) as Report;
    assert.equal(b.options.quantize, dtype);
    assert.ok(b.totals.bytes.after.raw < a.totals.bytes.after.raw * (dtype === 'uint8' ? 0.3 : 0.55));
    const manifest = JSON.parse(readFileSync(join(dir, 'q', 'model.json'), 'utf8')) as { weightsManifest: { weights: { quantization?: { dtype: string } }[] }[] };
    for (const w of manifest.weightsManifest[0].weights) assert.equal(w.quantization?.dtype, dtype);
    const model = await loadStock(join(dir, 'q', 'model.json'));
    assert.ok(accuracyOn(model, join(mlp, 'test.json')) > 0.7);
  });
}

test('--quantize int8: exit 2', async () => {
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(tempDir(), 'x'), '--quantize', 'int8']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--quantize/);
});

test('whole rank steps that keep the factor off by more than 3%: written, with a warning on stderr and in the report', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', join(repoRoot, 'fixtures', 'intent-mlp', 'model.json'), '-m', 'lmf', '-f', '8', '-o', out, '--no-bench', '--json', '--quiet', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: factor 8 not reached within 3% .* hidden\/kernel rank 5 \(steps of 194 parameters\)/);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.warnings.length, 1);
  assert.ok(existsSync(join(out, 'model.json')));
});

test('--dense-share: HMF spends that share of each budget on dense outputs; usage errors otherwise', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', join(mlp, 'model.json'), '--dense-share', '0.5', '--allocate', 'uniform', '--objective', 'size', '-o', out, '--no-bench', '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.options.denseShare, 0.5);
  for (const m of report.matrices) {
    assert.equal(m.method, 'hmf');
    // k = floor(B/2 / n) dense outputs, the rest at rank >= 1.
    const k = Math.floor(Math.floor((m.shape[0] * m.shape[1]) / 4) / 2 / m.shape[0]);
    assert.ok(m.denseOutputs! >= k && m.denseOutputs! <= k + 1, `${m.weight}: k ${m.denseOutputs}, expected about ${k}`);
    assert.ok(m.rank! >= 1);
  }
  assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03);
  for (const args of [['--dense-share', '1'], ['--dense-share', '-0.1'], ['--dense-share', '0.5', '-m', 'lmf']]) {
    const bad = await runHmf(['compress', join(mlp, 'model.json'), ...args, '-o', join(tempDir(), 'x'), '--no-bench']);
    assert.equal(bad.code, 2, args.join(' '));
    assert.match(bad.stderr, /--dense-share/);
  }
});

test('--report into a folder that does not exist: exit 2 before any work, nothing written', async () => {
  const dir = tempDir();
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-o', join(dir, 'out'), '--no-bench', '--report', join(dir, 'nope', 'r.md')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--report .*nope\/r\.md: expected a file in an existing, writable folder/);
  assert.ok(!existsSync(join(dir, 'out')));
});
