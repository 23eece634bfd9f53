import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { ModelFormatError } from '../../src/errors.js';
import { readModel } from '../../src/io/index.js';
import { tempDir } from '../helpers.js';
import { allDtypes, concat, f32, i32, layersJson, rejectsWith, strings, tree, u16, writeRaw } from './support.js';

before(async () => {
  await initBackend();
});

const KERNEL = { name: 'dense/kernel', shape: [2, 3], dtype: 'float32' };
const BIAS = { name: 'dense/bias', shape: [3], dtype: 'float32' };
const GOOD_BYTES = f32([1, 2, 3, 4, 5, 6, 0.5, -0.5, 0]);

/** Expects readModel to fail with ModelFormatError naming `parts`, and the folder to be unchanged. */
async function refused(modelJson: string, root: string, parts: string[]): Promise<void> {
  const before = tree(root);
  await rejectsWith(readModel(modelJson), ModelFormatError, [modelJson, ...parts]);
  assert.deepEqual(tree(root), before, 'reading must not create or remove files');
}

test('reads every dtype TF.js writes, decoding exactly as tf.io.decodeWeights', async () => {
  const { specs, data } = allDtypes();
  const root = tempDir();
  const path = writeRaw(root, layersJson(specs), { 'group1-shard1of1.bin': data });
  const model = await readModel(path);
  assert.equal(model.format, 'layers-model');
  assert.equal(model.path, path);
  assert.deepEqual(model.weights.map((w) => w.name), specs.map((s) => s.name));

  // The wasm backend has no Complex kernel: compare complex64 with its known values instead.
  const complexStart = 16 + 12 + 3 + strings(['héllo', '', 'wörld ✓']).byteLength;
  const stockData = concat(data.subarray(0, complexStart), data.subarray(complexStart + 16));
  const stockSpecs = specs.filter((s) => s.dtype !== 'complex64') as unknown as tf.io.WeightsManifestEntry[];
  const stock = tf.io.decodeWeights(stockData.slice().buffer, stockSpecs);
  for (const w of model.weights) {
    if (w.dtype === 'complex64') {
      assert.deepEqual([...(w.values as Float32Array)], [1, 2, 3, 4]);
      continue;
    }
    const t = stock[w.name];
    assert.deepEqual(w.shape, t.shape, w.name);
    assert.deepEqual([...w.values], [...t.dataSync()], w.name);
    t.dispose();
  }
  const byName = Object.fromEntries(model.weights.map((w) => [w.name, w]));
  assert.ok(byName.f.values instanceof Float32Array);
  assert.ok(byName.i.values instanceof Int32Array);
  assert.ok(byName.b.values instanceof Uint8Array);
  assert.deepEqual(byName.s.values, ['héllo', '', 'wörld ✓']);
  assert.ok(byName.qi.values instanceof Int32Array);
  assert.deepEqual([...byName.qi.values], [-10, 1, 118]);
  assert.deepEqual(byName.q8.quantization, { dtype: 'uint8', min: -0.5, scale: 0.01 });
  assert.deepEqual(byName.h.quantization, { dtype: 'float16' });
  assert.equal(byName.f.quantization, undefined);
});

test('reads several shards and groups in manifest order, a weight straddling two shards', async () => {
  const all = GOOD_BYTES;
  const json = {
    modelTopology: { node: [] },
    weightsManifest: [
      { paths: ['a.bin', 'sub/b.bin'], weights: [KERNEL, BIAS] },
      { paths: ['c.bin'], weights: [{ name: 'extra', shape: [], dtype: 'int32' }] },
    ],
  };
  const root = tempDir();
  mkdirSync(join(root, 'sub'));
  const path = writeRaw(root, json, { 'a.bin': all.subarray(0, 10), 'sub/b.bin': all.subarray(10), 'c.bin': i32([42]) });
  const model = await readModel(path);
  assert.equal(model.format, 'graph-model');
  assert.deepEqual(model.weights.map((w) => w.name), ['dense/kernel', 'dense/bias', 'extra']);
  assert.deepEqual([...model.weights[0].values], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...model.weights[1].values], [0.5, -0.5, 0]);
  assert.deepEqual([...model.weights[2].values], [42]);
});

test('keeps every model.json key but weightsManifest, in file order', async () => {
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    signature: { inputs: { 'x:0': { name: 'x:0' } } },
    modelTopology: { node: [{ name: 'w', op: 'Const' }], library: {}, versions: { producer: 1 } },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [KERNEL, BIAS] }],
    userDefinedMetadata: { note: 'kept' },
    modelInitializer: { node: [] },
  };
  const path = writeRaw(tempDir(), json, { 'group1-shard1of1.bin': GOOD_BYTES });
  const model = await readModel(path);
  const { weightsManifest: _, ...rest } = json;
  assert.equal(JSON.stringify(model.json), JSON.stringify(rest));
});

