import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PROBES, defaultProbeCount, MIN_DEFAULT_PROBES, PROBE_WORK, probeSteps } from '../../src/measure/probes.js';

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
