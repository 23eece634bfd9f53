import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { registerTrainingKernels } from '../../src/backend-kernels.js';
import type { Dataset } from '../../src/data/index.js';
import { gaussianArray } from '../../src/linalg/random.js';
import { distill, scheduledRate, shuffleDataset } from '../../src/finetune/train.js';

before(async () => {
  await initBackend();
});

function classifier(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ name: 'hidden', units: 32, inputShape: [16], activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed }) }));
  m.add(tf.layers.dense({ name: 'out', units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }));
  return m;
}

function floatData(count: number): Dataset {
  return { path: 'generated', format: 'json', count, inputs: [{ name: 'x', shape: [16], dtype: 'float32', values: gaussianArray(count * 16, 5) }], labels: null, labelShape: [] };
}

describe('distill', () => {
  it('improves fidelity to the teacher and keeps pruned zeros at zero', async () => {
    const teacher = classifier(1);
    const student = classifier(1);
    // Prune half of the student's hidden kernel and perturb the rest: a compressed model.
    const k = student.getLayer('hidden').getWeights()[0];
    const pruned = tf.tidy(() => {
      const mask = tf.tensor(Float32Array.from({ length: 16 * 32 }, (_, i) => (i % 2 === 0 ? 1 : 0)), [16, 32]);
      return tf.mul(tf.add(k, tf.mul(tf.randomNormal([16, 32], 0, 0.2, 'float32', 3), 1)), mask);
    });
    student.getLayer('hidden').setWeights([pruned, student.getLayer('hidden').getWeights()[1]]);
    const result = await distill(teacher, student, floatData(400), { epochs: 3, learningRate: 1e-2, masked: ['hidden/kernel'] });
    assert.ok(result.bestEpoch >= 1, `no epoch improved: ${JSON.stringify(result.history)}`);
    assert.ok(result.fidelityAfter[0].relativeError < result.fidelityBefore[0].relativeError);
    const trained = result.weights.get('hidden/kernel')!;
    for (let i = 1; i < trained.length; i += 2) assert.ok(trained[i] === 0, `pruned entry ${i} became ${trained[i]}`);
    assert.ok(trained.some((v, i) => i % 2 === 0 && v !== pruned.dataSync()[i]), 'kept entries are trained');
    assert.equal(result.trainExamples + result.validationExamples, 400);
  });

  it('trains an Embedding on the wasm backend once the scatter kernel is registered', async () => {
    registerTrainingKernels();
    const make = (seed: number) => {
      const m = tf.sequential();
      m.add(tf.layers.embedding({ name: 'emb', inputDim: 50, outputDim: 8, inputLength: 6, embeddingsInitializer: tf.initializers.randomNormal({ seed }) }));
      m.add(tf.layers.globalAveragePooling1d());
      m.add(tf.layers.dense({ name: 'out', units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed }) }));
      return m;
    };
    const ids = Int32Array.from({ length: 200 * 6 }, (_, i) => (i * 7919) % 50);
    const data: Dataset = { path: 'generated', format: 'json', count: 200, inputs: [{ name: 'x', shape: [6], dtype: 'int32', values: ids }], labels: null, labelShape: [] };
    const result = await distill(make(1), make(2), data, { epochs: 2, learningRate: 1e-2 });
    assert.ok(result.history.every((h) => Number.isFinite(h.loss)));
    assert.ok(result.bestEpoch >= 1);
  });

  it('the scatter kernel matches the cpu backend', async () => {
    registerTrainingKernels();
    const x = tf.tensor2d(gaussianArray(24, 9), [6, 4]);
    const seg = tf.tensor1d([2, 0, 2, 4, 1, 0], 'int32');
    const wasm = tf.unsortedSegmentSum(x, seg, 5).arraySync() as number[][];
    const values = x.arraySync() as number[][];
    const expected = Array.from({ length: 5 }, () => [0, 0, 0, 0]);
    [2, 0, 2, 4, 1, 0].forEach((s, i) => values[i].forEach((v, j) => (expected[s][j] += v)));
    wasm.forEach((row, s) => row.forEach((v, j) => assert.ok(Math.abs(v - expected[s][j]) < 1e-5)));
  });

  it('keeps the state before fine-tuning when no epoch beats it on validation', async () => {
    // The student is an exact copy of the teacher: the loss is at its minimum, and Adam at a
    // high rate moves every weight by about the rate per step, so every epoch is worse.
    const teacher = classifier(4);
    const student = classifier(4);
    const start = student.getWeights().map((w) => Float32Array.from(w.dataSync()));
    const result = await distill(teacher, student, floatData(200), { epochs: 2, learningRate: 0.05, batchSize: 8 });
    assert.equal(result.bestEpoch, 0);
    assert.ok(result.history.every((h) => h.validationLoss > result.initialValidationLoss), JSON.stringify(result.history));
    student.getWeights().forEach((w, i) => assert.deepEqual(Float32Array.from(w.dataSync()), start[i]));
    assert.deepEqual(result.fidelityAfter, result.fidelityBefore);
  });

  it('is deterministic for a seed', async () => {
    const run = async () => {
      const student = classifier(7);
      const result = await distill(classifier(6), student, floatData(120), { epochs: 2, learningRate: 3e-3, seed: 5 });
      return { loss: result.history.map((h) => h.validationLoss), weights: [...result.weights.values()].map((w) => Array.from(w)) };
    };
    assert.deepEqual(await run(), await run());
  });

  it('scheduledRate warms up linearly, peaks, and decays to 0 by the last step', () => {
    const total = 100;
    const rates = Array.from({ length: total }, (_, s) => scheduledRate(1, s, total));
    assert.ok(rates[0] > 0 && rates[0] < 0.2);
    for (let s = 1; s < 10; s++) assert.ok(rates[s] > rates[s - 1], `warm-up step ${s}`);
    assert.ok(Math.max(...rates) <= 1 && Math.max(...rates) > 0.95);
    for (let s = 11; s < total; s++) assert.ok(rates[s] < rates[s - 1], `decay step ${s}`);
    assert.ok(rates[total - 1] < 0.01);
    assert.equal(scheduledRate(0.5, 3, total, 'constant'), 0.5);
  });

  it('rejects a label weight on an output that is not a softmax', async () => {
    const regress = () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ units: 3, inputShape: [16], kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }));
      return m;
    };
    const data = { ...floatData(40), labels: new Int32Array(40), labelShape: [] };
    await assert.rejects(distill(regress(), regress(), data, { epochs: 1, labelWeight: 0.5 }), /--label-weight 0\.5: .*softmax/);
  });

  it('shuffleDataset permutes examples and labels together', () => {
    const data: Dataset = {
      path: 'x', format: 'json', count: 5,
      inputs: [{ name: 'x', shape: [2], dtype: 'float32', values: Float32Array.from([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]) }],
      labels: Int32Array.from([0, 1, 2, 3, 4]), labelShape: [],
    };
    const s = shuffleDataset(data, 3);
    for (let i = 0; i < 5; i++) assert.equal(s.inputs[0].values[2 * i], s.labels![i]);
    assert.deepEqual([...s.labels!].sort(), [0, 1, 2, 3, 4]);
  });
});
