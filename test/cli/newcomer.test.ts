/**
 * What a newcomer reads in the first hour, through the real binary: the headline says
 * what was reached and what stayed dense; Bidirectional rows say their direction; pruned
 * kernels' MACs say they run dense; the probe caveat; `hmf bench --vs` in words; noise
 * flagged; TF.js's own messages kept off stderr; help with examples, the environment
 * variables that matter to each command, and defaults shown alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Report } from '../../src/report/schema.js';
import { formatBytes, formatFactor, NOISE_NOTE, PROBE_CAVEAT, withinNoise } from '../../src/report/format.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { renderMarkdown } from '../../src/report/markdown.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const gru = join(repoRoot, 'fixtures', 'sentiment-gru', 'model.json');
const intent = join(repoRoot, 'fixtures', 'intent-mlp', 'model.json');

const readReport = (out: string) => JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;

test('prune on a Bidirectional GRU: the headline gives both factors reached; rows say forward/backward; pruned MACs say "run dense"; the probe caveat', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', gru, '-m', 'prune', '-o', out, '--no-bench', '--probes', '8']);
  assert.equal(r.code, 0, r.stderr);
  const report = readReport(out);
  const lines = r.stdout.split('\n');
  assert.equal(
    lines[2],
    `reached ${formatFactor(report.totals.targeted.factor)} on the 5 matrices targeted (5 compressed), ${formatFactor(report.totals.model.factor)} on the whole model (parameters), ${formatFactor(report.totals.bytes.factorRaw)} in raw bytes ` +
      `(${formatBytes(report.totals.bytes.before.raw)} -> ${formatBytes(report.totals.bytes.after.raw)} on disk)`,
  );
  assert.match(lines[3], /^stayed dense: 1 matrix not targeted \(256 params, listed below\); \d[\d,]* params of biases, normalisation and other weights$/);
  const rows = lines.filter((l) => l.startsWith('bigru'));
  assert.deepEqual(rows.map((l) => l.split(/\s{2,}/)[0]), ['bigru (forward)', 'bigru (forward)', 'bigru (backward)', 'bigru (backward)']);
  for (const row of rows) assert.match(row, /12,288 run dense/);
  assert.doesNotMatch(r.stdout, /12,288 -> 3,072 +0\.\d/, 'no MACs cut claimed for pruned kernels');
  assert.ok(r.stdout.includes(PROBE_CAVEAT));
  const md = renderMarkdown(report);
  assert.ok(md.includes('| bigru (backward) |') && md.includes('| run dense |'));
});

test('--portable: the headline says which matrices stayed dense, beside the factors reached', async () => {
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', gru, '--portable', '-o', out, '--no-bench', '--probes', '8']);
  assert.equal(r.code, 0, r.stderr);
  const report = readReport(out);
  assert.ok(report.totals.model.factor < 3, `whole model ${report.totals.model.factor}`);
  assert.match(r.stdout.split('\n')[2], new RegExp(`^reached ${formatFactor(report.totals.targeted.factor).replace('.', '\\.')} on the 1 matrix targeted \\(1 compressed\\), ${formatFactor(report.totals.model.factor).replace('.', '\\.')} on the whole model`));
  assert.match(r.stdout.split('\n')[3], /^stayed dense: 5 matrices not targeted \(49,408 params, listed below\)/);
});

test('with --calibration the probe caveat is not printed', async () => {
  const dir = tempDir();
  const data = join(dir, 'data.json');
  const test = JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'intent-mlp', 'test.json'), 'utf8')) as { inputs: number[][] };
  writeFileSync(data, JSON.stringify({ inputs: test.inputs.slice(0, 32) }));
  const r = await runHmf(['compress', intent, '-o', join(dir, 'out'), '--no-bench', '--calibration', data, '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!r.stdout.includes(PROBE_CAVEAT));
});

test('hmf bench --vs says which model is faster and by how much, in words', async () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  assert.equal((await runHmf(['compress', intent, '-o', out, '--no-bench', '--probes', '4', '--objective', 'size'])).code, 0);
  const r = await runHmf(['bench', intent, '--vs', join(out, 'model.json'), '--runs', '5']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], `A  ${intent}`);
  assert.equal(lines[1], `B  ${join(out, 'model.json')}`);
  assert.match(lines[2], /B is$/);
  for (const l of lines.slice(3, 5)) assert.match(l, /\d+\.\d\dx (faster|slower) than A( \(within noise\))?$/);
  assert.doesNotMatch(r.stdout, /speedup of --vs/);
});

test('noise: a speedup the interleaved runs do not back (verdict within noise) is flagged in the terminal and Markdown reports', async () => {
  const quiet = { original: { medianMs: 10, p10Ms: 9.8, p90Ms: 10.2 }, compressed: { medianMs: 8, p10Ms: 7.9, p90Ms: 8.1 }, verdict: 'faster' as const };
  const noisy = { original: { medianMs: 10, p10Ms: 6, p90Ms: 19 }, compressed: { medianMs: 8, p10Ms: 7, p90Ms: 12 }, verdict: 'within noise' as const };
  assert.equal(withinNoise(quiet), false);
  assert.equal(withinNoise(noisy), true);
  const out = join(tempDir(), 'out');
  assert.equal((await runHmf(['compress', intent, '-o', out, '--runs', '3', '--probes', '4', '--objective', 'size'])).code, 0);
  const report = readReport(out);
  report.latency!.batches = [{ batch: 1, ...noisy, speedup: 10 / 8, runs: 3 }, { batch: 32, ...quiet, speedup: 10 / 8, runs: 3 }];
  const text = renderTerminal(report).split('\n');
  assert.match(text.find((l) => l.startsWith('latency batch 1 '))!, /\(speedup 1\.25x, within noise\)/);
  assert.doesNotMatch(text.find((l) => l.startsWith('latency batch 32'))!, /within noise/);
  assert.ok(text.includes(`latency          ${NOISE_NOTE}`));
  assert.match(renderMarkdown(report), /\| 1\.25x \(within noise\) \|/);
  report.latency!.batches = [{ batch: 32, ...quiet, speedup: 10 / 8, runs: 3 }];
  assert.ok(!renderTerminal(report).includes(NOISE_NOTE));
});

test("TF.js's own messages stay off hmf's stderr (the cpu backend's tfjs-node banner); --verbose shows them marked", async () => {
  const dir = tempDir();
  const r = await runHmf(['compress', intent, '-o', join(dir, 'a'), '--backend', 'cpu', '--no-bench', '--probes', '4', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const verbose = await runHmf(['compress', intent, '-o', join(dir, 'b'), '--backend', 'cpu', '--no-bench', '--probes', '4', '--verbose', '--objective', 'size']);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /^hmf: \(from TF\.js\) .*tfjs-node/m);
  for (const line of verbose.stderr.trimEnd().split('\n')) assert.match(line, /^hmf: /);
});

test('help: every command has Examples; environment variables only where they matter; defaults unquoted; compress takes graph models too', async () => {
  const environment: Record<string, string[]> = {
    compress: ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS', 'HMF_LATENCY_CACHE'],
    sweep: ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS', 'HMF_LATENCY_CACHE'],
    inspect: ['HMF_WASM_THREADS'],
    bench: ['HMF_LATENCY_THREADS'],
    eval: ['HMF_WASM_THREADS'],
  };
  for (const [command, variables] of Object.entries(environment)) {
    const r = await runHmf([command, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /\nExamples:\n {2}hmf /, command);
    for (const v of ['HMF_WASM_THREADS', 'HMF_LATENCY_THREADS', 'HMF_LATENCY_CACHE']) assert.equal(new RegExp(`${v}=(n|off)`).test(r.stdout), variables.includes(v), `${command} --help and ${v}`);
    assert.doesNotMatch(r.stdout, /default: "/, `${command}: a quoted default`);
  }
  const top = await runHmf(['--help']);
  assert.match(top.stdout, /\nExamples:\n/);
  assert.match(top.stdout, /\nExit codes:\n {2}0 ok, 1 internal error, 2 bad usage/);
  const compress = await runHmf(['compress', '--help']);
  assert.match(compress.stdout, /compress a TF\.js model \(layers or graph\s+format\)/);
  assert.match(compress.stdout, /-f, --factor <n>\s+compression factor of the targeted weights \(> 1\),\s+or auto: [^]*?\(default: 4\)/);
});

test('hmf inspect on a graph model lists the matrices compress would target, with the energy each factor keeps', async () => {
  const r = await runHmf(['inspect', join(repoRoot, 'fixtures', 'graph-mlp', 'model.json'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as { matrices: { weight: string; compressed: boolean; reason: string | null; energyKept: { factor: number; lmf: number; hmf: number }[] | null }[] };
  const targeted = result.matrices.filter((m) => m.compressed);
  assert.deepEqual(targeted.map((m) => m.weight.split('/')[2]), ['hidden1', 'hidden2']);
  for (const m of targeted) {
    for (const e of m.energyKept!) assert.ok(e.hmf >= e.lmf - 1e-6 && e.lmf > 0 && e.hmf <= 1, JSON.stringify(e));
  }
  assert.match(result.matrices.find((m) => !m.compressed)!.reason!, /below --min-params 4096/);
  assert.doesNotMatch(r.stdout, /not compressed yet/);
});
