import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabelScore } from '../../src/data/index.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('LabelScore', () => {
  it('probabilities: accuracy and mean -log p(label) over batches', () => {
    const s = new LabelScore('classification', 2);
    s.add(Float32Array.from([0.9, 0.1, 0.2, 0.8]), Int32Array.from([0, 0]));
    s.add(Float32Array.from([0.4, 0.6]), Int32Array.from([1]));
    const r = s.result();
    assert.equal(r.outputs, 'probabilities');
    assert.equal(r.positions, 3);
    close(r.accuracy, 2 / 3, 1e-12);
    close(r.crossEntropy, -(Math.log(0.9) + Math.log(0.2) + Math.log(0.6)) / 3);
    assert.equal(r.perplexity, null);
  });

  it('logits: log-softmax', () => {
    const s = new LabelScore('classification', 3);
    s.add(Float32Array.from([2, -1, 0.5]), Int32Array.from([2]));
    const r = s.result();
    assert.equal(r.outputs, 'logits');
    assert.equal(r.accuracy, 0);
    close(r.crossEntropy, Math.log(Math.exp(2) + Math.exp(-1) + Math.exp(0.5)) - 0.5);
  });

  it('sequences: per-step cross-entropy and perplexity = exp(mean CE)', () => {
    const s = new LabelScore('sequence', 2);
    s.add(Float32Array.from([0.5, 0.5, 0.25, 0.75]), Int32Array.from([0, 1]));
    const r = s.result();
    close(r.crossEntropy, -(Math.log(0.5) + Math.log(0.75)) / 2);
    close(r.perplexity!, Math.exp(r.crossEntropy), 1e-12);
    // Arg-max ties go to the first index.
    assert.equal(r.accuracy, 1);
  });

  it('a single sigmoid unit: p >= 0.5 is class 1; outside [0, 1] it is a logit', () => {
    const p = new LabelScore('classification', 1);
    p.add(Float32Array.from([0.7, 0.3, 0.6]), Int32Array.from([1, 0, 0]));
    close(p.result().accuracy, 2 / 3, 1e-12);
    close(p.result().crossEntropy, -(Math.log(0.7) + Math.log(0.7) + Math.log(0.4)) / 3);
    const z = new LabelScore('classification', 1);
    z.add(Float32Array.from([2, -3, 0.4]), Int32Array.from([1, 0, 0]));
    assert.equal(z.result().outputs, 'logits');
    close(z.result().accuracy, 2 / 3, 1e-12);
    const sp = (x: number) => Math.log1p(Math.exp(x));
    close(z.result().crossEntropy, (sp(-2) + sp(-3) + sp(0.4)) / 3);
  });

  it('a zero probability counts as 1e-12, not infinity', () => {
    const s = new LabelScore('classification', 2);
    s.add(Float32Array.from([1, 0]), Int32Array.from([1]));
    close(s.result().crossEntropy, -Math.log(1e-12));
  });
});
