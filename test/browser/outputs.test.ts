import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { CHROMIUM_HINT, findChromium } from '../../src/browser/chromium.js';
import type { HarnessPage, WireTensor } from '../../src/browser/page.js';
import { BrowserSession } from '../../src/browser/session.js';
import { toWire } from '../../src/browser/wire.js';
import { compress } from '../../src/compress.js';
import { readModel } from '../../src/io/index.js';
import { makeProbes } from '../../src/measure/probes.js';
import { graphAdapter, layersAdapter } from '../../src/model/adapter.js';
import { repoRoot, tempDir } from '../helpers.js';

/**
 * Every fixture, original and compressed with each method (and quantized, --sparse pruning
 * for layers models, --portable for the recurrent ones), loaded from a local server by stock TF.js in headless Chromium
 * on the wasm and webgl backends, gives Node's outputs on the same probes. Models that
 * need the runtime load in a page that has its script build (after TF.js's own script
 * tag, registering on the global tf) and fail without it; the others load in a page
 * with TF.js alone. Without Chromium every test is skipped with a message.
 */

const chromium = findChromium();
const SKIP = chromium ? false : `no Chromium found: ${CHROMIUM_HINT}`;

const FIXTURES = readdirSync(join(repoRoot, 'fixtures')).filter((f) => existsSync(join(repoRoot, 'fixtures', f, 'model.json')));
const isGraph = (fixture: string) => (JSON.parse(readFileSync(join(repoRoot, 'fixtures', fixture, 'model.json'), 'utf8')) as { format?: string }).format === 'graph-model';
const RECURRENT = new Set(['sentiment-gru', 'char-lstm']);

interface Variant {
  name: string;
  fixture: string;
  /** compress() options; null: the original model. */
  options: Parameters<typeof compress>[1] | null;
}

const VARIANTS: Variant[] = FIXTURES.flatMap((fixture) => [
  { name: `${fixture}`, fixture, options: null },
  ...(['hmf', 'lmf', 'prune'] as const).map((method) => ({ name: `${fixture}-${method}`, fixture, options: { method } })),
  { name: `${fixture}-hmf-uint8`, fixture, options: { method: 'hmf' as const, quantize: 'uint8' as const } },
  { name: `${fixture}-lmf-float16`, fixture, options: { method: 'lmf' as const, quantize: 'float16' as const } },
  ...(RECURRENT.has(fixture) ? [{ name: `${fixture}-hmf-portable`, fixture, options: { method: 'hmf' as const, portable: true } }] : []),
  // Pruned kernels stored compactly, run by the runtime's sparse layers (layers models only).
  ...(isGraph(fixture) ? [] : [{ name: `${fixture}-prune-sparse`, fixture, options: { method: 'prune' as const, sparse: true } }]),
]);

/**
 * Largest |browser - Node| allowed, relative to the largest |Node output| (at least 1):
 * the same float32 arithmetic in another order (XNNPACK builds, GL shaders). Seen here:
 * wasm 0 (the same XNNPACK build as Node's), webgl on SwiftShader up to 6e-7.
 */
const TOLERANCE = 1e-4;
const PROBES = 4;

const root = tempDir('hmf-browser-');
const models = new Map<string, { dir: string; format: 'layers-model' | 'graph-model'; runtime: boolean; inputs: WireTensor[]; expected: WireTensor[] }>();
let session: BrowserSession | null = null;
const pages: Partial<Record<'script' | 'none', HarnessPage>> = {};

