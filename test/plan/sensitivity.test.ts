import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { readModel } from '../../src/io/index.js';
import { makeProbes } from '../../src/measure/probes.js';
import { layersAdapter } from '../../src/model/adapter.js';
import { logitsOf, measureJointError, measureSensitivity, PROBE_STEP, referenceProbe } from '../../src/plan/sensitivity.js';
import { repoRoot } from '../helpers.js';

test('logits of probability rows, centred; other outputs as they are', () => {
  const p = Float32Array.from([0.5, 0.5, 0.9, 0.1]);
  const l = logitsOf(p, 2);
  assert.ok(Math.abs(l[0]) < 1e-7 && Math.abs(l[1]) < 1e-7);
  assert.ok(Math.abs(l[3] - l[2] - Math.log(0.1 / 0.9)) < 1e-5);
  const raw = Float32Array.from([2, -1, 0.5, 0.5]);
  assert.equal(logitsOf(raw, 2), raw);
  const partial = Float32Array.from([0.7, 0.2]); // rows not summing to 1: as they are
  assert.equal(logitsOf(partial, 2), partial);
});

test('sensitivity: one matrix replaced at a time on the loaded model, restored after; the joint error of all at once', async () => {
  await initBackend('wasm');
  const model = await readModel(join(repoRoot, 'fixtures', 'sentiment-gru', 'model.json'));
  const adapter = layersAdapter(model, 4096);
  const loaded = await adapter.load(model);
  const batches = [makeProbes(loaded.signatures, 16, 3)];
  try {
    const before = ((await loaded.runnable.run(batches[0]))[0].dataSync() as Float32Array).slice();
    const probes = adapter.targets.map((t) => {
      const k = adapter.matrix(t);
      const zero = { rows: k.rows, cols: k.cols, data: new Float32Array(k.data.length) };
      return referenceProbe(t, k, zero, 1);
    });
    assert.equal(probes[0].error2, PROBE_STEP * PROBE_STEP);
    const sens = await measureSensitivity(loaded, probes, batches);
    assert.deepEqual(sens.map((s) => s.weight), adapter.targets.map((t) => t.weight));
    assert.ok(sens.every((s) => s.value > 0 && s.outputError2 > 0));
    // The forward GRU's recurrent kernel carries more of the output than the backward one's (the classifier reads the forward state last).
    const value = (w: string) => sens.find((s) => s.weight.endsWith(w))!.value;
    assert.ok(value('forward_gru/recurrent_kernel') > value('backward_gru/recurrent_kernel'));
    const after = (await loaded.runnable.run(batches[0]))[0].dataSync() as Float32Array;
    assert.deepEqual(Array.from(after), Array.from(before), 'the model is restored');
    const joint = await measureJointError(loaded, probes, batches);
    assert.ok(joint > Math.max(...sens.map((s) => s.outputError2)) * 0.5);
  } finally {
    tf.dispose(batches.flat());
    loaded.runnable.dispose();
  }
});
