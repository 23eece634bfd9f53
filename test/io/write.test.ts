import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { ModelFormatError, UsageError } from '../../src/errors.js';
import { DEFAULT_SHARD_BYTES, fileLoader, fileSaver, readModel, writeModel, type ModelFile, type Weight } from '../../src/io/index.js';
import { repoRoot, tempDir } from '../helpers.js';
import { allDtypes, denseModel, graphModel, layersJson, probe, rejectsWith, setDeterministicWeights, tree, writeRaw } from './support.js';

before(async () => {
  await initBackend();
});

/** A deterministic Dense model saved through fileSaver, and its predictions on a fixed probe. */
async function savedDense(root: string): Promise<{ path: string; expected: number[][] }> {
  const model = denseModel();
  setDeterministicWeights(model);
  await model.save(fileSaver(join(root, 'original')));
  const expected = (model.predict(probe(4, 6)) as tf.Tensor2D).arraySync();
  return { path: join(root, 'original', 'model.json'), expected };
}

async function predictFromFiles(modelJson: string): Promise<{ out: number[][]; weights: Float32Array[] }> {
  const model = await tf.loadLayersModel(fileLoader(modelJson));
  const out = (model.predict(probe(4, 6)) as tf.Tensor2D).arraySync();
  return { out, weights: model.getWeights().map((w) => w.dataSync() as Float32Array) };
}

