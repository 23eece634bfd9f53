import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp');

interface JsonError {
  error: { type: string; message: string; exitCode: number };
}

/** Failing runs of each command and exit class; `--json` is appended to each. */
const failures: { name: string; code: number; field: RegExp; args: (dir: string) => string[] }[] = [
  { name: 'unknown command', code: 2, field: /frobnicate/, args: () => ['frobnicate'] },
  { name: 'compress: unknown flag', code: 2, field: /--frobnicate/, args: (dir) => ['compress', join(mlp, 'model.json'), '--frobnicate', '-o', join(dir, 'out')] },
  { name: 'compress: --factor abc', code: 2, field: /--factor/, args: (dir) => ['compress', join(mlp, 'model.json'), '-f', 'abc', '-o', join(dir, 'out')] },
  { name: 'compress: a missing model', code: 3, field: /nope\.json/, args: (dir) => ['compress', join(dir, 'nope.json'), '-o', join(dir, 'out')] },
  {
    name: 'compress: malformed model.json',
    code: 3,
    field: /model\.json/,
    args: (dir) => {
      writeFileSync(join(dir, 'model.json'), '{"modelTopology": ');
      return ['compress', join(dir, 'model.json'), '-o', join(dir, 'out')];
    },
  },
  { name: 'compress: quality gate', code: 5, field: /--max-error/, args: (dir) => ['compress', join(mlp, 'model.json'), '-f', '8', '--max-error', '0', '--no-bench', '-o', join(dir, 'out')] },
  { name: 'inspect: a missing model', code: 3, field: /nope\.json/, args: (dir) => ['inspect', join(dir, 'nope.json')] },
  { name: 'bench: --runs x', code: 2, field: /--runs/, args: () => ['bench', join(mlp, 'model.json'), '--runs', 'x'] },
  { name: 'eval: a missing data file', code: 2, field: /nope\.json/, args: (dir) => ['eval', join(mlp, 'model.json'), '--data', join(dir, 'nope.json')] },
];

for (const f of failures) {
  test(`--json, ${f.name}: exit ${f.code}, the message on stderr and {"error": {..., "exitCode": ${f.code}}} on stdout, nothing written`, async () => {
    const dir = tempDir();
    const r = await runHmf([...f.args(dir), '--json']);
    assert.equal(r.code, f.code, r.stderr);
    assert.match(r.stderr, f.field);
    const parsed = JSON.parse(r.stdout) as JsonError;
    assert.equal(parsed.error.exitCode, f.code);
    assert.match(parsed.error.message, f.field);
    assert.equal(r.stderr.split('\n')[0], `hmf: ${parsed.error.message}`);
    assert.notEqual(parsed.error.type, 'InternalError');
    assert.ok(!existsSync(join(dir, 'out')), 'no output folder');
  });
}

test('without --json a failure prints nothing on stdout', async () => {
  const r = await runHmf(['compress', join(mlp, 'model.json'), '-f', 'abc']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
});

test('an unknown command: the error line first, then where help is', async () => {
  const r = await runHmf(['frobnicate']);
  assert.equal(r.code, 2);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), ["hmf: unknown command 'frobnicate'", "(run 'hmf --help' for usage)"]);
  const missing = await runHmf(['compress']);
  assert.equal(missing.code, 2);
  assert.deepEqual(missing.stderr.trimEnd().split('\n'), ["hmf: missing required argument 'model.json'", "(run 'hmf compress --help' for usage)"]);
});

test('a model folder given instead of its model.json: exit 3, "did you mean <folder>/model.json?"; a folder without one: no suggestion', async () => {
  const dir = tempDir();
  const folder = join(dir, 'mlp');
  cpSync(mlp, folder, { recursive: true });
  const r = await runHmf(['compress', folder, '-o', join(dir, 'out')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`found a folder; did you mean ${join(folder, 'model.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\?`));
  const inspected = await runHmf(['inspect', folder]);
  assert.equal(inspected.code, 3);
  assert.match(inspected.stderr, /did you mean .*model\.json\?/);
  const empty = await runHmf(['compress', dir, '-o', join(dir, 'out')]);
  assert.equal(empty.code, 3);
  assert.match(empty.stderr, /found a folder\n/);
  assert.doesNotMatch(empty.stderr, /did you mean/);
  assert.ok(!existsSync(join(dir, 'out')));
  assert.equal(readFileSync(join(folder, 'model.json'), 'utf8'), readFileSync(join(mlp, 'model.json'), 'utf8'));
});
