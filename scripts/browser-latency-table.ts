/**
 * Node vs browser latency of every fixture, original against compressed (HMF x4 by
 * default): `hmf bench --vs --browser` figures (median ms, A/B interleaved after warm-up)
 * in Node on wasm (1 thread) and in headless Chromium on wasm (SIMD, 1 thread) and webgl,
 * batch 1 and 32, as a Markdown table. Run it under the exclusive CPU lock and quote the load.
 *
 *   npm run build && node dist/scripts/browser-latency-table.js [--method hmf] [--factor 4] [--runs 30] [--fixtures a,b]
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bench } from '../src/bench.js';
import { compress } from '../src/compress.js';
import type { MethodName } from '../src/methods/types.js';
import { browserBackendLabel } from '../src/report/browser.js';
import type { BatchLatency } from '../src/measure/latency.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (flag: string, fallback: string) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const method = arg('--method', 'hmf') as MethodName;
const factor = Number(arg('--factor', '4'));
const runs = Number(arg('--runs', '30'));
const all = readdirSync(join(root, 'fixtures')).filter((f) => existsSync(join(root, 'fixtures', f, 'model.json')));
const fixtures = arg('--fixtures', all.join(',')).split(',');

const cell = (b: BatchLatency | undefined) => (b ? `${b.original.medianMs.toFixed(2)} -> ${b.compressed.medianMs.toFixed(2)} (${b.speedup.toFixed(2)}x)` : 'not timed');
const tmp = mkdtempSync(join(tmpdir(), 'hmf-latency-table-'));
const rows: string[] = [];
let header = '';
let browserName = '';
try {
  for (const fixture of fixtures) {
    const out = join(tmp, fixture);
    process.stderr.write(`${fixture}: compressing\n`);
    await compress(join(root, 'fixtures', fixture, 'model.json'), { method, factor, out, bench: false });
    process.stderr.write(`${fixture}: timing\n`);
    const r = await bench(join(root, 'fixtures', fixture, 'model.json'), { vs: join(out, 'model.json'), runs, browser: true });
    const backends = r.browser?.backends ?? [];
    browserName = r.browser?.browser ?? '';
    header ||= `| fixture | batch | Node ${r.backend} (${r.threads} thread) | ${backends.map((b) => `Chromium ${browserBackendLabel(b)}`).join(' | ')} |`;
    for (const batch of r.batches.map((b) => b.batch)) {
      const browser = backends.map((b) => cell(b.batches.find((x) => x.batch === batch)));
      rows.push(`| ${fixture} | ${batch} | ${cell(r.batches.find((x) => x.batch === batch))} | ${browser.join(' | ')} |`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.stdout.write(`${method} x${factor}, median ms original -> compressed (speedup), up to ${runs} runs A/B interleaved; ${browserName}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end\n\n`);
process.stdout.write(`${header}\n|---|--:|--:|${'--:|'.repeat(header.split('|').length - 5)}\n${rows.join('\n')}\n`);