function files(dir: string): Record<string, Buffer> {
  return Object.fromEntries(tree(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

test('layers model round trip: read, write, and stock tf.loadLayersModel predicts the same', async () => {
  const root = tempDir();
  const { path, expected } = await savedDense(root);
  const model = await readModel(path);
  assert.equal(model.format, 'layers-model');
  assert.deepEqual(model.weights.map((w) => w.shape), [[6, 8], [8], [8, 3], [3]]);
  const written = await writeModel(model, join(root, 'copy'));
  assert.deepEqual(written.files.map((f) => f.name), ['model.json', 'group1-shard1of1.bin']);
  assert.equal(written.files[1].bytes, (48 + 8 + 24 + 3) * 4);
  assert.equal(written.totalBytes, statSync(join(root, 'copy', 'model.json')).size + written.files[1].bytes);
  const loaded = await predictFromFiles(join(root, 'copy', 'model.json'));
  assert.deepEqual(loaded.out, expected);
  loaded.weights.forEach((w, i) => assert.deepEqual(w, model.weights[i].values));
});

test('quantized weights: the stock loader dequantizes to exactly the values readModel decodes', async () => {
  const root = tempDir();
  const { path, expected } = await savedDense(root);
  const original = await readModel(path);
  const uint16: ModelFile = {
    ...original,
    weights: original.weights.map((w) => ({ ...w, quantization: { dtype: 'uint16', scale: 1, min: 0 } })),
  };
  const variants: [string, Pick<ModelFile, 'json' | 'weights'>, 'uint8' | 'float16' | 'keep', number][] = [
    ['uint8', original, 'uint8', 0.05],
    ['float16', original, 'float16', 2e-3],
    ['uint16', uint16, 'keep', 2e-4],
  ];
  for (const [dtype, model, quantize, tolerance] of variants) {
    const dir = join(root, dtype);
    await writeModel(model, dir, { quantize });
    const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weightsManifest;
    for (const entry of manifest[0].weights) {
      assert.equal(entry.dtype, 'float32');
      assert.equal(entry.quantization.dtype, dtype, entry.name);
      if (dtype !== 'float16') assert.ok(Number.isFinite(entry.quantization.scale) && Number.isFinite(entry.quantization.min));
    }
    const bytesPerValue = dtype === 'uint8' ? 1 : 2;
    assert.equal(statSync(join(dir, 'group1-shard1of1.bin')).size, 83 * bytesPerValue);

    const decoded = await readModel(join(dir, 'model.json'));
    const stock = await predictFromFiles(join(dir, 'model.json'));
    decoded.weights.forEach((w, i) => {
      assert.equal(w.quantization?.dtype, dtype);
      assert.deepEqual(stock.weights[i], w.values, `${dtype} ${w.name}: stock loader vs readModel`);
      const before = original.weights[i].values as Float32Array;
      (w.values as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - before[j]) <= tolerance, `${dtype} ${w.name}[${j}]`));
    });
    stock.out.flat().forEach((v, j) => assert.ok(Math.abs(v - expected.flat()[j]) < 20 * tolerance, `${dtype} output ${j}`));

    // keep: re-writing what was read reproduces the files byte for byte.
    await writeModel(decoded, join(root, `${dtype}-again`));
    assert.deepEqual(files(join(root, `${dtype}-again`)), files(dir));
  }
});

test('quantize "none" stores dequantized float32; "keep" re-fits the range of a rewritten weight', async () => {
  const root = tempDir();
  const { path } = await savedDense(root);
  await writeModel(await readModel(path), join(root, 'q'), { quantize: 'uint8' });
  const quantized = await readModel(join(root, 'q', 'model.json'));
  await writeModel(quantized, join(root, 'none'), { quantize: 'none' });
  const plain = await readModel(join(root, 'none', 'model.json'));
  plain.weights.forEach((w, i) => {
    assert.equal(w.quantization, undefined);
    assert.deepEqual(w.values, quantized.weights[i].values);
  });
  // A rewritten weight outside the stored range gets fresh parameters rather than being clipped.
  const kernel = quantized.weights[0];
  const scaled = { ...kernel, values: (kernel.values as Float32Array).map((v) => v * 10) };
  await writeModel({ json: quantized.json, weights: [scaled, ...quantized.weights.slice(1)] }, join(root, 'refit'));
  const refit = await readModel(join(root, 'refit', 'model.json'));
  assert.equal(refit.weights[0].quantization?.dtype, 'uint8');
  const q = refit.weights[0].quantization as { scale: number };
  (refit.weights[0].values as Float32Array).forEach((v, j) => assert.ok(Math.abs(v - scaled.values[j]) <= q.scale / 2 + 1e-6));
});

test('splits weights into shards of shardBytes, weights straddling shards, and the stock loader reads them', async () => {
  const root = tempDir();
  const { path, expected } = await savedDense(root);
  const model = await readModel(path);
  const written = await writeModel(model, join(root, 'small'), { shardBytes: 100 });
  assert.deepEqual(
    written.files.map((f) => [f.name, f.bytes]).slice(1),
    [
      ['group1-shard1of4.bin', 100],
      ['group1-shard2of4.bin', 100],
      ['group1-shard3of4.bin', 100],
      ['group1-shard4of4.bin', 32],
    ],
  );
  const manifest = JSON.parse(readFileSync(join(root, 'small', 'model.json'), 'utf8')).weightsManifest;
  assert.equal(manifest.length, 1);
  assert.deepEqual(manifest[0].paths, ['group1-shard1of4.bin', 'group1-shard2of4.bin', 'group1-shard3of4.bin', 'group1-shard4of4.bin']);
  assert.deepEqual((await predictFromFiles(join(root, 'small', 'model.json'))).out, expected);
  const back = await readModel(join(root, 'small', 'model.json'));
  back.weights.forEach((w, i) => assert.deepEqual(w.values, model.weights[i].values));
});

test('the default split is 4 MiB: a >4 MiB weight spans two shards', async () => {
  assert.equal(DEFAULT_SHARD_BYTES, 4 * 1024 * 1024);
  const root = tempDir();
  const big = new Float32Array(1_200_000).map((_, i) => Math.sin(i));
  const weights: Weight[] = [
    { name: 'big', shape: [1000, 1200], dtype: 'float32', values: big },
    { name: 'step', shape: [], dtype: 'int32', values: new Int32Array([7]) },
  ];
  const json = { modelTopology: { node: [] }, format: 'graph-model' };
  const written = await writeModel({ json, weights }, join(root, 'out'));
  assert.deepEqual(written.files.slice(1), [
    { name: 'group1-shard1of2.bin', bytes: 4 * 1024 * 1024 },
    { name: 'group1-shard2of2.bin', bytes: 4_800_004 - 4 * 1024 * 1024 },
  ]);
  const back = await readModel(join(root, 'out', 'model.json'));
  assert.equal(Buffer.compare(Buffer.from((back.weights[0].values as Float32Array).buffer), Buffer.from(big.buffer)), 0);
  assert.deepEqual([...back.weights[1].values], [7]);
  rmSync(root, { recursive: true, force: true });
});

test('every dtype and quantization is written back in its own encoding, byte for byte', async () => {
  const root = tempDir();
  const { specs, data } = allDtypes();
  const model = await readModel(writeRaw(join(root, 'in'), layersJson(specs), { 'group1-shard1of1.bin': data }));
  await writeModel(model, join(root, 'out'));
  assert.deepEqual(readFileSync(join(root, 'out', 'group1-shard1of1.bin')), Buffer.from(data));
  const manifest = JSON.parse(readFileSync(join(root, 'out', 'model.json'), 'utf8')).weightsManifest[0].weights;
  manifest.forEach((entry: { quantization?: Record<string, unknown> }, i: number) => {
    const q = specs[i].quantization as Record<string, unknown> | undefined;
    if (!q) return assert.equal(entry.quantization, undefined);
    assert.equal(entry.quantization?.dtype, q.dtype);
    assert.equal(entry.quantization?.scale, q.scale);
    assert.equal(entry.quantization?.min, q.min);
  });
});

test('the same input gives byte-identical files', async () => {
  const root = tempDir();
  const { path } = await savedDense(root);
  const model = await readModel(path);
  for (const quantize of ['keep', 'uint8', 'float16'] as const) {
    await writeModel(model, join(root, `${quantize}-1`), { quantize, shardBytes: 64, extraFiles: { 'report.json': '{"a":1}' } });
    await writeModel(await readModel(path), join(root, `${quantize}-2`), { quantize, shardBytes: 64, extraFiles: { 'report.json': '{"a":1}' } });
    assert.deepEqual(files(join(root, `${quantize}-1`)), files(join(root, `${quantize}-2`)));
  }
});

test('graph models are written back faithfully and load with stock tf.loadGraphModel', async () => {
  const root = tempDir();
  const { json, shard } = graphModel();
  const path = writeRaw(join(root, 'graph'), json, { 'group1-shard1of1.bin': shard });
  const model = await readModel(path);
  assert.equal(model.format, 'graph-model');
  await writeModel(model, join(root, 'out'));
  // Every key comes back identical and in the converter's order, weightsManifest last.
  assert.equal(readFileSync(join(root, 'out', 'model.json'), 'utf8'), JSON.stringify(json));
  assert.deepEqual(readFileSync(join(root, 'out', 'group1-shard1of1.bin')), Buffer.from(shard));
  const graph = await tf.loadGraphModel(fileLoader(join(root, 'out', 'model.json')));
  assert.deepEqual((graph.predict(tf.tensor2d([[1, 0, 1]])) as tf.Tensor).arraySync(), [[16, 28]]);
  assert.deepEqual(graph.metadata, { source: 'hmf io test' });
});

test('writes extra files such as report.json into the output folder', async () => {
  const root = tempDir();
  const { json, shard } = graphModel();
  const model = await readModel(writeRaw(join(root, 'graph'), json, { 'group1-shard1of1.bin': shard }));
  const out = join(root, 'out');
  const written = await writeModel(model, out, { extraFiles: { 'report.json': '{"ok":true}', 'notes.bin': new Uint8Array([1, 2]) } });
  assert.deepEqual(written.files.map((f) => f.name), ['model.json', 'group1-shard1of1.bin', 'report.json', 'notes.bin']);
  assert.equal(readFileSync(join(out, 'report.json'), 'utf8'), '{"ok":true}');
  assert.deepEqual(tree(out), ['group1-shard1of1.bin', 'model.json', 'notes.bin', 'report.json']);
});

async function graph(root: string): Promise<ModelFile> {
  const { json, shard } = graphModel();
  return readModel(writeRaw(join(root, 'graph'), json, { 'group1-shard1of1.bin': shard }));
}

test('refuses a non-empty output folder without force, leaving it untouched', async () => {
  const root = tempDir();
  const model = await graph(root);
  const out = join(root, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'keep.txt'), 'mine');
  const before = tree(root);
  await rejectsWith(writeModel(model, out), UsageError, [out, 'not empty', '--force']);
  assert.deepEqual(tree(root), before);
  assert.equal(readFileSync(join(out, 'keep.txt'), 'utf8'), 'mine');
});

