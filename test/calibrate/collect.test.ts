import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { collectActivations } from '../../src/calibrate/collect.js';
import { readModel } from '../../src/io/index.js';
import { layersAdapter } from '../../src/model/adapter.js';
import { registerHmfLayers } from '../../src/runtime/index.js';
import { toArtifacts } from '../../src/io/index.js';
import { repoRoot } from '../helpers.js';

before(async () => {
  await initBackend();
  registerHmfLayers(tf);
});

async function fixture(name: string) {
  const file = await readModel(join(repoRoot, 'fixtures', name, 'model.json'));
  const adapter = layersAdapter(file, 4096);
  const model = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(file)));
  return { adapter, model };
}

describe('collectActivations', () => {
  it('Dense: the Gram of the layer input, summed over batches', async () => {
    const { adapter, model } = await fixture('sentiment-mlp');
    const x = tf.tensor2d(Float32Array.from({ length: 6 * 2000 }, (_, i) => (i % 7 === 0 ? 1 : 0)), [6, 2000]);
    const grams = collectActivations(model, adapter.targets, [[x.slice(0, 4)], [x.slice(4)]]);
    const g1 = grams.get('hidden1/kernel')!;
    assert.equal(g1.n, 2000);
    assert.equal(g1.rows, 6);
    // Column 0 is 1 in rows 0 and 6·2000... : count the ones in column 0.
    const col0 = tf.tidy(() => x.slice([0, 0], [-1, 1]).sum().dataSync()[0]);
    assert.equal(g1.data[0], col0);
    const g2 = grams.get('hidden2/kernel')!;
    assert.equal(g2.n, 256);
    // hidden2's input is hidden1's output: check one entry against an explicit sub-model.
    const h = tf.model({ inputs: model.inputs, outputs: model.getLayer('hidden1').output as tf.SymbolicTensor }).predict(x) as tf.Tensor;
    const expected = tf.tidy(() => tf.matMul(h, h, true, false).arraySync() as number[][]);
    assert.ok(Math.abs(g2.data[1 * 256 + 2] - expected[1][2]) < 1e-3 * (1 + Math.abs(expected[1][2])));
    model.dispose();
  });

  it('Embedding: token counts; recurrent: input sequence and hidden states', async () => {
    const { adapter, model } = await fixture('char-lstm');
    const ids = tf.tensor2d(Int32Array.from({ length: 3 * 64 }, (_, i) => 1 + (i % 5)), [3, 64], 'int32');
    const grams = collectActivations(model, adapter.targets, [[ids]]);
    const weights = adapter.targets.map((t) => t.weight).sort();
    assert.deepEqual([...grams.keys()].sort(), weights);
    const kernel = grams.get('lstm/kernel')!;
    assert.equal(kernel.n, 32);
    assert.equal(kernel.rows, 3 * 64);
    const rec = grams.get('lstm/recurrent_kernel')!;
    assert.equal(rec.n, 128);
    assert.equal(rec.rows, 3 * 63);
    // A Gram is positive semi-definite: non-negative diagonal, symmetric.
    for (let i = 0; i < 128; i++) assert.ok(rec.data[i * 128 + i] > 0);
    assert.ok(Math.abs(rec.data[1] - rec.data[128]) < 1e-4);
    model.dispose();
  });

  it('Bidirectional GRU with mask_zero: padded steps are left out', async () => {
    const { adapter, model } = await fixture('sentiment-gru');
    const values = new Int32Array(2 * 32);
    for (let t = 0; t < 10; t++) values[t] = 5 + t;
    for (let t = 0; t < 20; t++) values[32 + t] = 7 + t;
    const grams = collectActivations(model, adapter.targets, [[tf.tensor2d(values, [2, 32], 'int32')]]);
    const emb = grams.get('embedding/embeddings');
    if (emb) {
      assert.equal(emb.kind, 'diagonal');
      assert.equal(emb.rows, 30);
      assert.equal(emb.data[5], 1);
      assert.equal(emb.data[0], 0);
    }
    for (const dir of ['forward', 'backward']) {
      const k = grams.get(`bigru/${dir}_gru/kernel`);
      const r = grams.get(`bigru/${dir}_gru/recurrent_kernel`);
      if (k) assert.equal(k.rows, 30);
      // Forwards the last state of each sequence is never an h_{t-1}; backwards (right padding
      // comes first) the first valid step reads the zero state, which counts as a row.
      if (r) assert.equal(r.rows, dir === 'forward' ? 28 : 30);
    }
    model.dispose();
  });
});
