import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBudgets, matrixBudget, unreachableReason } from '../../src/plan/budget.js';

const shapes = [
  [4000, 64],
  [64, 64],
  [2000, 256],
  [256, 128],
  [650, 2600],
  [10000, 650],
];

test('low-rank plans: whole rank steps, never as large as the matrix, total within 3% of the factor', () => {
  for (const factor of [2, 3, 4, 8, 16]) {
    for (let start = 0; start < shapes.length; start++) {
      const ms = shapes.slice(start).map(([rows, cols]) => ({ rows, cols }));
      const plans = planBudgets(ms, factor, 'lmf');
      let before = 0;
      let after = 0;
      ms.forEach((m, i) => {
        const p = plans[i];
        before += m.rows * m.cols;
        if (p.budget === null) {
          after += m.rows * m.cols;
          assert.ok(p.reason && unreachableReason(m, factor, 'lmf'));
          return;
        }
        assert.equal(p.budget % (m.rows + m.cols), 0);
        assert.ok(p.budget >= m.rows + m.cols && p.budget < m.rows * m.cols);
        after += p.budget;
      });
      if (plans.every((p) => p.budget !== null) && ms.length > 1) {
        assert.ok(Math.abs(before / after - factor) / factor <= 0.03, `factor ${factor} from ${start}: ${before / after}`);
      }
    }
  }
});

test('an Embedding-sized step that floor() would overshoot by 5% lands within 3%', () => {
  const ms = [{ rows: 4000, cols: 64 }, { rows: 64, cols: 64 }];
  const floorTotal = ms.reduce((s, m) => s + Math.floor(matrixBudget(m, 4) / (m.rows + m.cols)) * (m.rows + m.cols), 0);
  const full = ms.reduce((s, m) => s + m.rows * m.cols, 0);
  assert.ok(full / floorTotal > 4 * 1.03, 'the naive plan misses');
  const total = planBudgets(ms, 4, 'hmf').reduce((s, p) => s + (p.budget ?? 0), 0);
  assert.ok(Math.abs(full / total - 4) / 4 <= 0.03, `planned factor ${full / total}`);
});

test('pruning budgets are floor(nm/f); unreachable matrices carry a reason', () => {
  const plans = planBudgets([{ rows: 100, cols: 50 }], 4, 'prune');
  assert.deepEqual(plans, [{ budget: 1250, reason: null }]);
  const tiny = planBudgets([{ rows: 100, cols: 2 }], 80, 'lmf')[0];
  assert.equal(tiny.budget, null);
  assert.match(tiny.reason!, /rank-1 factors need 102 parameters/);
});
