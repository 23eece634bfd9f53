import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { ModelFormatError } from '../../src/errors.js';
import { fileLoader, fileSaver, readModel, toArtifacts, writeModel } from '../../src/io/index.js';
import { tempDir } from '../helpers.js';
import { denseModel, f32, graphModel, layersJson, probe, rejectsWith, setDeterministicWeights, writeRaw } from './support.js';

before(async () => {
  await initBackend();
});

test('a model saved with tf.io.withSaveHandler reads back and loads in memory through toArtifacts', async () => {
  const model = denseModel();
  setDeterministicWeights(model);
  const expected = (model.predict(probe(3, 6)) as tf.Tensor).arraySync();
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  assert.ok(saved);
  const root = tempDir();
  await model.save(fileSaver(join(root, 'saved')));
  const file = await readModel(join(root, 'saved', 'model.json'));
  // fileSaver stores what TF.js handed over: same topology and weight bytes.
  assert.deepEqual(file.json.modelTopology, saved.modelTopology);
  const bytes = Buffer.concat(file.weights.map((w) => Buffer.from((w.values as Float32Array).buffer)));
  assert.deepEqual(bytes, Buffer.from(tf.io.CompositeArrayBuffer.join(saved.weightData as ArrayBuffer)));

  const loaded = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(file)));
  assert.deepEqual((loaded.predict(probe(3, 6)) as tf.Tensor).arraySync(), expected);
});

test('toArtifacts encodes like writeModel: quantized in memory equals quantized on disk', async () => {
  const root = tempDir();
  const model = denseModel();
  setDeterministicWeights(model);
  await model.save(fileSaver(join(root, 'a')));
  const file = await readModel(join(root, 'a', 'model.json'));
  await writeModel(file, join(root, 'q'), { quantize: 'uint8' });
  const fromDisk = await tf.loadLayersModel(fileLoader(join(root, 'q', 'model.json')));
  const inMemory = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(file, { quantize: 'uint8' })));
  const a = fromDisk.getWeights().map((w) => [...w.dataSync()]);
  const b = inMemory.getWeights().map((w) => [...w.dataSync()]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], [...file.weights[0].values], 'uint8 must actually change the values');
});

test('toArtifacts keeps graph-model keys so tf.loadGraphModel runs it', async () => {
  const { json, shard } = graphModel();
  const file = await readModel(writeRaw(tempDir(), json, { 'group1-shard1of1.bin': shard }));
  const artifacts = toArtifacts(file);
  assert.equal(artifacts.format, 'graph-model');
  assert.deepEqual(artifacts.signature, json.signature);
  assert.deepEqual(artifacts.modelInitializer, json.modelInitializer);
  const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  assert.deepEqual((graph.predict(tf.tensor2d([[0, 1, 0]])) as tf.Tensor).arraySync(), [[13, 24]]);
});

test('fileLoader hands TF.js the stored bytes and applies the same safety checks as readModel', async () => {
  const root = tempDir();
  const { json, shard } = graphModel();
  const path = writeRaw(join(root, 'g'), json, { 'group1-shard1of1.bin': shard });
  const artifacts = await fileLoader(path).load!();
  assert.deepEqual(artifacts.weightSpecs, (json.weightsManifest as { weights: unknown }[])[0].weights);
  assert.deepEqual(Buffer.from(artifacts.weightData as ArrayBuffer), Buffer.from(shard));
  assert.deepEqual(artifacts.userDefinedMetadata, json.userDefinedMetadata);

  const escape = writeRaw(join(root, 'bad'), layersJson([{ name: 'w', shape: [1], dtype: 'float32' }], ['../g/group1-shard1of1.bin']));
  await rejectsWith(fileLoader(escape).load!(), ModelFormatError, [escape, 'outside the model folder']);
  const short = writeRaw(join(root, 'short'), layersJson([{ name: 'w', shape: [4], dtype: 'float32' }]), { 'group1-shard1of1.bin': f32([1]) });
  await rejectsWith(fileLoader(short).load!(), ModelFormatError, [short, 'needs 16 bytes', 'found 4 bytes']);
});

test('fileLoader joins several weight groups into one buffer in manifest order', async () => {
  const json = {
    modelTopology: { node: [] },
    format: 'graph-model',
    weightsManifest: [
      { paths: ['a.bin'], weights: [{ name: 'a', shape: [2], dtype: 'float32' }] },
      { paths: ['b.bin'], weights: [{ name: 'b', shape: [1], dtype: 'float32' }] },
    ],
  };
  const path = writeRaw(tempDir(), json, { 'a.bin': f32([1, 2]), 'b.bin': f32([3]) });
  const artifacts = await fileLoader(path).load!();
  assert.deepEqual([...new Float32Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer))], [1, 2, 3]);
  assert.deepEqual(artifacts.weightSpecs?.map((s) => s.name), ['a', 'b']);
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).weightsManifest.length, 2);
});
