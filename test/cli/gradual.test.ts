import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { repoRoot, tempDir } from '../helpers.js';
import { loadStock, runHmf } from './run.js';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await initBackend();
});

const fixture = join(repoRoot, 'fixtures', 'intent-mlp');
const model = join(fixture, 'model.json');
const data = join(dir, 'train.json');
const real = JSON.parse(readFileSync(join(fixture, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
writeFileSync(data, JSON.stringify({ inputs: real.inputs.slice(0, 100), labels: real.labels.slice(0, 100) }));

async function nonZeros(folder: string, weight: string): Promise<number> {
  const m = await loadStock(join(folder, 'model.json'));
  const values = m.weights.find((w) => w.originalName === weight)!.read().dataSync();
  m.dispose();
  return values.filter((v) => v !== 0).length;
}

describe('hmf compress -m prune --prune-schedule gradual through the binary', () => {
  for (const scope of ['layer', 'global']) {
    test(`--scope ${scope}: reaches the factor exactly; the report gives the schedule and the sparsity per epoch`, async () => {
      const out = join(dir, `gradual-${scope}`);
      const r = await runHmf([
        'compress', model, '-m', 'prune', '-f', '4', '--scope', scope, '--min-params', '100', '--prune-schedule', 'gradual',
        '--finetune', data, '--epochs', '3', '-o', out, '--json', '--no-bench', '--quiet',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.options.pruneSchedule, 'gradual');
      const before = report.totals.targeted.paramsBefore;
      assert.equal(before, 130 * 64 + 64 * 2);
      assert.equal(report.totals.targeted.paramsAfter, Math.floor(before / 4));
      const counted = (await nonZeros(out, 'hidden/kernel')) + (await nonZeros(out, 'output/kernel'));
      assert.equal(counted, report.totals.targeted.paramsAfter);
      const g = report.finetune!.gradual!;
      assert.ok(g.endStep < g.totalSteps);
      assert.equal(g.endStep, Math.round(g.totalSteps * 0.3));
      const last = report.finetune!.history[report.finetune!.history.length - 1];
      assert.ok(Math.abs(last.sparsity! - 0.75) < 1e-3, `final sparsity ${last.sparsity}`);
    });
  }

  test('the terminal report shows the schedule', async () => {
    const r = await runHmf(['compress', model, '-m', 'prune', '-f', '8', '--prune-schedule', 'gradual', '--finetune', data, '--epochs', '2', '-o', join(dir, 'terminal'), '--no-bench', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /gradual pruning: sparsity raised at steps 0-\d+ of \d+ \(every \d+\), then held; after each epoch [\d.]+%, 87\.5%/);
  });

  const bad: [string, string[], RegExp][] = [
    ['without --finetune', ['-m', 'prune', '--prune-schedule', 'gradual'], /--prune-schedule gradual: .*needs --finetune/],
    ['with -m hmf', ['-m', 'hmf', '--prune-schedule', 'gradual', '--finetune', data], /--prune-schedule gradual: .*needs -m prune; found -m hmf/],
    ['with a schedule hmf does not know', ['-m', 'prune', '--prune-schedule', 'cubic', '--finetune', data], /--prune-schedule/],
    ['--prune-end without gradual', ['-m', 'prune', '--prune-end', '0.3', '--finetune', data], /--prune-end: only applies with --prune-schedule gradual/],
    ['--prune-end 0', ['-m', 'prune', '--prune-schedule', 'gradual', '--prune-end', '0', '--finetune', data], /--prune-end: expected a share of the steps in \(0, 1\], found 0/],
  ];
  for (const [what, args, message] of bad) {
    test(`--prune-schedule ${what}: exit 2 naming the flags, nothing written`, async () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '')}`);
      const r = await runHmf(['compress', model, ...args, '-o', out, '--no-bench', '--quiet']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.throws(() => statSync(out));
    });
  }
});