before(async () => {
  if (SKIP) return;
  await initBackend();
  for (const v of VARIANTS) {
    const source = join(repoRoot, 'fixtures', v.fixture, 'model.json');
    let dir = join(repoRoot, 'fixtures', v.fixture);
    let runtime = false;
    if (v.options) {
      dir = join(root, v.name);
      // --objective size: every variant compressed (the default plan keeps the intent MLP's one small layer dense: exit 4).
      const { report } = await compress(source, { factor: 4, objective: 'size', ...v.options, out: dir, bench: false, probes: 16 });
      runtime = report.output.runtimeRequired;
    }
    const file = await readModel(join(dir, 'model.json'));
    const adapter = file.format === 'graph-model' ? graphAdapter(file, Infinity) : layersAdapter(file, Infinity);
    const { runnable, signatures } = await adapter.load(file);
    const probes = makeProbes(signatures, PROBES, 1);
    const outputs = await runnable.run(probes);
    models.set(v.name, { dir, format: file.format, runtime, inputs: await Promise.all(probes.map(toWire)), expected: await Promise.all(outputs.map(toWire)) });
    tf.dispose([...probes, ...outputs]);
    runnable.dispose();
  }
  session = await BrowserSession.start(Object.fromEntries([...models].map(([name, m]) => [name, m.dir])));
  pages.script = await session.open('script');
  pages.none = await session.open('none');
});

after(async () => {
  await session?.close();
  rmSync(root, { recursive: true, force: true });
});

function worstDifference(got: WireTensor[], expected: WireTensor[]): number {
  assert.equal(got.length, expected.length, 'outputs');
  let worst = 0;
  for (let o = 0; o < expected.length; o++) {
    assert.deepEqual(got[o].shape, expected[o].shape);
    const want = expected[o].values as number[];
    const have = got[o].values as number[];
    const scale = Math.max(1, ...want.map(Math.abs));
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(have[i] - want[i]) / scale);
  }
  return worst;
}

describe('fixtures in headless Chromium: stock TF.js gives Node outputs', { skip: SKIP }, () => {
  test('the recurrent fixtures compressed with hmf and lmf and every --sparse one with a compact matrix need the runtime; Dense, Embedding, convolution, graph, pruned and --portable ones do not', () => {
    const needing = [...models].filter(([, m]) => m.runtime).map(([name]) => name);
    // sentiment-cnn's pruned matrices (an Embedding table and two convolution kernels) all stay stored dense.
    const compactSparse = (v: Variant) => v.options?.sparse && v.fixture !== 'sentiment-cnn';
    const expected = VARIANTS.filter((v) => compactSparse(v) || (RECURRENT.has(v.fixture) && v.options && v.options.method !== 'prune' && !v.options.portable)).map((v) => v.name);
    assert.deepEqual(needing.sort(), expected.sort());
  });

  for (const backend of ['wasm', 'webgl'] as const) {
    test(`${backend}: the backend starts in both pages`, async () => {
      for (const page of Object.values(pages)) assert.equal((await page.setBackend(backend)).backend, backend);
    });

    for (const v of VARIANTS) {
      test(`${backend}: ${v.name}`, async (t) => {
        const m = models.get(v.name);
        assert.ok(m, `${v.name} was not prepared`);
        const page = m.runtime ? pages.script : pages.none;
        assert.ok(page);
        await page.load(v.name, session!.modelUrl(v.name), m.format);
        const worst = worstDifference(await page.predict(v.name, m.inputs), m.expected);
        await page.dispose(v.name);
        t.diagnostic(`largest difference from Node: ${worst.toExponential(2)}`);
        assert.ok(worst <= TOLERANCE, `${v.name} on ${backend}: largest difference from Node ${worst.toExponential(2)} > ${TOLERANCE}`);
        if (m.runtime) {
          await assert.rejects(pages.none!.load(v.name, session!.modelUrl(v.name), m.format), /Unknown layer: Hmf/, 'loads without the runtime');
        }
      });
    }
  }

  test('the runtime as an ES module in the page (the ESM build, no bundler) loads the compressed BiGRU too', async () => {
    const page = await session!.open('module');
    await page.setBackend('wasm');
    const m = models.get('sentiment-gru-hmf');
    assert.ok(m);
    await page.load('gru', session!.modelUrl('sentiment-gru-hmf'), m.format);
    assert.ok(worstDifference(await page.predict('gru', m.inputs), m.expected) <= TOLERANCE);
  });

  test('no page logged an error or a warning', () => {
    assert.deepEqual(session!.messages.filter((msg) => ['error', 'warning', 'pageerror'].includes(msg.type)), []);
  });
});
