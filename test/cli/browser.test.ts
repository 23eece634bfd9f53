import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport } from '../../src/bench.js';
import { CHROMIUM_HINT, findChromium } from '../../src/browser/chromium.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

/** The browser flags and the HTML report through the real binary. */

const mlp = join(repoRoot, 'fixtures', 'intent-mlp', 'model.json');
const chromium = findChromium();

describe('without a browser', () => {
  const noBrowser = { HMF_CHROMIUM: join(tempDir(), 'no-chromium') };

  test('bench --browser: exit 2 naming the flag and how to get Chromium, nothing on stdout', async () => {
    const r = await runHmf(['bench', mlp, '--browser', '--runs', '2'], { env: noBrowser });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /--browser: no Chromium found \(HMF_CHROMIUM=.*no-chromium does not exist\); install Debian's chromium/);
  });

  test('compress --bench-browser: exit 2 before any work, no output folder', async () => {
    const out = join(tempDir(), 'out');
    const r = await runHmf(['compress', mlp, '-o', out, '--bench-browser', '--json'], { env: noBrowser });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bench-browser: no Chromium found/);
    assert.equal((JSON.parse(r.stdout) as { error: { exitCode: number } }).error.exitCode, 2);
    assert.ok(!existsSync(out));
  });
});

test('compress --report x.html writes the HTML report (tables and plots), --report x.md still Markdown', async () => {
  const dir = tempDir();
  const html = join(dir, 'r.html');
  const r = await runHmf(['compress', mlp, '-o', join(dir, 'out'), '--no-bench', '--report', html, '-q', '--objective', 'size']);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(html, 'utf8');
  assert.match(text, /^<!doctype html>/);
  assert.match(text, /<figure class="plot" data-plot="matrix-error">/);
  assert.match(text, /<figure class="plot" data-plot="matrix-params">/);
  assert.match(text, /Not measured \(<code>--no-bench<\/code>\)/);
  const md = join(dir, 'r.md');
  assert.equal((await runHmf(['compress', mlp, '-o', join(dir, 'out2'), '--no-bench', '--report', md, '-q', '--objective', 'size'])).code, 0);
  assert.match(readFileSync(md, 'utf8'), /^# hmf report/);
});

test('--help shows the browser flags and the HTML report', async () => {
  const compress = await runHmf(['compress', '--help']);
  assert.match(compress.stdout, /--bench-browser/);
  assert.match(compress.stdout.replace(/\s+/g, ' '), /--report <file> .* HTML page with plots when the name ends in .html/);
  assert.match((await runHmf(['bench', '--help'])).stdout, /--browser/);
});

describe('with Chromium', { skip: chromium ? false : `no Chromium found: ${CHROMIUM_HINT}` }, () => {
  test('bench --browser --json: Node and Chromium (wasm, webgl) at each batch, with the browser version', async () => {
    const r = await runHmf(['bench', mlp, '--browser', '--runs', '3', '--batch', '1,8', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as BenchReport;
    assert.deepEqual(result.batches.map((b) => b.batch), [1, 8]);
    assert.match(result.browser?.browser ?? '', /^Chromium \d+/);
    assert.deepEqual(result.browser?.backends.map((b) => [b.backend, b.batches.map((x) => x.batch)]), [['wasm', [1, 8]], ['webgl', [1, 8]]]);
    for (const b of result.browser?.backends.flatMap((x) => x.batches) ?? []) assert.ok(b.original.medianMs > 0 && b.runs === 3);
  });

  test('bench --browser prints Node and Chromium rows', async () => {
    const r = await runHmf(['bench', mlp, '--browser', '--runs', '2', '--batch', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Node wasm \(1 thread\)\s+1 /);
    assert.match(r.stdout, /Chromium wasm \(SIMD, 1 thread\)\s+1 /);
    assert.match(r.stdout, /Chromium webgl \(.+\)\s+1 /);
    assert.match(r.stdout, /browser: Chromium \d+/);
  });
});
