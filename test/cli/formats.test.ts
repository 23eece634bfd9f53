import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { repoRoot, tempDir } from '../helpers.js';
import { loadStockGraph, predictInFreshProcess, runHmf } from './run.js';

const graphMlp = join(repoRoot, 'fixtures', 'graph-mlp', 'model.json');
const charLstm = join(repoRoot, 'fixtures', 'char-lstm');

function withinFactor(report: Report, factor: number): void {
  assert.ok(Math.abs(report.totals.targeted.factor - factor) / factor <= 0.03, `targeted factor ${report.totals.targeted.factor}`);
}

for (const method of ['hmf', 'lmf', 'prune']) {
  for (const factor of [2, 4]) {
    test(`graph model: compress -m ${method} -f ${factor} exits 0, stock tf.loadGraphModel runs it`, async () => {
      await initBackend('wasm');
      const out = join(tempDir(), 'out');
      const r = await runHmf(['compress', graphMlp, '-m', method, '-f', String(factor), '-o', out, '--json', '--no-bench', '--quiet']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.model.format, 'graph-model');
      withinFactor(report, factor);
      assert.equal(report.matrices.length, 2);
      assert.ok(report.fidelity.outputs[0].relativeError < 1);
      if (method !== 'prune') assert.ok(report.totals.bytes.after.raw < report.totals.bytes.before.raw);
      const model = await loadStockGraph(join(out, 'model.json'));
      const y = model.predict(tf.zeros([3, 2000])) as tf.Tensor;
      assert.deepEqual(y.shape, [3, 2]);
      model.dispose();
    });
  }
}

test('graph model with nothing large enough: exit 0, model files unchanged, the report says why', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', graphMlp, '--min-params', '100000000', '-o', out, '--no-bench', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /No matrix was compressed/);
  assert.match(r.stdout, /below --min-params 100000000/);
  const dir = join(repoRoot, 'fixtures', 'graph-mlp');
  for (const f of readdirSync(out).filter((f) => f !== 'report.json')) {
    assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(dir, f))), `${f} changed`);
  }
  await loadStockGraph(join(out, 'model.json'));
});

const probe = [Array.from({ length: 64 }, (_, i) => (i * 7) % 80)];

for (const method of ['hmf', 'lmf', 'prune']) {
  test(`recurrent model: compress char-lstm -m ${method} -f 4; loads with TF.js + hmf/runtime in a fresh process`, async () => {
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', join(charLstm, 'model.json'), '-m', method, '-f', '4', '-o', out, '--json', '--no-bench', '--quiet', '--objective', 'size']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    withinFactor(report, 4);
    const roles = report.matrices.map((m) => `${m.layer}/${m.role}:${m.method}`);
    assert.ok(roles.includes(`lstm/recurrent_kernel:${method}`), roles.join(' '));
    assert.equal(report.output.runtimeRequired, method !== 'prune');
    const loaded = await predictInFreshProcess(join(out, 'model.json'), probe, 'int32', report.output.runtimeRequired);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.deepEqual((JSON.parse(loaded.stdout) as { shape: number[] }).shape, [1, 64, 80]);
    if (report.output.runtimeRequired) {
      const stock = await predictInFreshProcess(join(out, 'model.json'), probe, 'int32', false);
      assert.notEqual(stock.code, 0, 'without the runtime the factored LSTM cannot load');
      assert.match(stock.stderr, /HmfLSTM/);
    }
  });
}

test('--portable: no runtime layers; the recurrent kernel stays dense and is listed; stock TF.js loads it', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', join(charLstm, 'model.json'), '--portable', '-f', '4', '-o', out, '--json', '--no-bench', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.output.runtimeRequired, false);
  assert.equal(report.options.portable, true);
  assert.ok(report.skipped.some((s) => s.weight === 'lstm/recurrent_kernel' && /runtime/.test(s.reason)), JSON.stringify(report.skipped));
  const loaded = await predictInFreshProcess(join(out, 'model.json'), probe, 'int32', false);
  assert.equal(loaded.code, 0, loaded.stderr);
});

test('without --portable the terminal report says the runtime is required and shows how to load it', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', join(charLstm, 'model.json'), '-o', out, '--no-bench', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /runtime required/);
  assert.match(r.stdout, /import \{ registerHmfLayers \} from 'hmf\/runtime';/);
});

const gru = join(repoRoot, 'fixtures', 'sentiment-gru');
const tokens = [[5, 9, 13, 2, 1, 7, 0, 0, ...Array(24).fill(0)]];

for (const method of ['hmf', 'lmf', 'prune']) {
  test(`recurrent model: compress sentiment-gru (Bidirectional GRU, masked) -m ${method} -f 4 loads and classifies in a fresh process`, async () => {
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', join(gru, 'model.json'), '-m', method, '-f', '4', '-o', out, '--json', '--no-bench', '--quiet', '--objective', 'size']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    withinFactor(report, 4);
    const compressed = report.matrices.filter((m) => m.method === method).map((m) => m.weight);
    assert.ok(compressed.includes('bigru/backward_gru/recurrent_kernel'), compressed.join(' '));
    const loaded = await predictInFreshProcess(join(out, 'model.json'), tokens, 'int32', report.output.runtimeRequired);
    assert.equal(loaded.code, 0, loaded.stderr);
    const { shape, values } = JSON.parse(loaded.stdout) as { shape: number[]; values: number[] };
    assert.deepEqual(shape, [1, 2]);
    assert.ok(Math.abs(values[0] + values[1] - 1) < 1e-4);
  });
}
