import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { InspectReport } from '../../src/inspect.js';
import { repoRoot } from '../helpers.js';
import { runHmf } from './run.js';

const mlp = join(repoRoot, 'fixtures', 'sentiment-mlp', 'model.json');

test('hmf inspect lists layers, matrices, what would be compressed and why not, and energy kept', async () => {
  const r = await runHmf(['inspect', mlp]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /hidden1\/kernel\s+2000x256\s+512,000\s+yes/);
  assert.match(r.stdout, /output\/kernel\s+128x2\s+256\s+no: 256 parameters, below --min-params 4096/);
  assert.match(r.stdout, /LMF x2\s+HMF x2\s+LMF x4\s+HMF x4\s+LMF x8\s+HMF x8/);
});

test('hmf inspect --json: energy kept falls with the factor and HMF keeps at least LMF\'s', async () => {
  const r = await runHmf(['inspect', mlp, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as InspectReport;
  assert.deepEqual(report.layers.map((l) => l.name), ['hidden1', 'hidden2', 'output']);
  const targets = report.matrices.filter((m) => m.compressed);
  assert.equal(targets.length, 2);
  for (const m of targets) {
    const e = m.energyKept!;
    assert.deepEqual(e.map((x) => x.factor), [2, 4, 8]);
    for (let i = 0; i < e.length; i++) {
      assert.ok(e[i].lmf! > 0 && e[i].lmf! < 1);
      assert.ok(e[i].hmf! >= e[i].lmf! - 1e-9, `${m.weight} x${e[i].factor}: hmf ${e[i].hmf} < lmf ${e[i].lmf}`);
      if (i > 0) assert.ok(e[i].lmf! < e[i - 1].lmf!);
    }
  }
  const small = report.matrices.find((m) => m.weight === 'output/kernel')!;
  assert.equal(small.compressed, false);
  assert.match(small.reason!, /below --min-params/);
});

test('--help and --version exit 0 on stdout; no command is a usage error', async () => {
  const help = await runHmf(['compress', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--factor <n>/);
  assert.match(help.stdout, /--no-bench/);
  const version = await runHmf(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const none = await runHmf(['frobnicate']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /frobnicate/);
});

test('inspect of a missing file: exit 3 naming it', async () => {
  const r = await runHmf(['inspect', join(repoRoot, 'nope', 'model.json')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /nope\/model\.json/);
});