test('an empty existing output folder is used; force replaces a non-empty one only when the new one is complete', async () => {
  const root = tempDir();
  const model = await graph(root);
  const out = join(root, 'out');
  mkdirSync(out);
  await writeModel(model, out);
  assert.deepEqual(tree(out), ['group1-shard1of1.bin', 'model.json']);

  writeFileSync(join(out, 'stale.txt'), 'old');
  writeFileSync(join(out, 'group1-shard1of9.bin'), 'old');
  await writeModel(model, out, { force: true, shardBytes: 16 });
  assert.deepEqual(tree(out), ['group1-shard1of2.bin', 'group1-shard2of2.bin', 'model.json']);
  assert.deepEqual(tree(root).filter((f) => !f.includes('/')), ['graph', 'out'], 'no temporary folders left beside the output');

  // A failure while writing leaves the old folder as it was.
  const before = files(out);
  const bad = { 'report.json': 42 as unknown as string };
  await assert.rejects(writeModel(model, out, { force: true, extraFiles: bad }));
  assert.deepEqual(files(out), before);
  assert.deepEqual(tree(root).filter((f) => !f.includes('/')), ['graph', 'out']);
});

test('a failure while writing removes the temporary folder and creates no output', async () => {
  const root = tempDir();
  const model = await graph(root);
  const before = tree(root);
  await assert.rejects(writeModel(model, join(root, 'out'), { extraFiles: { 'report.json': 42 as unknown as string } }));
  assert.deepEqual(tree(root), before);
});

