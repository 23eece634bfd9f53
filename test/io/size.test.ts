import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ModelFormatError } from '../../src/errors.js';
import { gzipSizes, modelBytes, readModel, readModelAndBytes, writeModel } from '../../src/io/index.js';
import { EXACT_GZIP_MAX } from '../../src/io/size.js';
import { gaussianArray } from '../../src/linalg/random.js';
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
  // readModelAndBytes: the same model as readModel and the same sizes, from one read.
  const both = await readModelAndBytes(join(root, 'out', 'model.json'));
  assert.deepEqual(await both.bytes, expected);
  assert.deepEqual(both.model, await readModel(join(root, 'out', 'model.json')));
});

test('modelBytes refuses an invalid model like readModel', async () => {
  const root = tempDir();
  await rejectsWith(modelBytes(join(root, 'missing.json')), ModelFormatError, ['missing.json', 'no such file']);
  await rejectsWith(readModelAndBytes(join(root, 'missing.json')), ModelFormatError, ['missing.json', 'no such file']);
});

test('gzipSizes: exact up to EXACT_GZIP_MAX; above it a deterministic sampled estimate within 1% of the exact size, flagged', async () => {
  const small = [Buffer.from('{"format":"layers-model"}'), Buffer.from(new Float32Array(gaussianArray(1000, 1)).buffer)];
  assert.deepEqual(await gzipSizes(small), { raw: small[0].byteLength + 4000, gzip: small.reduce((a, c) => a + gzipSync(c, { level: 9 }).byteLength, 0) });
  // 20 MiB of weights in 4 MiB shards: trained-like floats, and a pruned shard that is mostly zeros.
  const shards: Uint8Array[] = [Buffer.from('{"weightsManifest":[]}')];
  for (let s = 0; s < 5; s++) {
    const w = gaussianArray(2 ** 20, 10 + s);
    if (s === 4) for (let i = 0; i < w.length; i++) if (i % 4 !== 0) w[i] = 0;
    shards.push(new Uint8Array(w.buffer));
  }
  const exact = shards.reduce((a, c) => a + gzipSync(c, { level: 9 }).byteLength, 0);
  const sizes = await gzipSizes(shards);
  assert.ok(sizes.raw > EXACT_GZIP_MAX);
  assert.equal(sizes.gzipEstimated, true);
  assert.ok(Math.abs(sizes.gzip - exact) / exact < 0.01, `estimate ${sizes.gzip} vs exact ${exact}`);
  assert.deepEqual(await gzipSizes(shards), sizes);
});
