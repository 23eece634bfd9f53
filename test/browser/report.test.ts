import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_HINT, findChromium } from '../../src/browser/chromium.js';
import { renderPage } from '../../src/browser/screenshot.js';
import type { Report } from '../../src/report/schema.js';
import { renderSweepHtml } from '../../src/report/html.js';
import { runHmf } from '../cli/run.js';
import { repoRoot, tempDir } from '../helpers.js';

/**
 * `compress --bench-browser --report report.html` through the real binary on the BiGRU
 * fixture: report.json gets the browser's latency beside Node's (with every run's time),
 * the HTML is one file with the tables and plots, and headless Chromium renders it without
 * a console message, every plot laid out and drawn (coloured pixels in the screenshot).
 * Without Chromium the browser parts are skipped with a message.
 */

const chromium = findChromium();
const SKIP = chromium ? false : `no Chromium found: ${CHROMIUM_HINT}`;
const RUNS = 5;

const dir = tempDir('hmf-report-');
const html = join(dir, 'report.html');
let report: Report;
let stdout = '';

before(async () => {
  if (SKIP) return;
  const r = await runHmf(['compress', join(repoRoot, 'fixtures/sentiment-gru/model.json'), '-o', join(dir, 'out'), '--runs', String(RUNS), '--bench-browser', '--report', html, '-q']);
  assert.equal(r.code, 0, r.stderr);
  stdout = r.stdout;
  report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as Report;
});

/** Batches timed in Node and in the browser: one latency plot each. */
function timedBatches(): number {
  return (report.latency?.batches.length ?? 0) + (report.browserLatency?.backends ?? []).reduce((n, b) => n + b.batches.length, 0);
}

