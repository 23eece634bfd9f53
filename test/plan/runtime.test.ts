import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Structure } from '../../src/model/bench.js';
import type { TargetMatrix } from '../../src/model/targets.js';
import type { MatrixDecision } from '../../src/plan/execute.js';
import { LayerTimer, type LatencySubject, type LayerTiming } from '../../src/plan/latency.js';
import type { TimingWorker } from '../../src/measure/timing.js';
import { checkLatency, type Constraints, type LayerLatencyDecision, type Timer } from '../../src/plan/runtime.js';
import { signTestP, verdictOf } from '../../src/measure/latency.js';

function target(layer: string, rows: number, cols: number, role: TargetMatrix['role'] = 'kernel'): TargetMatrix {
  return { weight: `${layer}/${role}`, layer, layerClass: 'Dense', role, rows, cols, orderAbsorbers: null };
}

function subject(layer: string, targets: TargetMatrix[]): LatencySubject {
  return { layer, targets, key: layer, build: () => { throw new Error('not built in these tests'); }, inputs: [], format: 'layers-model', scale: 1, macs: 0 };
}

/** A timer answering from a table: (layer, the first target's rank or 'dense') -> [batch 1, batch 32] candidate ms; dense takes 1 ms. */
function scripted(table: Record<string, (rank: number, role: string) => [number, number]>): Timer & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async time(s: LatencySubject, structures: ReadonlyMap<string, Structure>, batch: number): Promise<LayerTiming> {
      const parts = s.targets.map((t) => {
        const st = structures.get(t.weight);
        return st && st.kind !== 'dense' ? { role: t.role, rank: st.rank } : null;
      });
      calls.push(`${s.layer}:${parts.map((p) => (p ? p.rank : 'd')).join('/')}@${batch}`);
      const ms = parts.reduce((sum, p) => sum + (p ? table[s.layer](p.rank, p.role)[batch === 1 ? 0 : 1] - 1 : 0), 1);
      const verdict = ms > 1.02 ? 'slower' : ms < 0.98 ? 'faster' : 'within noise';
      return { batch, denseMs: 1, candidateMs: ms, verdict };
    },
  };
}

const decision = (t: TargetMatrix, rank: number): MatrixDecision => ({ budget: rank * (t.rows + t.cols), reason: null });

test('run-time check: a model no slower in sum keeps every layer, even one that is slower on its own', async () => {
  const big = target('big', 2000, 256);
  const small = target('small', 256, 128);
  const timer = scripted({ big: () => [0.5, 0.4], small: () => [1.3, 0.9] });
  const constraints: Constraints = new Map();
  const latency: LayerLatencyDecision[] = [];
  const changed = await checkLatency([subject('big', [big]), subject('small', [small])], [big, small], [decision(big, 50), decision(small, 10)], constraints, timer, [1, 32], [2, 5], latency);
  assert.equal(changed, false);
  assert.equal(constraints.size, 0);
  assert.deepEqual(latency.map((l) => l.action), ['kept', 'kept']);
});

test('run-time check: the layer adding the most time when the model would be slower gets a lower rank that is not slower', async () => {
  const a = target('a', 512, 512);
  const b = target('b', 256, 128);
  // a is slower at rank > 100 (near break-even), faster from there down; b is neutral.
  const timer = scripted({ a: (r) => [r > 100 ? 1.5 : 0.9, 1], b: () => [1, 1] });
  const constraints: Constraints = new Map();
  const latency: LayerLatencyDecision[] = [];
  const changed = await checkLatency([subject('a', [a]), subject('b', [b])], [a, b], [decision(a, 200), decision(b, 10)], constraints, timer, [1, 32], [1, 1], latency);
  assert.equal(changed, true);
  // 3/4 of 200 = 150 is still slow, 1/2 = 100 is not.
  assert.deepEqual(constraints.get('a/kernel'), { cap: 100 });
  assert.match(latency.find((l) => l.layer === 'a')!.action, /slower at batch 1 .*ranks capped \(a\/kernel: rank 100\)/);
  // The next round re-times a at its capped rank: the entry keeps saying why it was capped.
  assert.equal(await checkLatency([subject('a', [a]), subject('b', [b])], [a, b], [decision(a, 100), decision(b, 10)], constraints, timer, [1, 32], [1, 1], latency), false);
  assert.match(latency.find((l) => l.layer === 'a')!.action, /ranks capped/);
});

test('run-time check: a layer fast enough only below half its planned rank stays dense rather than losing most of its rank', async () => {
  const a = target('a', 4000, 32);
  const timer = scripted({ a: (r) => [r > 2 ? 1.5 : 1, 1] });
  const constraints: Constraints = new Map();
  await checkLatency([subject('a', [a])], [a], [decision(a, 8)], constraints, timer, [1, 32], [1, 1], []);
  assert.equal(constraints.get('a/kernel')?.cap, undefined);
  assert.match(constraints.get('a/kernel')?.dense ?? '', /kept dense: the model would be slower at batch 1/);
});

