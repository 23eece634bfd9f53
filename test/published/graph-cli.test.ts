/**
 * The published graph models (human-models: faceres-deep, faceres (float16), gear
 * (float16), meet) compressed through the real binary with each method at factors 2
 * and 4 (objective size: every targeted node factorized); stock tf.loadGraphModel must load
 * and execute the output. The default plan's micro-benchmarks of graph nodes: the last test. Fetched once by
 * `node dist/scripts/fetch-human-models.js` (CI does it); skipped with a message otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { HUMAN_MODELS, humanModelPath } from '../../scripts/fetch-human-models.js';
import { loadStockGraph, runHmf } from '../cli/run.js';
import { tempDir } from '../helpers.js';

for (const name of HUMAN_MODELS) {
  for (const method of ['hmf', 'lmf', 'prune']) {
    test(`published graph ${name}: hmf compress -m ${method} at x2 and x4; stock loadGraphModel executes it`, async (t) => {
      const path = humanModelPath(name);
      if (!existsSync(path)) return t.skip(`${path} is absent; fetch it once with "npm run build && node dist/scripts/fetch-human-models.js"`);
      await initBackend('wasm');
      for (const factor of [2, 4]) {
        const out = join(tempDir(), 'out');
        const r = await runHmf(['compress', path, '-m', method, '-f', String(factor), '-o', out, '--no-bench', '--probes', '1', '--json', '--quiet', '--objective', 'size']);
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as Report;
        assert.ok(report.matrices.length > 0);
        assert.ok(Math.abs(report.totals.targeted.factor - factor) / factor <= 0.03, `x${factor}: ${report.totals.targeted.factor}`);
        // With their convolutions compressed, these convnets' outputs move a lot on generated probes (faceres's
        // descriptor: 2.6% relative error with 2% of its smallest weights pruned, about 1 at x2; pruning x4 breaks
        // it): fidelity must be measured, its size is the report's business. Exactness: test/published/graph.test.ts.
        for (const o of report.fidelity.outputs) assert.ok(Number.isFinite(o.relativeError) && Number.isFinite(o.top1Agreement), `${o.output}: ${o.relativeError}`);
        // Smaller: fewer stored bytes for factorizations; pruned zeros show in gzip.
        const size = method === 'prune' ? 'gzip' : 'raw';
        assert.ok(report.totals.bytes.after[size] < report.totals.bytes.before[size], `${size} bytes did not shrink`);
        const model = await loadStockGraph(join(out, 'model.json'));
        const inputs = model.inputs.map((i) => tf.zeros((i.shape ?? []).map((d) => (d === -1 || d == null ? 1 : d)), i.dtype));
        const y = model.execute(inputs.length === 1 ? inputs[0] : inputs);
        for (const tensor of Array.isArray(y) ? y : [y]) assert.ok(tensor.dataSync().every(Number.isFinite));
        tf.dispose([...inputs, ...(Array.isArray(y) ? y : [y])]);
        model.dispose();
        const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { format: string };
        assert.equal(json.format, 'graph-model');
      }
    });
  }
}

test('published graph faceres-deep, default plan: its convolutions are timed node by node at the model\'s input size (batch 1), and what it changed for speed is in the report', async (t) => {
  const path = humanModelPath('faceres-deep');
  if (!existsSync(path)) return t.skip(`${path} is absent; fetch it once with "npm run build && node dist/scripts/fetch-human-models.js"`);
  const r = await runHmf(['compress', path, '-f', '2', '-o', join(tempDir(), 'out'), '--no-bench', '--probes', '1', '--json', '--quiet']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  const plan = report.plan!;
  assert.ok(plan.latency.length > 0, 'graph nodes timed');
  assert.ok(plan.latency.every((l) => l.batches.length === 2 && l.batches.every((b) => b.denseMs >= 0)));
  assert.ok(plan.notes.some((n) => /timed at batch 1 only/.test(n)), plan.notes.join('\n'));
  // Every layer the timings flagged was changed (a lower-latency variant or dense), and its row says so.
  for (const l of plan.latency.filter((x) => x.action !== 'kept')) assert.match(l.action, /slower at batch/);
  assert.ok(Math.abs(report.totals.targeted.factor - 2) / 2 <= 0.03, `x2: ${report.totals.targeted.factor}`);
});

