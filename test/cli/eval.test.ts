import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalReport } from '../../src/eval.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const fixture = (name: string) => join(repoRoot, 'fixtures', name);
const mlp = fixture('sentiment-mlp');
const lstm = fixture('char-lstm');

interface Meta {
  testAccuracy: number;
  testPerplexity?: number;
}

const meta = (dir: string) => JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as Meta;

async function evalJson(args: string[]): Promise<EvalReport> {
  const r = await runHmf(['eval', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as EvalReport;
}

test('eval sentiment-mlp: the held-out accuracy recorded in meta.json', async () => {
  const report = await evalJson([join(mlp, 'model.json'), '--data', join(mlp, 'test.json')]);
  assert.equal(report.schemaVersion, 1);
  assert.equal(report.model.format, 'layers-model');
  assert.deepEqual(report.data, { path: join(mlp, 'test.json'), format: 'json', examples: 600, labelled: true });
  assert.deepEqual(report.output.shape, [2]);
  assert.equal(report.metrics?.task, 'classification');
  assert.equal(report.metrics?.outputs, 'probabilities');
  assert.ok(Math.abs(report.metrics!.accuracy - meta(mlp).testAccuracy) <= 1e-9, `${report.metrics!.accuracy} vs ${meta(mlp).testAccuracy}`);
  assert.ok(report.metrics!.crossEntropy > 0 && report.metrics!.crossEntropy < Math.log(2) * 2);
  assert.equal(report.metrics!.perplexity, null);
  assert.equal(report.reference, null);
});

test('eval char-lstm: per-step perplexity and next-character accuracy of meta.json', { skip: !existsSync(join(lstm, 'model.json')) && 'no char-lstm fixture' }, async () => {
  const report = await evalJson([join(lstm, 'model.json'), '--data', join(lstm, 'test.json'), '--batch-size', '64']);
  const m = meta(lstm);
  assert.equal(report.metrics?.task, 'sequence');
  assert.deepEqual(report.output.shape, [64, 80]);
  assert.equal(report.metrics!.positions, 200 * 64);
  // meta.json holds float32 means; evaluate sums in float64.
  assert.ok(Math.abs(report.metrics!.perplexity! - m.testPerplexity!) / m.testPerplexity! <= 1e-4, `${report.metrics!.perplexity} vs ${m.testPerplexity}`);
  assert.ok(Math.abs(report.metrics!.accuracy - m.testAccuracy) <= 1e-6, `${report.metrics!.accuracy} vs ${m.testAccuracy}`);
  assert.ok(Math.abs(Math.exp(report.metrics!.crossEntropy) - report.metrics!.perplexity!) <= 1e-9);
  assert.equal(report.context.batchSize, 64);
});

test('eval of a compressed model against its original, and of a model against itself', async () => {
  const out = join(tempDir(), 'mlp-hmf-x4');
  const c = await runHmf(['compress', join(mlp, 'model.json'), '-f', '4', '-o', out, '--no-bench', '--quiet']);
  assert.equal(c.code, 0, c.stderr);
  const compressed = await evalJson([join(out, 'model.json'), '--data', join(mlp, 'test.json'), '--reference', join(mlp, 'model.json')]);
  assert.equal(compressed.reference?.path, join(mlp, 'model.json'));
  const f = compressed.reference!.outputs[0];
  assert.ok(f.top1Agreement < 1 && f.top1Agreement > 0.5, `agreement ${f.top1Agreement}`);
  assert.ok(f.relativeError > 0 && f.relativeError < 1, `error ${f.relativeError}`);
  assert.ok(f.klDivergence !== null && f.klDivergence > 0);
  assert.ok(compressed.metrics!.accuracy > 0.5);

  const itself = await evalJson([join(mlp, 'model.json'), '--data', join(mlp, 'test.json'), '--reference', join(mlp, 'model.json')]);
  assert.deepEqual(itself.reference!.outputs.map((o) => [o.top1Agreement, o.relativeError]), [[1, 0]]);
  // compareOutputs floors the compared probability at 1e-12, so probabilities below it leave a rounding residue.
  assert.ok(Math.abs(itself.reference!.outputs[0].klDivergence!) < 1e-12);
});

test('terminal output: aligned lines on stdout, nothing on stderr', async () => {
  const r = await runHmf(['eval', join(mlp, 'model.json'), '--data', join(mlp, 'test.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^model +.*sentiment-mlp\/model\.json  \(layers-model\)$/m);
  assert.match(r.stdout, new RegExp(`^accuracy +${meta(mlp).testAccuracy.toFixed(4)} `, 'm'));
  assert.match(r.stdout, /^cross-entropy +\d+\.\d{4} nats$/m);
});

test('JSON Lines data give the same accuracy as JSON', async () => {
  const data = JSON.parse(readFileSync(join(mlp, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
  const file = join(tempDir(), 'test.jsonl');
  writeFileSync(file, data.inputs.map((input, i) => JSON.stringify({ input, label: data.labels[i] })).join('\n'));
  const report = await evalJson([join(mlp, 'model.json'), '--data', file]);
  assert.equal(report.data.format, 'jsonl');
  assert.equal(report.metrics!.accuracy, meta(mlp).testAccuracy);
});

const bad = tempDir();
const write = (name: string, text: string) => {
  writeFileSync(join(bad, name), text);
  return join(bad, name);
};
const badData: [string, string, RegExp][] = [
  ['wrong shape', write('shape.json', JSON.stringify({ inputs: [[1, 0, 1]], labels: [0] })), /inputs\[0\] \(input "hidden1_input"\): expected shape \[2000\]: an array of 2000, found an array of 3/],
  ['labels that do not match', write('labels.json', JSON.stringify({ inputs: [new Array(2000).fill(0), new Array(2000).fill(1)], labels: [0] })), /labels: expected 2 labels \(one per example in inputs\), found 1/],
  ['a label out of range', write('range.json', JSON.stringify({ inputs: [new Array(2000).fill(0)], labels: [2] })), /labels\[0\]: expected an integer class id in \[0, 2\), found 2/],
  ['wrong dtype', write('dtype.json', JSON.stringify({ inputs: [new Array(2000).fill('a')] })), /inputs\[0\]\[0\] \(input "hidden1_input"\): expected a number, found a string "a"/],
  ['empty data', write('empty.json', JSON.stringify({ inputs: [], labels: [] })), /inputs: expected at least one example, found none/],
  ['malformed JSON', write('broken.json', '{"inputs": [[0, 1'), /malformed JSON/],
  ['malformed JSON Lines', write('broken.jsonl', `${JSON.stringify({ input: new Array(2000).fill(0) })}\n{"input": [0,\n`), /line 2: malformed JSON/],
  ['a missing file', join(bad, 'missing.json'), /cannot read the data file: .*found no such file/],
];
for (const [what, file, message] of badData) {
  test(`bad data (${what}): exit 2, the file named`, async () => {
    const r = await runHmf(['eval', join(mlp, 'model.json'), '--data', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith(`hmf: ${file}`), r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
}

test('token ids out of the vocabulary: exit 2 naming the example and input', async () => {
  const embed = fixture('sentiment-embed');
  const file = write('ids.json', JSON.stringify({ inputs: [new Array(32).fill(0), [...new Array(31).fill(1), 4000]], labels: [0, 1] }));
  const r = await runHmf(['eval', join(embed, 'model.json'), '--data', file]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /ids\.json: inputs\[1\]\[31\] \(input "token_ids"\): expected an integer token id in \[0, 4000\), found 4000/);
});

test('usage errors: no --data, a bad --batch-size, a reference with other inputs', async () => {
  const none = await runHmf(['eval', join(mlp, 'model.json')]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--data/);
  const size = await runHmf(['eval', join(mlp, 'model.json'), '--data', join(mlp, 'test.json'), '--batch-size', '0']);
  assert.equal(size.code, 2);
  assert.match(size.stderr, /--batch-size: expected a positive integer, found 0/);
  const other = await runHmf(['eval', join(mlp, 'model.json'), '--data', join(mlp, 'test.json'), '--reference', join(fixture('intent-mlp'), 'model.json')]);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /--reference .*intent-mlp\/model\.json: expected a model with the inputs of .*sentiment-mlp\/model\.json \(float32\[2000\]\), found float32\[130\]/);
});

test('a bad model: exit 3', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
  const r = await runHmf(['eval', join(dir, 'model.json'), '--data', join(mlp, 'test.json')]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /model\.json/);
  const missing = await runHmf(['eval', join(dir, 'nothing', 'model.json'), '--data', join(mlp, 'test.json')]);
  assert.equal(missing.code, 3, missing.stderr);
});

test('a graph model: the same accuracy as the layers model it was exported from', async () => {
  const report = await evalJson([join(fixture('graph-mlp'), 'model.json'), '--data', join(mlp, 'test.json'), '--reference', join(mlp, 'model.json')]);
  assert.equal(report.model.format, 'graph-model');
  assert.equal(report.metrics!.accuracy, meta(mlp).testAccuracy);
  assert.equal(report.reference!.outputs[0].top1Agreement, 1);
  assert.ok(report.reference!.outputs[0].relativeError < 1e-5);
});

test('a graph model that fixes its batch size: the last batch is padded and the padding not counted', async () => {
  const dir = tempDir();
  cpSync(fixture('graph-mlp'), dir, { recursive: true });
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: { node: { op: string; attr: { shape: { shape: { dim: { size: string }[] } } } }[] };
    signature: { inputs: Record<string, { tensorShape: { dim: { size: string }[] } }> };
  };
  for (const n of json.modelTopology.node) if (n.op === 'Placeholder') n.attr.shape.shape.dim[0].size = '7';
  for (const input of Object.values(json.signature.inputs)) input.tensorShape.dim[0].size = '7';
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  // 600 examples = 85 batches of 7 + 5.
  const report = await evalJson([join(dir, 'model.json'), '--data', join(mlp, 'test.json'), '--reference', join(mlp, 'model.json')]);
  assert.equal(report.context.batchSize, 7);
  assert.equal(report.metrics!.positions, 600);
  assert.equal(report.metrics!.accuracy, meta(mlp).testAccuracy);
  assert.equal(report.reference!.outputs[0].top1Agreement, 1);
});
