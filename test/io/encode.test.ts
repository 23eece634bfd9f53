import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { encodeModel, readModel, writeFiles, writeModel } from '../../src/io/index.js';
import { splitShards, withManifest } from '../../src/io/encode.js';
import { tempDir } from '../helpers.js';
import { graphModel, layersJson, rejectsWith, tree, writeRaw } from './support.js';

test('encodeModel gives in memory exactly the files writeModel writes', async () => {
  const root = tempDir();
  const { json, shard } = graphModel();
  const model = await readModel(writeRaw(join(root, 'graph'), json, { 'group1-shard1of1.bin': shard }));
  const files = encodeModel(model, { shardBytes: 20, quantize: 'float16' });
  assert.deepEqual([...files.keys()], ['model.json', 'group1-shard1of1.bin']);
  await writeModel(model, join(root, 'out'), { shardBytes: 20, quantize: 'float16' });
  for (const [name, bytes] of files) assert.deepEqual(readFileSync(join(root, 'out', name)), Buffer.from(bytes), name);
  assert.deepEqual(tree(join(root, 'out')), [...files.keys()].sort());
});

test('writeFiles writes a map of files atomically and refuses names with folders', async () => {
  const root = tempDir();
  const out = join(root, 'out');
  const written = await writeFiles(new Map<string, string | Uint8Array>([['a.txt', 'héllo'], ['b.bin', new Uint8Array(3)]]), out);
  assert.deepEqual(written.files, [{ name: 'a.txt', bytes: 6 }, { name: 'b.bin', bytes: 3 }]);
  assert.equal(written.totalBytes, 9);
  for (const bad of ['../x', 'a/b', '', '..', 'c\\d']) {
    await rejectsWith(writeFiles(new Map([[bad, 'x']]), join(root, 'other')), UsageError, [JSON.stringify(bad), 'plain file name']);
  }
  assert.deepEqual(tree(root), ['out', 'out/a.txt', 'out/b.bin']);
});

test('splitShards cuts every shardBytes bytes and names shards groupN-shardMofK', () => {
  const data = new Uint8Array(10).map((_, i) => i);
  const shards = splitShards(data, 4);
  assert.deepEqual(shards.map((s) => [s.name, [...s.bytes]]), [
    ['group1-shard1of3.bin', [0, 1, 2, 3]],
    ['group1-shard2of3.bin', [4, 5, 6, 7]],
    ['group1-shard3of3.bin', [8, 9]],
  ]);
  assert.deepEqual(splitShards(new Uint8Array(0), 4), []);
  assert.throws(() => splitShards(data, 1.5), UsageError);
});

test('withManifest puts weightsManifest last and keeps the other keys in order', () => {
  const out = withManifest({ format: 'f', modelTopology: {}, weightsManifest: 'stale', extra: 1 }, ['m']);
  assert.deepEqual(Object.keys(out), ['format', 'modelTopology', 'extra', 'weightsManifest']);
  assert.deepEqual(out.weightsManifest, ['m']);
});

test('the manifest "group" tag (optimizer weights) survives a round trip', async () => {
  const root = tempDir();
  const weights = [
    { name: 'dense/kernel', shape: [1], dtype: 'float32' },
    { name: 'Adam/iter', shape: [], dtype: 'int32', group: 'optimizer' },
  ];
  const path = writeRaw(join(root, 'in'), layersJson(weights), { 'group1-shard1of1.bin': new Uint8Array(8) });
  const model = await readModel(path);
  assert.deepEqual(model.weights.map((w) => w.group), [undefined, 'optimizer']);
  const files = encodeModel(model);
  const manifest = JSON.parse(Buffer.from(files.get('model.json') as Uint8Array).toString('utf8')).weightsManifest;
  assert.deepEqual(manifest[0].weights, weights);
});
