import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ModelFormatError } from '../../src/errors.js';
import { modelBytes, readModel, writeModel } from '../../src/io/index.js';
import { tempDir } from '../helpers.js';
import { graphModel, rejectsWith, writeRaw } from './support.js';

test('modelBytes sums model.json and shards, raw and gzip level 9 per file', async () => {
  const root = tempDir();
  const { json, shard } = graphModel();
  const model = await readModel(writeRaw(join(root, 'g'), json, { 'group1-shard1of1.bin': shard }));
  const written = await writeModel(model, join(root, 'out'), { shardBytes: 12, extraFiles: { 'report.json': 'x'.repeat(1000) } });
  const modelFiles = written.files.filter((f) => f.name !== 'report.json');
  assert.equal(modelFiles.length, 4);
  const contents = modelFiles.map((f) => readFileSync(join(root, 'out', f.name)));
  const expected = {
    raw: contents.reduce((a, c) => a + c.byteLength, 0),
    gzip: contents.reduce((a, c) => a + gzipSync(c, { level: 9 }).byteLength, 0),
  };
  assert.deepEqual(await modelBytes(join(root, 'out', 'model.json')), expected);
  assert.equal(expected.raw, written.totalBytes - 1000, 'report.json is not part of the model');
});

test('modelBytes refuses an invalid model like readModel', async () => {
  const root = tempDir();
  await rejectsWith(modelBytes(join(root, 'missing.json')), ModelFormatError, ['missing.json', 'no such file']);
});
