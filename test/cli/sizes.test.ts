import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { fileSaver } from '../../src/io/index.js';
import { EXACT_GZIP_MAX } from '../../src/io/size.js';
import type { Report } from '../../src/report/schema.js';
import { tempDir } from '../helpers.js';
import { runHmf } from './run.js';

before(async () => {
  await initBackend();
});

test('a model above 16 MiB: gzip sizes estimated, flagged in report.json and on the terminal', async () => {
  const root = tempDir();
  // 2100x2100 float32 = 16.8 MiB of weights.
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2100], units: 2100, useBias: false }), tf.layers.dense({ units: 4 })] });
  await model.save(fileSaver(join(root, 'big')));
  model.dispose();
  const out = join(root, 'out');
  const r = await runHmf(['compress', join(root, 'big', 'model.json'), '-m', 'lmf', '-f', '8', '-o', out, '--no-bench', '--probes', '4']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  const { before: original, after } = report.totals.bytes;
  assert.ok(original.raw > EXACT_GZIP_MAX);
  assert.equal(original.gzipEstimated, true);
  assert.ok(original.gzip > 0.8 * original.raw && original.gzip < original.raw, `gzip ${original.gzip} of ${original.raw}`);
  // The compressed model (about 2 MiB) is small enough for exact sizes.
  assert.equal(after.gzipEstimated, undefined);
  assert.match(r.stdout, /bytes gzip .*\(estimated from a 1\/8 sample\)/);
});