test('refuses invalid weights and options before writing anything', async () => {
  const root = tempDir();
  const model = await graph(root);
  const out = join(root, 'out');
  const before = tree(root);
  const [w, b] = model.weights;
  const cases: [Promise<unknown>, new (...args: never[]) => UsageError | ModelFormatError, string[]][] = [
    [writeModel({ json: model.json, weights: [{ ...w, values: new Float32Array(5) }, b] }, out), ModelFormatError, ['weight "w"', 'needs 6 values, found 5']],
    [writeModel({ json: model.json, weights: [{ ...w, values: new Int32Array(6) }, b] }, out), ModelFormatError, ['weight "w"', 'Float32Array', 'Int32Array']],
    [
      writeModel({ json: model.json, weights: [{ ...w, values: new Float32Array([1, 2, 3, 4, 5, 70000]) }, b] }, out, { quantize: 'float16' }),
      ModelFormatError,
      ['weight "w" as float16', '±65504', '70000 at flat index 5'],
    ],
    [writeModel({ json: model.json, weights: [w, { ...b, name: 'w' }] }, out), UsageError, ['"w"', 'appears twice']],
    [writeModel(model, out, { extraFiles: { '../evil.txt': 'x' } }), UsageError, ['"../evil.txt"', 'plain file name']],
    [writeModel(model, out, { extraFiles: { 'model.json': 'x' } }), UsageError, ['"model.json"', 'taken']],
    [writeModel(model, out, { shardBytes: 0 }), UsageError, ['shardBytes', 'positive integer', 'found 0']],
    [writeModel(model, out, { quantize: 'int4' as 'none' }), UsageError, ['--quantize', 'keep, float16, uint8, none', '"int4"']],
  ];
  for (const [promise, cls, parts] of cases) {
    await rejectsWith(promise, cls, parts);
    assert.deepEqual(tree(root), before);
  }
  writeFileSync(out, 'a file');
  await rejectsWith(writeModel(model, out, { force: true }), UsageError, [out, 'expected a folder, found an existing file']);
});

test('never writes outside the output folder, whatever the weight names', async () => {
  const root = tempDir();
  const model = await graph(root);
  const weights = model.weights.map((w, i) => ({ ...w, name: i === 0 ? '../../escape' : '/etc/passwd' }));
  await writeModel({ json: model.json, weights }, join(root, 'nested', 'out'));
  assert.deepEqual(tree(join(root, 'nested')), ['out', 'out/group1-shard1of1.bin', 'out/model.json']);
  const back = await readModel(join(root, 'nested', 'out', 'model.json'));
  assert.deepEqual(back.weights.map((w) => w.name), ['../../escape', '/etc/passwd']);
});

test('the trained fixture model (fixtures/sentiment-mlp) round-trips byte for byte', async (t) => {
  const path = join(repoRoot, 'fixtures', 'sentiment-mlp', 'model.json');
  if (!existsSync(path)) {
    t.skip('fixtures/sentiment-mlp is not there');
    return;
  }
  const root = tempDir();
  await writeModel(await readModel(path), join(root, 'out'));
  for (const name of ['model.json', 'group1-shard1of1.bin']) {
    assert.ok(readFileSync(join(root, 'out', name)).equals(readFileSync(join(repoRoot, 'fixtures', 'sentiment-mlp', name))), name);
  }
  rmSync(root, { recursive: true, force: true });
});

test('non-finite values are written as they are: float32 and float16 keep NaN and ±Infinity, uint8 leaves such a weight float32', async () => {
  const root = tempDir();
  const model = await graph(root);
  const [w, b] = model.weights;
  const values = new Float32Array([1, -Infinity, 3, NaN, 5, Infinity]);
  for (const quantize of ['keep', 'float16', 'uint8'] as const) {
    const out = join(root, quantize);
    await writeModel({ json: model.json, weights: [{ ...w, values }, b] }, out, { quantize });
    const back = await readModel(join(out, 'model.json'));
    const read = back.weights.find((x) => x.name === w.name)!;
    assert.deepEqual(Array.from(read.values as Float32Array), Array.from(values), quantize);
    const spec = (JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { weightsManifest: { weights: { name: string; quantization?: { dtype: string } }[] }[] }).weightsManifest[0].weights.find((x) => x.name === w.name)!;
    assert.equal(spec.quantization?.dtype, quantize === 'float16' ? 'float16' : undefined, quantize);
  }
});
