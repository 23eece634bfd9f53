import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { DEFAULT_PROBES, defaultProbeCount, graphMacs, layersMacs, MIN_DEFAULT_PROBES, PROBE_WORK } from '../../src/measure/probes.js';

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

describe('graphMacs', () => {
  it('applies every weight of rank >= 2 at every input position (pixels, or token positions); biases are not counted', () => {
    const shapes = [[3, 3, 3, 16], [16], [64, 10]];
    assert.equal(graphMacs(shapes, [{ name: 'x', shape: [32, 32, 3], dtype: 'float32' }]), (3 * 3 * 3 * 16 + 64 * 10) * 32 * 32);
    assert.equal(graphMacs([[2000, 64], [64, 2]], [{ name: 'x', shape: [2000], dtype: 'float32' }]), 2000 * 64 + 64 * 2);
    assert.equal(graphMacs([[100, 8]], [{ name: 'ids', shape: [35], dtype: 'int32', vocab: 2 }]), 100 * 8 * 35);
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