test('detects the format from "format", else from the topology', async () => {
  const root = tempDir();
  const cases: [Record<string, unknown>, string][] = [
    [{ format: 'graph-model', modelTopology: { class_name: 'X' } }, 'graph-model'],
    [{ modelTopology: { class_name: 'Sequential', config: {} } }, 'layers-model'],
    [{ modelTopology: { model_config: {} } }, 'layers-model'],
    [{ modelTopology: { node: [] } }, 'graph-model'],
  ];
  for (const [i, [json, format]] of cases.entries()) {
    const path = writeRaw(join(root, String(i)), { ...json, weightsManifest: [] });
    assert.equal((await readModel(path)).format, format);
  }
  const bad = writeRaw(join(root, 'bad'), { format: 'keras', modelTopology: {}, weightsManifest: [] });
  await refused(bad, root, ['"format"', 'keras', 'expected "layers-model" or "graph-model"']);
  const unknown = writeRaw(join(root, 'unknown'), { modelTopology: { foo: 1 }, weightsManifest: [] });
  await refused(unknown, root, ['cannot tell the model format', '"node"', '"model_config"']);
});

test('refuses malformed JSON, naming the file and the parse problem', async () => {
  const root = tempDir();
  const text = '{"modelTopology": {"class_name": "Sequential",';
  const path = writeRaw(root, text);
  let parseMessage = '';
  try {
    JSON.parse(text);
  } catch (err) {
    parseMessage = (err as Error).message;
  }
  await refused(path, root, ['not valid JSON', parseMessage]);
  const notObject = writeRaw(join(root, 'arr'), '[1, 2]');
  await refused(notObject, root, ['expected a JSON object', 'found an array']);
});

test('refuses a missing model.json or a folder in its place', async () => {
  const root = tempDir();
  await refused(join(root, 'nope.json'), root, ['expected a TF.js model.json file', 'found no such file']);
  await refused(root, root, ['found a folder']);
});

test('refuses a model.json without weightsManifest or modelTopology', async () => {
  const root = tempDir();
  const noManifest = writeRaw(join(root, 'a'), { modelTopology: { node: [] }, format: 'graph-model' });
  await refused(noManifest, root, ['expected "weightsManifest"', 'found keys "modelTopology", "format"']);
  const noTopology = writeRaw(join(root, 'b'), { weightsManifest: [] });
  await refused(noTopology, root, ['expected "modelTopology"', 'found keys "weightsManifest"']);
  const badManifest = writeRaw(join(root, 'c'), { modelTopology: { node: [] }, weightsManifest: { paths: [] } });
  await refused(badManifest, root, ['expected "weightsManifest" to be an array', 'found an object']);
  const badGroup = writeRaw(join(root, 'd'), { modelTopology: { node: [] }, weightsManifest: [{ paths: 'x.bin', weights: [] }] });
  await refused(badGroup, root, ['weightsManifest[0].paths', 'found the string "x.bin"']);
});

test('refuses manifest paths that leave the model folder', async () => {
  const root = tempDir();
  // The outside file exists and has the right size, so only the path check can refuse it.
  writeFileSync(join(root, 'outside.bin'), GOOD_BYTES);
  const dir = join(root, 'model');
  const cases: [string, string][] = [
    ['../outside.bin', 'points outside the model folder'],
    ['sub/../../outside.bin', 'points outside the model folder'],
    [join(root, 'outside.bin'), 'is absolute'],
    ['file:///etc/passwd', 'is a URL'],
    ['..\\outside.bin', 'backslash'],
  ];
  for (const [p, why] of cases) {
    const path = writeRaw(dir, layersJson([KERNEL, BIAS], [p]));
    await refused(path, root, [JSON.stringify(p), why, 'expected a file name relative to the model folder']);
  }
});

test('refuses a shard that is a symbolic link to a file outside the model folder', async () => {
  const root = tempDir();
  writeFileSync(join(root, 'outside.bin'), GOOD_BYTES);
  const dir = join(root, 'model');
  const path = writeRaw(dir, layersJson([KERNEL, BIAS], ['group1-shard1of1.bin']));
  symlinkSync(join(root, 'outside.bin'), join(dir, 'group1-shard1of1.bin'));
  await refused(path, root, ['"group1-shard1of1.bin"', 'symbolic link', join(root, 'outside.bin'), 'outside the model folder']);
  // A link that stays inside the folder is fine.
  writeFileSync(join(dir, 'real.bin'), GOOD_BYTES);
  symlinkSync('real.bin', join(dir, 'inside.bin'));
  writeRaw(dir, layersJson([KERNEL, BIAS], ['inside.bin']));
  assert.equal((await readModel(path)).weights.length, 2);
});

