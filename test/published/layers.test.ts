/**
 * A published TF.js layers model with Dense layers (nsfwjs@4.4.0's MobileNetV2, MIT,
 * uint8 weights), compressed through the real binary. Fetched once by
 * `node dist/scripts/fetch-published.js` (CI does it); skipped with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
  test(`published nsfwjs MobileNetV2: compress -m ${method} -f 4, stock TF.js loads and runs it`, async (t) => {
    if (!existsSync(modelJson)) return t.skip(SKIP);
    await initBackend('wasm');
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', modelJson, '-m', method, '-f', '4', '-o', out, '--no-bench', '--probes', '4', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    assert.deepEqual(report.matrices.map((m) => `${m.weight} ${m.shape.join('x')}`), ['dense_1/kernel 1280x256', 'dense_2/kernel 256x128']);
    assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03, `factor ${report.totals.targeted.factor}`);
    assert.ok(report.fidelity.outputs[0].relativeError < 1);
    const model = await loadStock(join(out, 'model.json'));
    const y = model.predict(tf.zeros([1, 224, 224, 3])) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 5]);
    const sum = y.sum().dataSync()[0];
    assert.ok(Math.abs(sum - 1) < 1e-4, 'softmax output');
    model.dispose();
  });
}
