/**
 * A published TF.js layers convnet (nsfwjs@4.4.0's MobileNetV2, MIT, uint8 weights):
 * its Conv2D and Dense kernels compressed through the real binary. Fetched once by
 * `node dist/scripts/fetch-published.js` (CI does it); skipped with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { publishedModelDir } from '../../scripts/fetch-published.js';
import { loadStock, runHmf } from '../cli/run.js';
import { tempDir } from '../helpers.js';

const modelJson = join(publishedModelDir(), 'model.json');
const SKIP = `${modelJson} is absent; fetch it once with "npm run build && node dist/scripts/fetch-published.js"`;

for (const method of ['hmf', 'lmf', 'prune']) {
  test(`published nsfwjs MobileNetV2: compress -m ${method} -f 2 rewrites its convolutions; stock TF.js loads and runs it`, async (t) => {
    if (!existsSync(modelJson)) return t.skip(SKIP);
    await initBackend('wasm');
    const out = join(tempDir(), 'out');
    // Uniform and latency not considered: every convolution is compressed here, its rewrite is what is tested.
    const r = await runHmf(['compress', modelJson, '-m', method, '-f', '2', '-o', out, '--runs', '2', '--probes', '4', '--json', '--quiet', '--allocate', 'uniform', '--objective', 'size']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const convs = report.matrices.filter((m) => m.weight !== 'dense_1/kernel' && m.weight !== 'dense_2/kernel');
    // Every Conv2D kernel of 4096+ parameters (28 of its 35), as (kh·kw·cin) x cout; the Dense head too.
    assert.equal(convs.length, 28);
    assert.ok(convs.every((m) => m.method === method && m.paramsAfter <= m.paramsBefore / 2 + m.shape[0] + m.shape[1]), 'every convolution compressed');
    assert.deepEqual(convs.find((m) => m.weight === 'Conv_1/kernel')?.shape, [320, 1280]);
    assert.ok(report.skipped.some((s) => s.weight === 'block_16_depthwise/depthwise_kernel' && /depthwise convolution/.test(s.reason)));
    assert.ok(Math.abs(report.totals.targeted.factor - 2) / 2 <= 0.03, `factor ${report.totals.targeted.factor}`);
    // The whole model shrinks (pruned zeros are stored: their gain shows in gzip).
    const size = method === 'prune' ? 'gzip' : 'raw';
    const ratio = report.totals.bytes.after[size] / report.totals.bytes.before[size];
    assert.ok(method === 'prune' ? ratio < 1 : ratio <= 0.7, `whole-model ${size} bytes ${ratio.toFixed(3)}x of the original`);
    assert.ok(Number.isFinite(report.fidelity.outputs[0].relativeError));
    assert.equal(report.latency?.batches[0]?.batch, 1, 'batch-1 latency at 224x224 in the report');
    // The factors keep the kernels' uint8 encoding (what --quantize keep means).
    const manifest = (JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as tf.io.ModelJSON).weightsManifest.flatMap((g) => g.weights);
    assert.ok(manifest.some((w) => /_lmf_p|_hmf_p/.test(w.name)) || method === 'prune');
    assert.ok(manifest.every((w) => w.quantization?.dtype === 'uint8'), 'every weight stored uint8');
    const model = await loadStock(join(out, 'model.json'));
    const y = model.predict(tf.zeros([1, 224, 224, 3])) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 5]);
    const sum = y.sum().dataSync()[0];
    assert.ok(Math.abs(sum - 1) < 1e-4, 'softmax output');
    model.dispose();
  });
}
