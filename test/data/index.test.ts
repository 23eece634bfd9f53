import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDataFile } from '../../src/data/index.js';
import { UsageError } from '../../src/errors.js';
import { repoRoot, tempDir } from '../helpers.js';

describe('readDataFile', () => {
  it('a missing file or a folder is a UsageError naming it', async () => {
    const dir = tempDir();
    await assert.rejects(readDataFile(join(dir, 'nope.json'), [{ name: 'x', shape: [1], dtype: 'float32' }]), (err: unknown) => {
      return err instanceof UsageError && err.message.startsWith(join(dir, 'nope.json')) && /found no such file/.test(err.message);
    });
    mkdirSync(join(dir, 'sub.json'));
    await assert.rejects(readDataFile(join(dir, 'sub.json'), [{ name: 'x', shape: [1], dtype: 'float32' }]), /sub\.json: cannot read the data file: .*found a folder/);
  });

  it('reads a fixture test set and a JSON Lines file by extension', async () => {
    const d = await readDataFile(join(repoRoot, 'fixtures', 'sentiment-embed', 'test.json'), [{ name: 'token_ids', shape: [32], dtype: 'int32', vocab: 4000 }], { output: [2] });
    assert.equal(d.count, 600);
    assert.equal(d.inputs[0].values.length, 600 * 32);
    assert.equal(d.labels!.length, 600);
    const dir = tempDir();
    const file = join(dir, 'd.jsonl');
    writeFileSync(file, '{"input": [0.5], "label": 1}\n{"input": [1.5], "label": 0}\n');
    const l = await readDataFile(file, [{ name: 'x', shape: [1], dtype: 'float32' }]);
    assert.equal(l.path, file);
    assert.equal(l.format, 'jsonl');
    assert.deepEqual(Array.from(l.labels!), [1, 0]);
  });
});