/** Pixels of a PNG close to an RGB colour, counted by the browser's own PNG decoder. */
async function countPixels(png: Buffer, rgb: [number, number, number]): Promise<number> {
  const page = join(dir, 'count.html');
  writeFileSync(page, '<!doctype html><canvas></canvas>');
  const { chromium: pw } = await import('playwright-core');
  const browser = await pw.launch({ executablePath: chromium!, args: ['--no-sandbox', '--disable-background-networking'] });
  try {
    const p = await browser.newPage();
    await p.goto(`file://${page}`);
    return await p.evaluate(
      async ({ data, rgb: [r, g, b] }) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const g2 = globalThis as unknown as {
          createImageBitmap(b: unknown): Promise<{ width: number; height: number }>;
          Blob: new (parts: unknown[], o: { type: string }) => unknown;
          OffscreenCanvas: new (w: number, h: number) => { getContext(k: '2d'): { drawImage(i: unknown, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
        };
        const image = await g2.createImageBitmap(new g2.Blob([bytes], { type: 'image/png' }));
        const ctx = new g2.OffscreenCanvas(image.width, image.height).getContext('2d');
        ctx.drawImage(image, 0, 0);
        const px = ctx.getImageData(0, 0, image.width, image.height).data;
        let n = 0;
        for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 30) n++;
        return n;
      },
      { data: png.toString('base64'), rgb },
    );
  } finally {
    await browser.close();
  }
}

describe('compress --bench-browser --report report.html', { skip: SKIP }, () => {
  test('report.json: latency in Chromium on wasm and webgl, batch 1 and 32, beside Node, with the browser version and every run', () => {
    const b = report.browserLatency;
    assert.ok(b, 'browserLatency');
    assert.match(b.browser, /^Chromium \d+\.\d+/);
    assert.deepEqual(b.backends.map((x) => x.backend), ['wasm', 'webgl']);
    assert.match(b.backends[0].detail, /1 thread/);
    // Batch 1 is always timed; batch 32 too unless one round of it would blow the time cap
    // (a machine under heavy load), and then the report says so.
    const timedOrSaid = (batches: { batch: number }[], skipped: string[]) => [...batches.map((x) => x.batch), ...skipped.map((s) => Number(/^batch (\d+)/.exec(s)?.[1]))];
    for (const backend of b.backends) {
      assert.equal(backend.batches[0]?.batch, 1, backend.backend);
      assert.deepEqual(timedOrSaid(backend.batches, backend.skipped).sort((p, q) => p - q), [1, 32], backend.backend);
      for (const x of backend.batches) {
        assert.ok(x.original.medianMs > 0 && x.compressed.medianMs > 0);
        assert.equal(x.runs, RUNS);
        assert.deepEqual([x.samples?.original.length, x.samples?.compressed.length], [RUNS, RUNS]);
      }
    }
    assert.ok(report.latency && report.latency.batches[0]?.batch === 1);
    for (const x of report.latency.batches) assert.deepEqual([x.samples?.original.length, x.samples?.compressed.length], [RUNS, RUNS]);
    assert.match(stdout, /latency in Chromium \d+.*\n.*wasm \(SIMD, 1 thread\) batch 1 /);
    assert.match(stdout, /webgl \(.*\) batch 1 /);
  });

  test('the HTML is one file: no script, no link, no external source', () => {
    const text = readFileSync(html, 'utf8');
    assert.doesNotMatch(text, /<(script|link|img|iframe|object|embed)\b/i);
    assert.doesNotMatch(text, /<[^>]+\s(src|href)=/i);
    assert.doesNotMatch(text, /url\(/i);
    assert.match(text, /<table>/);
    assert.equal((text.match(/<svg /g) ?? []).length, 2 + timedBatches());
  });

  test('Chromium renders it: no console message, every plot laid out with its marks, coloured pixels in the screenshot', async () => {
    const page = await renderPage(html);
    writeFileSync(join(dir, 'report.png'), page.png);
    assert.deepEqual(page.messages, []);
    const kinds = page.plots.map((p) => p.kind);
    assert.deepEqual(kinds.filter((k) => k !== 'latency'), ['matrix-error', 'matrix-params']);
    // One per timed batch: Node's, Chromium's on wasm and on webgl.
    assert.equal(kinds.filter((k) => k === 'latency').length, timedBatches());
    assert.ok(timedBatches() >= 3);
    for (const p of page.plots) {
      assert.ok(p.width > 300 && p.height > 80, `${p.kind}: ${p.width}x${p.height}`);
      assert.ok(p.marks > 0, `${p.kind}: nothing drawn`);
    }
    assert.equal(page.plots.find((p) => p.kind === 'matrix-error')?.marks, report.matrices.length);
    for (const p of page.plots.filter((x) => x.kind === 'latency')) assert.equal(p.marks, 2 * RUNS);
    // The compressed model's blue (bars and dots) and the original's grey are on screen.
    assert.ok((await countPixels(page.png, [0x2f, 0x6f, 0xdb])) > 2000);
    assert.ok((await countPixels(page.png, [0x8a, 0x8f, 0x98])) > 500);
  });
});

describe('the sweep page', { skip: SKIP }, () => {
  test('renders the Pareto plot: every point, the front joined, no console message', async () => {
    const sweep = join(dir, 'sweep.html');
    const rows = [
      { method: 'hmf', factor: 2, bytes: 600_000, error: 0.01, front: true },
      { method: 'hmf', factor: 4, bytes: 300_000, error: 0.03, front: true },
      { method: 'lmf', factor: 4, bytes: 300_000, error: 0.05, front: false },
      { method: 'prune', factor: 8, bytes: 160_000, error: 0.2, front: true },
    ];
    writeFileSync(
      sweep,
      renderSweepHtml({
        title: 'hmf sweep',
        context: ['fixture'],
        table: { header: ['method', 'factor', 'bytes', 'error'], rows: rows.map((r) => [r.method, String(r.factor), String(r.bytes), String(r.error)]) },
        plots: [
          {
            title: 'Pareto front',
            points: rows.map((r) => ({ x: r.bytes, y: r.error, label: `x${r.factor}`, group: r.method, front: r.front })),
            axes: { x: 'bytes (gzip)', y: 'relative output error', logX: true },
          },
        ],
      }),
    );
    const page = await renderPage(sweep);
    assert.deepEqual(page.messages, []);
    assert.deepEqual(page.plots.map((p) => [p.kind, p.marks]), [['pareto', rows.length]]);
    assert.match(readFileSync(sweep, 'utf8'), /<polyline class="front"/);
  });
});