test('run-time check: a recurrent layer slower at every rank keeps its recurrent kernel dense when the input projection alone is not slower', async () => {
  const k = target('lstm', 128, 512, 'kernel');
  const r = target('lstm', 128, 512, 'recurrent_kernel');
  const timer = scripted({ lstm: (_rank, role) => (role === 'recurrent_kernel' ? [1, 1.4] : [1, 0.95]) });
  const constraints: Constraints = new Map();
  const latency: LayerLatencyDecision[] = [];
  await checkLatency([subject('lstm', [k, r])], [k, r], [decision(k, 20), decision(r, 20)], constraints, timer, [1, 32], [1, 1], latency);
  assert.match(constraints.get('lstm/recurrent_kernel')?.dense ?? '', /slower at batch 32/);
  assert.equal(constraints.get('lstm/kernel'), undefined);
  assert.match(latency[0].action, /recurrent kernels kept dense, the input kernels factorized/);
});

test('run-time check: a layer slower at every rank and variant stays dense, with the reason', async () => {
  const t = target('tiny', 130, 64);
  const timer = scripted({ tiny: () => [1.3, 1.2] });
  const constraints: Constraints = new Map();
  const latency: LayerLatencyDecision[] = [];
  await checkLatency([subject('tiny', [t])], [t], [decision(t, 11)], constraints, timer, [1, 32], [1, 1], latency);
  assert.match(constraints.get('tiny/kernel')?.dense ?? '', /kept dense: the model would be slower at batch 1/);
});

test('run-time check: a slowdown within 2% of the whole model is noise', async () => {
  const t = target('x', 256, 128);
  // +0.3 ms on a layer, but the model takes 20 ms at each batch.
  const timer = scripted({ x: () => [1.3, 1.3] });
  const constraints: Constraints = new Map();
  assert.equal(await checkLatency([subject('x', [t])], [t], [decision(t, 10)], constraints, timer, [1, 32], [20, 20], []), false);
  assert.equal(await checkLatency([subject('x', [t])], [t], [decision(t, 10)], constraints, timer, [1, 32], [10, 10], []), true);
});

test('verdict: a sign test on interleaved pairs plus a 2% effect', () => {
  const a = Array.from({ length: 30 }, (_, i) => 100 + (i % 7));
  assert.equal(verdictOf(a, a.map((v) => v * 1.1)), 'slower');
  assert.equal(verdictOf(a, a.map((v) => v * 0.9)), 'faster');
  // Always a little slower, but by less than 2%: no difference worth the name.
  assert.equal(verdictOf(a, a.map((v) => v * 1.01)), 'within noise');
  // Half the pairs each way: noise.
  assert.equal(verdictOf(a, a.map((v, i) => (i % 2 ? v * 1.3 : v * 0.7))), 'within noise');
  // Five pairs can never be significant at 1%.
  assert.equal(verdictOf(a.slice(0, 5), a.slice(0, 5).map((v) => v * 2)), 'within noise');
  assert.ok(Math.abs(signTestP(12, 12) - 2 / 4096) < 1e-12);
  assert.equal(signTestP(0, 0), 1);
});

test('planning budget: once spent, a layer not timed before is left untimed, planned as no change and reported as not timed', async () => {
  const worker = { time: async () => assert.fail('no micro-benchmark runs once the budget is spent') } as unknown as TimingWorker;
  const timer = new LayerTimer(worker, undefined, 0);
  const t = target('x', 256, 128);
  const latency: LayerLatencyDecision[] = [];
  assert.equal(await checkLatency([subject('x', [t])], [t], [decision(t, 10)], new Map(), timer, [1, 32], [1, 1], latency), false);
  assert.deepEqual(latency[0].batches.map((b) => b.verdict), ['not timed', 'not timed']);
  assert.equal(timer.untimed, 2);
});

test('run-time check: a large slowdown counts even when the sign test is inconclusive (a busy machine), a small inconclusive one does not', async () => {
  const t = target('conv', 576, 128);
  const inconclusive = (ms: number): Timer => ({ time: async (_s, _st, batch) => ({ batch, denseMs: 1, candidateMs: ms, verdict: 'within noise' }) });
  const constraints: Constraints = new Map();
  assert.equal(await checkLatency([subject('conv', [t])], [t], [decision(t, 20)], constraints, inconclusive(4.9), [1], [10], []), true);
  assert.match(constraints.get('conv/kernel')?.dense ?? '', /slower at batch 1/);
  assert.equal(await checkLatency([subject('conv', [t])], [t], [decision(t, 20)], new Map(), inconclusive(1.05), [1], [1], []), false);
});

