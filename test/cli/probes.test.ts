import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { fileSaver } from '../../src/io/index.js';
import { PROBE_WORK } from '../../src/measure/probes.js';
import { tempDir } from '../helpers.js';
import { runHmf } from './run.js';

before(async () => {
  await initBackend();
});

test('default probes: 128 for a small model, fewer for a model that costs more per example, --probes wins', async () => {
  const root = tempDir();
  // LSTM(512) over 80 steps of 64 features: (64 + 512) x 2048 multiply-adds per step, 94M per example.
  const steps = 80;
  const model = tf.sequential({ layers: [tf.layers.lstm({ units: 512, inputShape: [steps, 64], returnSequences: false, recurrentInitializer: 'glorotUniform' }), tf.layers.dense({ units: 4 })] });
  await model.save(fileSaver(join(root, 'lstm')));
  // hmf estimates a layer's multiply-adds as its parameters (biases too) times its positions (layersMacs).
  const perExample = ((64 + 512) * 2048 + 2048) * steps + (512 * 4 + 4);
  const expected = Math.floor(PROBE_WORK / perExample);
  assert.ok(expected > 16 && expected < 128, `the fixture should land between the bounds, got ${expected}`);
  const run = async (extra: string[]): Promise<number> => {
    const out = join(root, `out-${extra.join('')}`);
    const r = await runHmf(['compress', join(root, 'lstm', 'model.json'), '-m', 'lmf', '-f', '2', '-o', out, '--no-bench', '--quiet', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { fidelity: { probes: number } }).fidelity.probes;
  };
  assert.equal(await run([]), expected);
  assert.equal(await run(['--probes', '3']), 3);
});
