import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { repoRoot, tempDir } from '../helpers.js';
import { accuracyOn, loadStock, runHmf } from './run.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp');
const embed = join(repoRoot, 'fixtures', 'sentiment-embed');

function readMeta(dir: string): { testAccuracy: number } {
  return JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { testAccuracy: number };
}

for (const fixture of [mlp, embed]) {
  for (const method of ['hmf', 'lmf', 'prune']) {
    test(`compress ${fixture.split('/').pop()} -m ${method} -f 4: exit 0, 4x on targets, stock TF.js loads it`, async () => {
      await initBackend('wasm');
      const out = join(tempDir(), 'out');
      // --objective size: the plan's timing is test/cli/plan.test.ts's; here the factor is checked to 3%.
      const r = await runHmf(['compress', join(fixture, 'model.json'), '-f', '4', '-m', method, '-o', out, '--json', '--runs', '2', '--probes', '32', '--objective', 'size']);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as Report;
      assert.equal(report.options.method, method);
      assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03, `targeted factor ${report.totals.targeted.factor}`);
      assert.ok(report.matrices.length >= 1);
      // The planner may keep a matrix dense (the budget does more elsewhere, or it would slow the model down): then it says why.
      assert.ok(report.matrices.some((m) => m.method === method), JSON.stringify(report.matrices.map((m) => m.method)));
      assert.ok(report.matrices.every((m) => m.method === method || (m.method === 'dense' && m.note)), JSON.stringify(report.matrices.map((m) => [m.method, m.note])));
      assert.ok(report.totals.bytes.after.raw > 0 && report.totals.bytes.after.gzip > 0);
      assert.ok(method === 'prune' ? report.totals.bytes.after.gzip < report.totals.bytes.before.gzip : report.totals.bytes.after.raw < report.totals.bytes.before.raw);
      assert.equal(report.latency?.batches.length, 2);
      // The work ran on the threaded wasm build (one thread per core, up to 4); latency was timed on one thread, as stock TF.js runs wasm.
      assert.equal(report.context.threads, Math.min(availableParallelism(), 4));
      assert.equal(report.latency?.threads, 1);
      for (const b of report.latency!.batches) assert.ok(b.original.medianMs > 0 && b.compressed.medianMs > 0 && b.speedup > 0);
      assert.equal(report.fidelity.outputs.length, 1);
      const f = report.fidelity.outputs[0];
      assert.ok(f.relativeError >= 0 && f.relativeError < 1, `relative output error ${f.relativeError}`);
      assert.ok(f.klDivergence !== null, 'softmax output gets a KL divergence');
      // report.json in the output folder is the same report.
      const onDisk = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
      assert.deepEqual(onDisk.totals.targeted, report.totals.targeted);
      // Stock TF.js loads and runs it, and it still classifies.
      const model = await loadStock(join(out, 'model.json'));
      const accuracy = accuracyOn(model, join(fixture, 'test.json'));
      const original = readMeta(fixture).testAccuracy;
      assert.ok(accuracy > 0.55, `held-out accuracy ${accuracy} (original ${original})`);
      model.dispose();
    });
  }
}

