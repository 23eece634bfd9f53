import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SweepReport } from '../../src/sweep.js';
import { markPareto, type SweepRow } from '../../src/sweep.js';
import { logTicks, niceTicks } from '../../src/report/svg.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp');

/** Tags of an XML document balance and nest; returns the element names in document order. */
function elements(xml: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const m of xml.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , selfClose] = m;
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes <${stack[stack.length] ?? 'nothing'}>`);
    } else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  assert.deepEqual(stack, [], 'every element is closed');
  return names;
}

test('hmf sweep: a row per method and factor, the Pareto front, JSON, Markdown and a well-formed SVG plot', async () => {
  const dir = tempDir();
  const plot = join(dir, 'plot.svg');
  const md = join(dir, 'sweep.md');
  const r = await runHmf([
    'sweep', join(mlp, 'model.json'), '--methods', 'hmf,prune', '--factors', '2,8', '--eval', join(mlp, 'test.json'),
    '--runs', '3', '--probes', '16', '--objective', 'size', '--plot', plot, '--report', md, '--json', '-q',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as SweepReport;
  assert.deepEqual(report.rows.map((x) => `${x.method} x${x.factor}`), ['original x1', 'hmf x2', 'hmf x8', 'prune x2', 'prune x8']);
  assert.equal(report.quality.name, 'accuracy');
  for (const row of report.rows.slice(1)) {
    assert.ok(Math.abs(row.targetedFactor! - row.factor) / row.factor <= 0.03, `${row.method} x${row.factor}: ${row.targetedFactor}`);
    assert.ok(row.bytes!.raw > 0 && row.bytes!.gzip > 0);
    assert.deepEqual(row.latency!.map((b) => b.batch), [1, 32]);
    assert.ok(row.fidelity![0].top1Agreement > 0 && row.metrics!.accuracy > 0.4);
    assert.equal(row.quality, row.metrics!.accuracy);
  }
  // Factorized rows shrink the raw bytes; pruned ones only the gzip bytes (stored dense).
  const raw = (m: string, f: number) => report.rows.find((x) => x.method === m && x.factor === f)!.bytes!;
  assert.ok(raw('hmf', 8).raw < raw('hmf', 2).raw && raw('hmf', 2).raw < report.rows[0].bytes!.raw);
  assert.ok(raw('prune', 8).gzip < raw('prune', 2).gzip);
  assert.ok(report.rows.some((x) => x.pareto));
  // The plot: two panels, a marker per row with a quality, the front joined.
  const svg = readFileSync(plot, 'utf8');
  const names = elements(svg);
  assert.equal(names[0], 'svg');
  assert.equal((svg.match(/<g class="panel"/g) ?? []).length, 2);
  assert.equal((svg.match(/class="point"/g) ?? []).length, 2 * report.rows.filter((x) => x.quality !== null).length);
  assert.match(svg, /Quality against size/);
  assert.match(svg, /accuracy \(higher is better\)/);
  const table = readFileSync(md, 'utf8');
  assert.match(table, /\| method \| factor \| reached \|/);
  assert.equal((table.match(/^\| (original|hmf|prune)/gm) ?? []).length, 5);
});

test('hmf sweep: the terminal table marks the front and names the plot', async () => {
  const dir = tempDir();
  const r = await runHmf(['sweep', join(mlp, 'model.json'), '--methods', 'lmf', '--factors', '4', '--runs', '3', '--probes', '16', '--objective', 'size', '--plot', join(dir, 'p.svg')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /method +factor +reached +raw +gzip +batch 1 +batch 32 +rel\.err +top-1/);
  assert.match(r.stdout, /^lmf +x4 +4\.\d\dx/m);
  assert.match(r.stdout, new RegExp(`plot: ${join(dir, 'p.svg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
});

const usage: { args: string[]; flag: RegExp }[] = [
  { args: ['--factors', '0.5'], flag: /--factors: expected numbers greater than 1, found 0.5/ },
  { args: ['--factors', '2,x'], flag: /--factors/ },
  { args: ['--methods', 'svd'], flag: /--methods/ },
  { args: ['--objective', 'fast'], flag: /--objective/ },
];
for (const u of usage) {
  test(`hmf sweep ${u.args.join(' ')}: exit 2 naming the flag, nothing written`, async () => {
    const plot = join(tempDir(), 'plot.svg');
    const r = await runHmf(['sweep', join(mlp, 'model.json'), '--plot', plot, ...u.args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, u.flag);
    assert.ok(!existsSync(plot));
  });
}

test('Pareto front: no other row at least as small, as fast and as good, and better in one', () => {
  const row = (method: SweepRow['method'], raw: number, ms: number, quality: number): SweepRow => ({
    method, factor: 2, unreachable: null, targetedFactor: 2, bytes: { raw, gzip: raw }, latency: [{ batch: 1, medianMs: ms, speedup: 1, verdict: 'faster' }],
    fidelity: null, metrics: null, quality, pareto: false, identicalToLmf: false, denseForSpeed: 0,
  });
  const rows = [row('original', 100, 10, 0.9), row('hmf', 50, 5, 0.88), row('lmf', 50, 5, 0.87), row('prune', 100, 10, 0.95)];
  markPareto(rows, true);
  assert.deepEqual(rows.map((r) => r.pareto), [false, true, false, true]);
  markPareto(rows, false); // lower is better (perplexity): lmf's 0.87 now wins over hmf's 0.88
  assert.deepEqual(rows.map((r) => r.pareto), [false, false, true, false]);
});

test('plot ticks: round values inside the range; log ticks at 1, 2, 5 x 10^k', () => {
  assert.deepEqual(niceTicks(0.42, 0.87).map((t) => Number(t.toFixed(12))), [0.5, 0.6, 0.7, 0.8]);
  assert.deepEqual(logTicks(Math.log10(90), Math.log10(2300)), [100, 200, 500, 1000, 2000]);
});
