import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', name, 'model.json');

test('default compress: the plan in the report (sensitivities, the cost model checked, layer timings) and on the terminal', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', fixture('sentiment-gru'), '-o', out, '--no-bench', '--probes', '32']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  const plan = report.plan!;
  assert.equal(plan.allocate, 'global');
  assert.equal(plan.objective, 'balanced');
  assert.equal(plan.sensitivity!.matrices.length, report.matrices.length);
  assert.ok(plan.sensitivity!.matrices.every((s) => s.value >= 0 && s.outputError2 >= 0));
  assert.ok(plan.sensitivity!.predictedOutputError > 0 && plan.sensitivity!.measuredOutputError > 0);
  // Every layer holding a factorized matrix was timed at batch 1 and 32 against its dense form.
  const factorized = new Set(report.matrices.filter((m) => m.method !== 'dense').map((m) => m.layer));
  for (const layer of factorized) {
    const timed = plan.latency.find((l) => l.layer === layer);
    assert.ok(timed, `layer ${layer} timed`);
    assert.deepEqual(timed.batches.map((b) => b.batch), [1, 32]);
  }
  assert.deepEqual(plan.predictedLatency.map((p) => p.batch), [1, 32]);
  // The budget is spread unevenly: the matrices do not all get the same factor.
  const factors = report.matrices.map((m) => m.paramsBefore / m.paramsAfter);
  assert.ok(Math.max(...factors) / Math.min(...factors) > 1.5, factors.join(', '));
  assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03);
  assert.match(r.stdout, /plan +budget spread where it costs the output least \(--allocate global\), objective balanced/);
  assert.match(r.stdout, /sensitivity on \d+ generated probes: .* predicted output error \d\.\d+, measured \d\.\d+/);
  assert.match(r.stdout, / factor /);
});

test('--allocate uniform --objective size: the same factor for each matrix, nothing timed', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', fixture('sentiment-gru'), '-o', out, '--no-bench', '--allocate', 'uniform', '--objective', 'size', '--json', '-q']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as Report;
  assert.equal(report.plan!.sensitivity, null);
  assert.deepEqual(report.plan!.latency, []);
  assert.equal(report.plan!.benchmarks.count, 0);
  for (const m of report.matrices) assert.ok(Math.abs(m.paramsBefore / m.paramsAfter - 4) / 4 < 0.1, `${m.weight}: ${m.paramsBefore / m.paramsAfter}`);
});

test('HMF with no dense outputs anywhere says it is identical to LMF, and why', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', fixture('sentiment-mlp'), '-o', out, '--no-bench', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  assert.ok(report.matrices.every((m) => m.denseOutputs === 0));
  assert.match(report.plan!.identicalToLmf ?? '', /dense outputs/);
  assert.match(r.stdout, /identical to LMF: no matrix kept dense outputs/);
});

test('the char LM at x4 with no data: a fidelity warning on stderr and in the report, naming the next steps', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', fixture('char-lstm'), '-o', out, '--no-bench', '--probes', '32', '--allocate', 'uniform', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  const warning = report.warnings.find((w) => w.startsWith('fidelity is poor'));
  assert.ok(warning, JSON.stringify(report.warnings));
  assert.match(warning, /--calibration .*--finetune .*--factor auto/);
  assert.match(r.stderr, /hmf: warning: fidelity is poor at factor 4/);
});

test('--factor auto --min-agreement 0.95: the largest factor that passes, the factors tried in the report', async () => {
  const dir = tempDir();
  const model = join(dir, 'sentiment-mlp', 'model.json');
  // A copy of the model, so that the default output folder (beside it) is in the temp folder.
  mkdirSync(join(dir, 'sentiment-mlp'));
  for (const f of readdirSync(join(repoRoot, 'fixtures', 'sentiment-mlp'))) {
    if (f === 'model.json' || f.endsWith('.bin')) copyFileSync(join(repoRoot, 'fixtures', 'sentiment-mlp', f), join(dir, 'sentiment-mlp', f));
  }
  const r = await runHmf(['compress', model, '-f', 'auto', '--min-agreement', '0.95', '--no-bench', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  const out = join(dir, 'sentiment-mlp-hmf-auto');
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  const auto = report.auto!;
  assert.equal(report.options.factor, auto.chosen);
  assert.ok(report.fidelity.outputs[0].top1Agreement >= 0.95);
  const passed = auto.tried.filter((t) => t.passed).map((t) => t.factor);
  const failed = auto.tried.filter((t) => !t.passed).map((t) => t.factor);
  assert.equal(auto.chosen, Math.max(...passed));
  assert.ok(failed.every((f) => f > auto.chosen));
  // The next factor up was tried and failed (or the chosen one is the largest there is).
  const next = auto.factors[auto.factors.indexOf(auto.chosen) + 1];
  assert.ok(next === undefined || failed.includes(next), `x${next} not tried`);
  assert.match(r.stdout, new RegExp(`factor auto +x${auto.chosen}, the largest of`));
});

const usage: { args: string[]; flag: RegExp }[] = [
  { args: ['-f', 'auto'], flag: /--factor auto: expected a gate/ },
  { args: ['-f', 'auto', '--min-accuracy', '0.8'], flag: /--min-accuracy: needs --eval/ },
  { args: ['-f', '4', '--min-accuracy', '0.8', '--eval', 'x.json'], flag: /--min-accuracy: only applies with --factor auto/ },
  { args: ['-f', 'auto', '--max-perplexity', '0.5', '--eval', 'x.json'], flag: /--max-perplexity/ },
  { args: ['-f', 'auto', '--min-agreement', '0.9', '--finetune', 'x.json'], flag: /--factor auto: does not fine-tune/ },
  { args: ['--allocate', 'even'], flag: /--allocate/ },
  { args: ['--objective', 'fast'], flag: /--objective/ },
  { args: ['--scope', 'global'], flag: /--scope: only applies to -m prune/ },
  { args: ['-f', 'fast'], flag: /--factor/ },
];
for (const u of usage) {
  test(`usage: ${u.args.join(' ')} -> exit 2 naming the flag, nothing written`, async () => {
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', fixture('sentiment-mlp'), '-o', out, ...u.args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, u.flag);
    assert.ok(!existsSync(out));
  });
}
