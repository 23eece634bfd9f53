import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTO_FACTORS, hasGate, judge, searchFactor, type Trial } from '../../src/plan/auto.js';
import { fidelityWarnings, latencyWarnings } from '../../src/plan/quality.js';

const fidelity = (relativeError: number, top1Agreement: number) => [{ output: 'y', relativeError, top1Agreement, klDivergence: null }];

test('factor search: the largest factor that passes, in about log2 of the list trials', async () => {
  for (const limit of [1, 1.5, 3, 7, 16, 64, 100]) {
    const asked: number[] = [];
    const { chosen, tried } = await searchFactor(async (f) => {
      asked.push(f);
      return judge(f, { maxError: 0.5 }, fidelity(f / limit / 2, 1), null);
    });
    const expected = [...AUTO_FACTORS].reverse().find((f) => f <= limit) ?? null;
    assert.equal(chosen?.factor ?? null, expected, `limit ${limit}`);
    assert.ok(tried.length <= Math.ceil(Math.log2(AUTO_FACTORS.length + 1)), `${tried.length} trials`);
    assert.deepEqual(tried.map((t) => t.factor), asked);
  }
});

test('judge: each gate, and the first bound a candidate misses', () => {
  const metrics = { accuracy: 0.8, crossEntropy: 0.5, perplexity: 9, examples: 10 } as unknown as Parameters<typeof judge>[3];
  assert.equal(judge(4, { maxError: 0.2 }, fidelity(0.1, 0.99), null).passed, true);
  assert.match(judge(4, { maxError: 0.2 }, fidelity(0.3, 0.99), null).reason!, /relative output error 0.3000 > 0.2/);
  assert.match(judge(4, { minAgreement: 0.95 }, fidelity(0.1, 0.9), null).reason!, /top-1 agreement 0.9000 < 0.95/);
  assert.match(judge(4, { minAccuracy: 0.85 }, fidelity(0.1, 0.9), metrics).reason!, /accuracy 0.8000 < 0.85/);
  assert.match(judge(4, { maxPerplexity: 8 }, fidelity(0.1, 0.9), metrics).reason!, /perplexity 9.000 > 8/);
  const t: Trial = judge(4, { minAccuracy: 0.5, maxPerplexity: 10 }, fidelity(0.1, 0.9), metrics);
  assert.equal(t.passed, true);
  assert.equal(t.accuracy, 0.8);
  assert.equal(hasGate({}), false);
  assert.equal(hasGate({ maxPerplexity: 3 }), true);
});

test('quality warnings: poor fidelity names the next steps that were not taken', () => {
  const ctx = { factor: 4, calibrated: false, finetuned: false, source: 'generated' as const };
  assert.deepEqual(fidelityWarnings(fidelity(0.1, 0.95), ctx), []);
  const [w] = fidelityWarnings(fidelity(0.4, 0.64), ctx);
  assert.match(w, /fidelity is poor at factor 4 \(y: top-1 agreement 64.0%, relative output error 0.400/);
  assert.match(w, /--calibration .*--finetune .*--factor auto --min-agreement 0.9/);
  const [tuned] = fidelityWarnings(fidelity(0.31, 0.95), { ...ctx, calibrated: true, finetuned: true });
  assert.doesNotMatch(tuned, /--calibration|--finetune data/);
  assert.match(tuned, /a lower factor/);
});

test('latency warnings: only batches slower beyond noise, with the next step', () => {
  const b = (verdict: 'slower' | 'faster' | 'within noise', speedup: number) => ({
    batch: 32,
    original: { medianMs: 10, p10Ms: 9, p90Ms: 11 },
    compressed: { medianMs: 10 / speedup, p10Ms: 9, p90Ms: 14 },
    speedup,
    runs: 30,
    verdict,
  });
  assert.deepEqual(latencyWarnings([b('within noise', 0.97), b('faster', 2)], 'balanced'), []);
  const [w] = latencyWarnings([b('slower', 0.8)], 'size');
  assert.match(w, /slower than the original at batch 32: 1.25x the time .*--objective size/);
});
