import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { allocate, lowerHull, type AllocationOption, type MatrixOptions } from '../../src/plan/allocate.js';

const opt = (params: number, cost: number, latency = 0): AllocationOption => ({ params, cost, latency });

test('allocation: the budget goes where each parameter buys the most cost', () => {
  // Matrix A's cost falls steeply with its first steps, B's barely: A gets the budget.
  const a: MatrixOptions = { options: [opt(10, 1), opt(20, 0.2), opt(30, 0.1), opt(100, 0)] };
  const b: MatrixOptions = { options: [opt(10, 0.5), opt(20, 0.45), opt(30, 0.4), opt(100, 0)] };
  const r = allocate([a, b], 50, 'size')!;
  // A's first two steps, then the rest (B's hull jumps to dense, too large) on B's best step that fits.
  assert.deepEqual(r.chosen, [2, 1]);
  assert.equal(r.params, 50);
  assert.ok(Math.abs(r.cost - 0.55) < 1e-12);
  // With room, a matrix goes dense (cost 0) when that is the best use of the parameters.
  assert.deepEqual(allocate([a, b], 130, 'size')!.chosen, [2, 3]);
});

test('allocation: null when even the smallest options exceed the budget', () => {
  assert.equal(allocate([{ options: [opt(10, 1)] }, { options: [opt(10, 1)] }], 19, 'size'), null);
  assert.deepEqual(allocate([{ options: [opt(10, 1)] }, { options: [opt(10, 1)] }], 20, 'size')!.chosen, [0, 0]);
});

test('allocation: the latency objective spends parameters where they add the least time, cost breaking ties', () => {
  // Dense (last option) is faster than the factorized forms of A; B's factorization saves time.
  const a: MatrixOptions = { options: [opt(10, 1, 0.05), opt(20, 0.5, 0.05), opt(40, 0, 0)] };
  const b: MatrixOptions = { options: [opt(10, 2, -0.2), opt(20, 1, -0.2), opt(40, 0, 0)] };
  // Size: B's error costs more, so B goes dense. Latency: A's factorized forms are slower than dense, so A does.
  assert.deepEqual(allocate([a, b], 60, 'size')!.chosen, [1, 2]);
  assert.deepEqual(allocate([a, b], 60, 'latency')!.chosen, [2, 1]);
});

test('lower hull: keeps the points on the convex lower boundary that lower the key', () => {
  const options = [opt(1, 10), opt(2, 6), opt(3, 5.5), opt(4, 2), opt(5, 3), opt(6, 0)];
  assert.deepEqual(lowerHull(options, (o) => o.cost), [0, 1, 3, 5]);
});

test('allocation property: within budget, no cheaper feasible single step left undone, at most the budget', () => {
  const curve = fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 8 }).map((steps) => {
    // Ascending params, descending cost: a cost curve.
    let p = 0;
    let c = 2;
    return { options: steps.map(([dp, dc]) => opt((p += dp), (c -= dc * 0.2))) } as MatrixOptions;
  });
  fc.assert(
    fc.property(fc.array(curve, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 600 }), (ms, budget) => {
      const r = allocate(ms, budget, 'size');
      const least = ms.reduce((s, m) => s + m.options[0].params, 0);
      if (least > budget) return r === null;
      assert.ok(r);
      assert.ok(r.params <= budget);
      assert.equal(r.params, ms.reduce((s, m, i) => s + m.options[r.chosen[i]].params, 0));
      // The result is no worse than giving every matrix its smallest option.
      assert.ok(r.cost <= ms.reduce((s, m) => s + m.options[0].cost, 0) + 1e-12);
      // Nothing left undone: no single move to a larger option fits the rest of the budget and lowers the cost.
      ms.forEach((m, t) => {
        for (let j = r.chosen[t] + 1; j < m.options.length; j++) {
          const fits = r.params - m.options[r.chosen[t]].params + m.options[j].params <= budget;
          assert.ok(!fits || m.options[j].cost >= m.options[r.chosen[t]].cost, `matrix ${t} could move to option ${j}`);
        }
      });
      return true;
    }),
    { seed: 20261205, numRuns: 300 },
  );
});
