import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/backend.js';
import { DEFAULT_PROBES, defaultProbeCount, layersMacs, MIN_DEFAULT_PROBES, PROBE_WORK, probeSteps } from '../../src/measure/probes.js';

before(async () => {
  await initBackend();
});

describe('defaultProbeCount', () => {
  it('keeps DEFAULT_PROBES while they cost at most PROBE_WORK', () => {
    assert.equal(defaultProbeCount(1), DEFAULT_PROBES);
    assert.equal(defaultProbeCount(PROBE_WORK / DEFAULT_PROBES), DEFAULT_PROBES);
    assert.equal(defaultProbeCount(0), DEFAULT_PROBES);
  });

  it('lowers the count for large models, never below MIN_DEFAULT_PROBES', () => {
    assert.equal(defaultProbeCount(PROBE_WORK / 40), 40);
    assert.equal(defaultProbeCount(PROBE_WORK / 40 + 1), 39);
    assert.equal(defaultProbeCount(PROBE_WORK), MIN_DEFAULT_PROBES);
    // A PTB-medium word LM: ~13.3M multiply-adds per step of its targeted matrices, 35 steps.
    assert.equal(defaultProbeCount(650 * 2600 * 4 * 35 + 650 * 10000 * 35), 18);
  });
});

describe('probeSteps', () => {
  it('is the sequence axis of token-id or rank >= 2 inputs, else 1', () => {
    assert.equal(probeSteps([{ name: 'x', shape: [4000], dtype: 'float32' }]), 1);
    assert.equal(probeSteps([{ name: 'ids', shape: [35], dtype: 'int32', vocab: 10000 }]), 35);
    assert.equal(probeSteps([{ name: 'seq', shape: [50, 8], dtype: 'float32' }]), 50);
  });
});

describe('layersMacs', () => {
  it('counts each layer\'s parameters at every position it is applied to; lookups are free', () => {
    const conv = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, padding: 'same' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10 }),
      ],
    });
    assert.equal(layersMacs(conv), (3 * 3 * 3 * 8 + 8) * 16 * 16 + (16 * 16 * 8 * 10 + 10));
    const seq = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 100, outputDim: 8, inputLength: 12 }),
        tf.layers.simpleRNN({ units: 6, returnSequences: false }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    // The RNN runs over 12 steps although it returns only the last.
    assert.equal(layersMacs(seq), (8 * 6 + 6 * 6 + 6) * 12 + (6 * 3 + 3));
    conv.dispose();
    seq.dispose();
  });
});
