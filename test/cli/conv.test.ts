/**
 * Convolutions through the real binary: the Conv1D fixture at x4 with calibration and
 * fine-tuning keeps its held-out accuracy; a convolution hmf cannot rewrite passes
 * through with the reason, never a failure.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { writeModel } from '../../src/io/index.js';
import type { EvalReport } from '../../src/eval.js';
import type { Report } from '../../src/report/schema.js';
import { savedModel } from '../model/exact.js';
import { repoRoot, tempDir } from '../helpers.js';
import { loadStock, runHmf } from './run.js';

const cnn = join(repoRoot, 'fixtures', 'sentiment-cnn');

describe('convolutions through hmf compress', () => {
  it('sentiment-cnn (Conv1D) at x4, calibrated and fine-tuned on one half of its held-out data, within 2 points on the other half', async () => {
    await initBackend('wasm');
    const dir = tempDir();
    const test = JSON.parse(readFileSync(join(cnn, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
    const half = Math.floor(test.labels.length / 2);
    const tune = join(dir, 'tune.json');
    const heldOut = join(dir, 'held-out.json');
    writeFileSync(tune, JSON.stringify({ inputs: test.inputs.slice(0, half), labels: test.labels.slice(0, half) }));
    writeFileSync(heldOut, JSON.stringify({ inputs: test.inputs.slice(half), labels: test.labels.slice(half) }));
    const original = await runHmf(['eval', join(cnn, 'model.json'), '--data', heldOut, '--json']);
    assert.equal(original.code, 0, original.stderr);
    const before = (JSON.parse(original.stdout) as EvalReport).metrics!.accuracy;

    const out = join(dir, 'out');
    const args = ['compress', join(cnn, 'model.json'), '-f', '4', '-o', out, '--calibration', tune, '--finetune', tune, '--epochs', '1'];
    const r = await runHmf([...args, '--eval', heldOut, '--no-bench', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const convs = report.matrices.filter((m) => m.kernelShape);
    assert.deepEqual(
      convs.map((m) => `${m.layer} ${m.kernelShape!.join('x')} as ${m.shape.join('x')}`),
      ['conv1 5x32x128 as 160x128', 'conv2 3x128x128 as 384x128'],
    );
    // The plan may keep one dense (the budget does more elsewhere, or it would slow the model), saying why.
    assert.ok(convs.some((m) => m.method === 'hmf'));
    assert.ok(convs.every((m) => m.method === 'hmf' || (m.method === 'dense' && m.note)), JSON.stringify(convs.map((m) => [m.method, m.note])));
    assert.ok(convs.filter((m) => m.method === 'hmf').every((m) => m.weightedError !== null && m.weightedError !== undefined), 'calibrated on the im2col patches');
    assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03, `factor ${report.totals.targeted.factor}`);
    assert.ok(report.finetune && report.finetune.history.length === 1, 'fine-tuned (Conv2DBackpropFilter on wasm)');
    const after = report.eval!.metrics!.accuracy;
    assert.ok(after >= before - 0.02, `held-out accuracy ${after} vs ${before} before compression`);
    const model = await loadStock(join(out, 'model.json'));
    assert.ok(model.layers.filter((l) => l.getClassName() === 'Conv1D').length >= 4, 'factorized Conv1D layers in stock TF.js');
    model.dispose();
  });

  it('a channels_first Conv2D passes through with the reason; the rest is compressed; exit 0', async () => {
    await initBackend('wasm');
    const input = tf.input({ shape: [6, 10, 10] });
    const x = tf.layers.conv2d({ filters: 64, kernelSize: 3, dataFormat: 'channelsFirst', activation: 'relu', name: 'nchw' }).apply(input) as tf.SymbolicTensor;
    const y = tf.layers.conv2d({ filters: 48, kernelSize: 3, dataFormat: 'channelsLast', padding: 'same', name: 'nhwc' }).apply(x) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(y) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, activation: 'softmax', name: 'head' }).apply(flat) as tf.SymbolicTensor;
    const dir = tempDir();
    const saved = await savedModel(tf.model({ inputs: input, outputs: out }));
    await writeModel(saved, join(dir, 'model'));
    const r = await runHmf(['compress', join(dir, 'model', 'model.json'), '-f', '2', '-o', join(dir, 'out'), '--no-bench', '--json', '--quiet', '--min-params', '1000', '--objective', 'size', '--allocate', 'uniform']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.deepEqual(
      report.skipped.filter((s) => s.layer === 'nchw').map((s) => s.reason),
      ['data format channels_first is not rewritten (only channels_last)'],
    );
    assert.deepEqual(report.matrices.map((m) => m.layer).sort(), ['head', 'nhwc']);
    assert.ok(report.matrices.every((m) => m.method === 'hmf'));
    const model = await loadStock(join(dir, 'out', 'model.json'));
    const probs = model.predict(tf.ones([2, 6, 10, 10])) as tf.Tensor;
    assert.deepEqual(probs.shape, [2, 3]);
    model.dispose();
  });

  it('-m prune --sparse: pruned convolution kernels stay stored dense, with the reason (no sparse convolution in the runtime)', async () => {
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', join(cnn, 'model.json'), '-m', 'prune', '--sparse', '-o', out, '--no-bench', '--json', '--quiet', '--probes', '8']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const convs = report.matrices.filter((m) => m.kernelShape);
    assert.equal(convs.length, 2);
    for (const m of convs) {
      assert.equal(m.storage?.format, 'dense');
      assert.match(m.storage?.note ?? '', /no sparse convolution/);
    }
  });
});

