import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Dataset } from '../../src/data/index.js';
import { gaussianArray } from '../../src/linalg/random.js';
import { defaultSchedule, isPruningStep, keepAt, magnitudeMasks, type GradualSchedule } from '../../src/finetune/gradual.js';
import { distill } from '../../src/finetune/train.js';

before(async () => {
  await initBackend();
});

const schedule = (beginStep: number, endStep: number, frequency: number): GradualSchedule => ({ groups: [], beginStep, endStep, frequency });

describe('polynomial sparsity schedule (Zhu & Gupta, tfmot PolynomialDecay)', () => {
  it('keeps everything at the start, exactly the final count from the end step on, a cubic between', () => {
    const s = schedule(10, 110, 10);
    const [size, keep] = [1000, 250];
    assert.equal(keepAt(0, size, keep, s), size);
    assert.equal(keepAt(10, size, keep, s), size);
    assert.equal(keepAt(110, size, keep, s), keep);
    assert.equal(keepAt(500, size, keep, s), keep);
    // Halfway the sparsity is s_f (1 - (1/2)^3) = 0.75 * 7/8.
    assert.equal(keepAt(60, size, keep, s), keep + Math.round(750 / 8));
    for (let t = 1; t <= 120; t++) assert.ok(keepAt(t, size, keep, s) <= keepAt(t - 1, size, keep, s), `step ${t}`);
  });

  it('updates every `frequency` steps from the begin step and always at the end step', () => {
    const s = schedule(0, 25, 10);
    const steps = Array.from({ length: 40 }, (_, t) => t).filter((t) => isPruningStep(t, s));
    assert.deepEqual(steps, [0, 10, 20, 25]);
  });

  it('default: sparsity rises over the first 30% of the steps in about 20 updates', () => {
    const s = defaultSchedule([], 200);
    assert.deepEqual([s.beginStep, s.endStep, s.frequency], [0, 60, 3]);
    const short = defaultSchedule([], 3);
    assert.ok(short.endStep <= 2 && short.frequency >= 1);
  });

  it('magnitude masks keep exactly the count asked across a group, largest |w| first, ties in order', () => {
    const a = Float32Array.from([0.5, -3, 0.1, 2]);
    const b = Float32Array.from([-0.5, 0, 1, 0.5]);
    const [ma, mb] = magnitudeMasks([a, b], 4);
    assert.deepEqual([...ma], [1, 1, 0, 1]);
    assert.deepEqual([...mb], [0, 0, 1, 0]);
    const [m5] = magnitudeMasks([Float32Array.from([1, 1, 1, 1, 1, 1])], 5);
    assert.equal(m5.reduce((s, v) => s + v, 0), 5);
  });
});

function classifier(seed: number): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ name: 'hidden', units: 32, inputShape: [16], activation: 'relu', kernelInitializer: tf.initializers.glorotNormal({ seed }) }));
  m.add(tf.layers.dense({ name: 'out', units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: seed + 1 }) }));
  return m;
}

describe('distill with gradual pruning', () => {
  it('restarts from the dense values, ends with exactly the final count of non-zeros, and keeps no epoch before the end step', async () => {
    const teacher = classifier(1);
    const student = classifier(1);
    const dense = student.getLayer('hidden').getWeights()[0].dataSync() as Float32Array;
    // The one-shot start: the largest 128 of 512 kept.
    const [oneShot] = magnitudeMasks([dense], 128);
    student.getLayer('hidden').setWeights([tf.tensor(dense.map((v, i) => v * oneShot[i]), [16, 32]), student.getLayer('hidden').getWeights()[1]]);
    const data: Dataset = { path: 'generated', format: 'json', count: 400, inputs: [{ name: 'x', shape: [16], dtype: 'float32', values: gaussianArray(400 * 16, 5) }], labels: null, labelShape: [] };
    const result = await distill(teacher, student, data, {
      epochs: 4,
      learningRate: 1e-2,
      gradual: { groups: [{ weights: ['hidden/kernel'], keep: 128 }], dense: new Map([['hidden/kernel', dense]]), schedule: { endStep: 40, frequency: 5 } },
    });
    const steps = result.gradual!.totalSteps;
    assert.equal(steps, 4 * Math.ceil(360 / 16));
    assert.equal(result.gradual!.endStep, 40);
    // Epochs of 23 steps: the end step (40) falls in epoch 2, so epoch 1 (sparsity below the target) cannot be kept.
    assert.ok(result.history[0].sparsity! < 0.75);
    for (const h of result.history.slice(1)) assert.equal(h.sparsity, 0.75);
    assert.notEqual(result.bestEpoch, 1);
    const kernel = result.weights.get('hidden/kernel')!;
    assert.equal(kernel.filter((v) => v !== 0).length, 128);
    if (result.bestEpoch > 0) assert.ok(result.fidelityAfter[0].relativeError <= result.fidelityBefore[0].relativeError);
  });
});