test('the same command twice gives byte-identical model files', async () => {
  const base = tempDir();
  for (const name of ['a', 'b']) {
    const r = await runHmf(['compress', join(mlp, 'model.json'), '-f', '4', '-o', join(base, name), '--no-bench', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  }
  const files = readdirSync(join(base, 'a')).filter((f) => f !== 'report.json').sort();
  assert.deepEqual(files, readdirSync(join(base, 'b')).filter((f) => f !== 'report.json').sort());
  assert.ok(files.includes('model.json'));
  for (const f of files) assert.ok(readFileSync(join(base, 'a', f)).equals(readFileSync(join(base, 'b', f))), `${f} differs`);
});

test('one wasm thread or several: byte-identical model files and the same fidelity (HMF on the GRU fixture)', async () => {
  const base = tempDir();
  const gru = join(repoRoot, 'fixtures', 'sentiment-gru', 'model.json');
  const reports: Report[] = [];
  for (const threads of ['1', '2']) {
    const r = await runHmf(['compress', gru, '-f', '4', '-o', join(base, threads), '--no-bench', '--json'], { env: { HMF_WASM_THREADS: threads } });
    assert.equal(r.code, 0, r.stderr);
    reports.push(JSON.parse(r.stdout) as Report);
  }
  assert.deepEqual(reports.map((r) => r.context.threads), [1, 2]);
  assert.deepEqual(reports[0].fidelity, reports[1].fidelity);
  const files = readdirSync(join(base, '1')).filter((f) => f !== 'report.json').sort();
  assert.deepEqual(files, readdirSync(join(base, '2')).filter((f) => f !== 'report.json').sort());
  for (const f of files) assert.ok(readFileSync(join(base, '1', f)).equals(readFileSync(join(base, '2', f))), `${f} differs`);
});

test('on a terminal of zero columns (an unsized pty) the run ends normally, without a spinner', { skip: spawnSync('script', ['--version']).status !== 0 && 'needs util-linux script' }, () => {
  const out = join(tempDir(), 'out');
  const command = [process.execPath, join(repoRoot, 'bin', 'hmf.js'), 'compress', join(mlp, 'model.json'), '-o', out, '--no-bench'].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qc', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(r.signal, null, 'hmf did not end (killed by the timeout)');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /backend wasm/);
  assert.ok(existsSync(join(out, 'model.json')));
});

test('HMF_LATENCY_THREADS times latency on more threads, and the reports say so', async () => {
  const out = join(tempDir(), 'out');
  // --objective size: the layer micro-benchmarks would run on 2 threads too, not what this test is about.
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-o', out, '--runs', '2', '--objective', 'size', '--report', join(out, '..', 'r.md')], { env: { HMF_LATENCY_THREADS: '2' } });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  const expected = Math.min(2, report.context.threads);
  assert.equal(report.latency?.threads, expected);
  assert.match(r.stdout, new RegExp(`2 runs, ${expected} threads?`));
  assert.match(readFileSync(join(out, '..', 'r.md'), 'utf8'), new RegExp(`on ${expected} threads?\\.`));
});

test('a bad HMF_WASM_THREADS or HMF_LATENCY_THREADS: exit 2 naming the variable, nothing written; --help lists both', async () => {
  const base = tempDir();
  for (const [name, value] of [['HMF_WASM_THREADS', 'two'], ['HMF_LATENCY_THREADS', '0']]) {
    const out = join(base, name);
    const r = await runHmf(['compress', join(mlp, 'model.json'), '-o', out, '--no-bench'], { env: { [name]: value } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${name}: expected a positive integer.*"${value}"`));
    assert.ok(!existsSync(out), 'no output folder');
  }
  const help = await runHmf(['compress', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /HMF_WASM_THREADS=n/);
  assert.match(help.stdout, /HMF_LATENCY_THREADS=n/);
});

test('--no-bench skips latency; --report writes markdown; default output folder is beside the model', async () => {
  const dir = tempDir();
  const model = join(dir, 'mlp');
  cpSync(mlp, model, { recursive: true });
  const md = join(dir, 'report.md');
  const r = await runHmf(['compress', join(model, 'model.json'), '-m', 'lmf', '--no-bench', '--report', md]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /targeted params/);
  assert.match(r.stdout, /not measured \(--no-bench\)/);
  assert.ok(existsSync(join(dir, 'mlp-lmf-x4', 'model.json')));
  const report = JSON.parse(readFileSync(join(dir, 'mlp-lmf-x4', 'report.json'), 'utf8')) as Report;
  assert.equal(report.latency, null);
  assert.match(readFileSync(md, 'utf8'), /^# hmf report: lmf x4/);
});

test('HMF keeps no worse weight error than LMF on every fixture matrix', async () => {
  const base = tempDir();
  const reports: Record<string, Report> = {};
  for (const method of ['hmf', 'lmf']) {
    const r = await runHmf(['compress', join(mlp, 'model.json'), '-m', method, '-o', join(base, method), '--no-bench', '--json', '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    reports[method] = JSON.parse(r.stdout) as Report;
  }
  for (const row of reports.hmf.matrices) {
    const lmfRow = reports.lmf.matrices.find((m) => m.weight === row.weight)!;
    assert.ok(row.relativeError <= lmfRow.relativeError + 1e-6, `${row.weight}: hmf ${row.relativeError} > lmf ${lmfRow.relativeError}`);
  }
});

// ---- bad input: documented exit code, a message naming the problem, and no output folder ----

interface BadCase {
  name: string;
  code: number;
  message: RegExp;
  /** Prepare a broken copy of the fixture in `dir`; returns the arguments. */
  setup(dir: string): string[];
}

function brokenCopy(dir: string): string {
  const model = join(dir, 'model');
  cpSync(mlp, model, { recursive: true });
  return model;
}

function editJson(model: string, edit: (json: Record<string, unknown> & { weightsManifest: { paths: string[]; weights: { name: string }[] }[] }) => void): void {
  const file = join(model, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json));
}

const badCases: BadCase[] = [
  {
    name: 'malformed JSON',
    code: 3,
    message: /model\.json.*JSON/i,
    setup(dir) {
      const model = brokenCopy(dir);
      writeFileSync(join(model, 'model.json'), '{"modelTopology": {');
      return ['compress', join(model, 'model.json')];
    },
  },
  {
    name: 'missing shard',
    code: 3,
    message: /group1-shard1of1\.bin/,
    setup(dir) {
      const model = brokenCopy(dir);
      rmSync(join(model, 'group1-shard1of1.bin'));
      return ['compress', join(model, 'model.json')];
    },
  },
  {
    name: 'short shard',
    code: 3,
    message: /group1-shard1of1\.bin.*bytes/,
    setup(dir) {
      const model = brokenCopy(dir);
      const shard = join(model, 'group1-shard1of1.bin');
      truncateSync(shard, statSync(shard).size - 100);
      return ['compress', join(model, 'model.json')];
    },
  },
  {
    name: 'weight path escaping the model folder',
    code: 3,
    message: /\.\.\/outside\.bin/,
    setup(dir) {
      const model = brokenCopy(dir);
      cpSync(join(model, 'group1-shard1of1.bin'), join(dir, 'outside.bin'));
      editJson(model, (j) => (j.weightsManifest[0].paths = ['../outside.bin']));
      return ['compress', join(model, 'model.json')];
    },
  },
  {
    name: 'NaN weight',
    code: 3,
    message: /hidden1\/kernel|NaN/,
    setup(dir) {
      const model = brokenCopy(dir);
      const shard = join(model, 'group1-shard1of1.bin');
      const bytes = readFileSync(shard);
      bytes.writeFloatLE(NaN, 40);
      writeFileSync(shard, bytes);
      return ['compress', join(model, 'model.json')];
    },
  },
  { name: '--factor 1', code: 2, message: /--factor/, setup: (dir) => ['compress', join(brokenCopy(dir), 'model.json'), '--factor', '1'] },
  { name: '--factor 0.5', code: 2, message: /--factor/, setup: (dir) => ['compress', join(brokenCopy(dir), 'model.json'), '--factor', '0.5'] },
  { name: '--factor abc', code: 2, message: /--factor.*abc/, setup: (dir) => ['compress', join(brokenCopy(dir), 'model.json'), '--factor', 'abc'] },
  { name: 'unknown method', code: 2, message: /--method|method/, setup: (dir) => ['compress', join(brokenCopy(dir), 'model.json'), '-m', 'svd'] },
  { name: 'unknown flag', code: 2, message: /--frobnicate/, setup: (dir) => ['compress', join(brokenCopy(dir), 'model.json'), '--frobnicate'] },
  { name: 'missing model file', code: 3, message: /nope\.json/, setup: (dir) => ['compress', join(dir, 'nope.json')] },
];

for (const c of badCases) {
  test(`bad input: ${c.name} -> exit ${c.code}, message, no output`, async () => {
    const dir = tempDir();
    const args = c.setup(dir);
    const out = join(dir, 'out');
    const r = await runHmf([...args, '-o', out, '--no-bench']);
    assert.equal(r.code, c.code, `stderr: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace without --verbose');
    assert.equal(r.stdout, '');
    assert.ok(!existsSync(out), 'no output folder');
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.hmf-')), [], 'no temporary folder left');
  });
}

test('non-empty --out without --force: exit 2, folder untouched; with --force it is replaced', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-o', out, '--no-bench']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--force/);
  assert.deepEqual(readdirSync(out), ['keep.txt']);
  const forced = await runHmf(['compress', join(mlp, 'model.json'), '-o', out, '--no-bench', '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok(existsSync(join(out, 'model.json')));
  assert.ok(!existsSync(join(out, 'keep.txt')));
});