test('refuses a missing shard file', async () => {
  const root = tempDir();
  const path = writeRaw(root, layersJson([KERNEL, BIAS], ['group1-shard1of2.bin', 'group1-shard2of2.bin']), {
    'group1-shard1of2.bin': GOOD_BYTES,
  });
  await refused(path, root, ['"group1-shard2of2.bin"', 'is missing', `expected a file at ${join(root, 'group1-shard2of2.bin')}`, 'found nothing']);
});

test('refuses shards shorter or longer than the manifest weights need, before decoding', async () => {
  const root = tempDir();
  const short = writeRaw(join(root, 'short'), layersJson([KERNEL, BIAS]), { 'group1-shard1of1.bin': GOOD_BYTES.subarray(0, 32) });
  await refused(short, root, ['needs 36 bytes', 'found 32 bytes', 'group1-shard1of1.bin (32 bytes)', 'ends inside weight "dense/bias"']);
  const long = writeRaw(join(root, 'long'), layersJson([KERNEL, BIAS]), { 'group1-shard1of1.bin': concat(GOOD_BYTES, f32([7])) });
  await refused(long, root, ['needs 36 bytes', 'found 40 bytes', '4 bytes are left over']);
  // The check happens before decoding: a NaN in a truncated shard is reported as a length problem.
  const nanShort = writeRaw(join(root, 'nan'), layersJson([KERNEL, BIAS]), { 'group1-shard1of1.bin': f32([NaN, 1]) });
  await refused(nanShort, root, ['needs 36 bytes', 'found 8 bytes']);
  const str = writeRaw(join(root, 'str'), layersJson([{ name: 'vocab', shape: [2], dtype: 'string' }]), {
    'group1-shard1of1.bin': strings(['abc', 'defg']).subarray(0, 9),
  });
  await refused(str, root, ['needs at least', 'found 9 bytes', 'ends inside weight "vocab"']);
});

test('reads NaN and ±Infinity in float weights as stored (only the matrices hmf targets must be finite; see test/published/async-graph.test.ts)', async () => {
  const root = tempDir();
  const inf = writeRaw(join(root, 'inf'), layersJson([KERNEL, BIAS]), {
    'group1-shard1of1.bin': f32([1, -Infinity, 3, Infinity, 5, 6, 0, NaN, 0]),
  });
  const model = await readModel(inf);
  assert.deepEqual(Array.from(model.weights[0].values as Float32Array), [1, -Infinity, 3, Infinity, 5, 6]);
  assert.deepEqual(Array.from(model.weights[1].values as Float32Array), [0, NaN, 0]);
  const half = writeRaw(join(root, 'half'), layersJson([{ ...BIAS, quantization: { dtype: 'float16' } }]), {
    'group1-shard1of1.bin': u16([0x3c00, 0x7e00, 0xfc00]),
  });
  assert.deepEqual(Array.from((await readModel(half)).weights[0].values as Float32Array), [1, NaN, -Infinity]);
});

test('refuses unknown dtypes and quantizations', async () => {
  const root = tempDir();
  const f64 = writeRaw(join(root, 'a'), layersJson([{ name: 'w', shape: [1], dtype: 'float64' }]), { 'group1-shard1of1.bin': f32([0, 0]) });
  await refused(f64, root, ['weight "w"', 'unknown dtype "float64"', 'expected one of float32, int32, bool, string, complex64']);
  const q = writeRaw(join(root, 'b'), layersJson([{ ...BIAS, quantization: { dtype: 'int4', scale: 1, min: 0 } }]), {
    'group1-shard1of1.bin': f32([0, 0, 0]),
  });
  await refused(q, root, ['weight "dense/bias"', 'unknown quantization dtype "int4"', 'expected one of uint8, uint16, float16']);
  const noScale = writeRaw(join(root, 'c'), layersJson([{ ...BIAS, quantization: { dtype: 'uint8', min: 0 } }]), {
    'group1-shard1of1.bin': new Uint8Array(3),
  });
  await refused(noScale, root, ['weight "dense/bias"', 'needs finite numbers "scale" and "min"']);
  const shape = writeRaw(join(root, 'd'), layersJson([{ name: 'w', shape: [2, -1], dtype: 'float32' }]));
  await refused(shape, root, ['weight "w"', 'non-negative integers', '[2,-1]']);
  const dup = writeRaw(join(root, 'e'), layersJson([BIAS, BIAS]), { 'group1-shard1of1.bin': f32([0, 0, 0, 0, 0, 0]) });
  await refused(dup, root, ['"dense/bias" appears twice']);
});
