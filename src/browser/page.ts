import type * as Tf from '@tensorflow/tfjs';
import type { Page } from 'playwright-core';

/**
 * What runs inside the browser page: stock TF.js (its own script tags), optionally the
 * hmf runtime's script build, and the small functions below, which Node calls through
 * playwright's page.evaluate (each is serialized on its own: no imports, no closures).
 */

/** A tensor crossing between Node and the page (bool as 0/1). */
export interface WireTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string';
  values: (number | string)[];
}

export type ModelFormat = 'layers-model' | 'graph-model';

/** How the page gets the hmf runtime: its `<script>` build, its ESM build imported by a module script, or not at all. */
export type RuntimeLoading = 'script' | 'module' | 'none';

export interface BackendInfo {
  backend: string;
  /** wasm: `SIMD, 1 thread`; webgl: the GL renderer (e.g. SwiftShader: software-rendered). */
  detail: string;
}

/** The page's HTML; `/tfjs/`, `/tfjs-wasm/` and `/hmf/` are mounts of the static server. */
export function harnessHtml(runtime: RuntimeLoading): string {
  const scripts = ['<script src="/tfjs/tf.min.js"></script>', '<script src="/tfjs-wasm/tf-backend-wasm.min.js"></script>'];
  // One thread, as stock TF.js runs wasm in pages that are not cross-origin isolated; this
  // page is isolated (see the server's headers) only for the timer's 5 us resolution.
  scripts.push("<script>tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); tf.wasm.setWasmPaths('/tfjs-wasm/');</script>");
  if (runtime === 'script') scripts.push('<script src="/hmf/hmf-runtime.min.js"></script>');
  if (runtime === 'module') scripts.push('<script type="module">import { registerHmfLayers } from "/hmf/hmf-runtime.mjs"; registerHmfLayers(tf); window.hmfModuleReady = true;</script>');
  return `<!doctype html><html><head><meta charset="utf-8"><title>hmf</title><link rel="icon" href="data:,"></head><body>${scripts.join('\n')}</body></html>`;
}

/** A loaded model; `executeAsync`: a graph that TF.js runs only through executeAsync (control flow, hash tables). */
type PageModel = { model: Tf.LayersModel | Tf.GraphModel; executeAsync: boolean };
type PageGlobals = { tf: typeof Tf; hmfModels?: Map<string, PageModel> };

async function inPageSetBackend(name: string): Promise<BackendInfo> {
  const { tf } = globalThis as unknown as PageGlobals;
  if (!(await tf.setBackend(name))) throw new Error(`TF.js backend ${name} did not initialize in this browser`);
  await tf.ready();
  if (name === 'webgl') {
    type GL = { RENDERER: number; getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null; getParameter(p: number): unknown };
    const gl = (tf.backend() as unknown as { gpgpu: { gl: GL } }).gpgpu.gl;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return { backend: name, detail: String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) };
  }
  if (name === 'wasm') {
    const wasm = (tf as unknown as { wasm: { getThreadsCount(): number } }).wasm;
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasm.getThreadsCount();
    return { backend: name, detail: `${simd ? 'SIMD' : 'no SIMD'}, ${threads} thread${threads === 1 ? '' : 's'}` };
  }
  return { backend: name, detail: '' };
}

async function inPageLoad(args: { id: string; url: string; format: ModelFormat; executeAsync: boolean }): Promise<void> {
  const g = globalThis as unknown as PageGlobals;
  g.hmfModels ??= new Map();
  g.hmfModels.get(args.id)?.model.dispose();
  const model = args.format === 'graph-model' ? await g.tf.loadGraphModel(args.url) : await g.tf.loadLayersModel(args.url);
  g.hmfModels.set(args.id, { model, executeAsync: args.executeAsync && args.format === 'graph-model' });
}

function inPageDispose(id: string): void {
  const g = globalThis as unknown as PageGlobals;
  g.hmfModels?.get(id)?.model.dispose();
  g.hmfModels?.delete(id);
}

/** Runs one model on one batch; the helpers are defined inside because each function is serialized alone. */
async function inPagePredict(args: { id: string; inputs: WireTensor[] }): Promise<WireTensor[]> {
  const { tf, hmfModels } = globalThis as unknown as PageGlobals;
  const entry = hmfModels?.get(args.id);
  if (!entry) throw new Error(`model ${args.id} is not loaded`);
  const xs = args.inputs.map((t) => tf.tensor(t.values as number[], t.shape, t.dtype));
  const input = xs.length === 1 ? xs[0] : xs;
  const raw = entry.executeAsync ? await (entry.model as Tf.GraphModel).executeAsync(input) : entry.model.predict(input);
  const ys: Tf.Tensor[] = raw instanceof tf.Tensor ? [raw] : Array.isArray(raw) ? raw : (entry.model as Tf.GraphModel).outputNodes.map((n) => (raw as Record<string, Tf.Tensor>)[n]);
  const out: WireTensor[] = [];
  for (const y of ys) {
    const values = y.dtype === 'string' ? ((await y.array()) as unknown[]).flat(Infinity as 1) : Array.from(await y.data());
    out.push({ shape: y.shape, dtype: y.dtype as WireTensor['dtype'], values: values as (number | string)[] });
  }
  tf.dispose([...xs, ...ys]);
  return out;
}

export interface TimeArgs {
  a: string;
  /** The model timed against a, A/B interleaved; null: a alone. */
  b: string | null;
  inputs: WireTensor[];
  runs: number;
  /** Timed runs made even past maxMs. */
  minRuns: number;
  warmup: number;
  /** Stop timing after this many milliseconds of timed runs (at least minRuns each). */
  maxMs: number;
  /** Skip the batch when the first warm-up runs say minRuns + 1 rounds would take longer. */
  skipAboveMs: number;
}

export interface TimeResult {
  /** Each timed run's milliseconds. */
  a: number[];
  b: number[];
  /** Set when the batch was skipped: what minRuns + 1 rounds would have taken, from the first warm-up round. */
  estimateMs: number | null;
}

/**
 * Times `predict` of model a (and b, A/B interleaved, alternating which goes first) on one
 * batch after warm-up; each run awaits the outputs' data, so the time covers the whole
 * computation (on webgl, the GPU's too). Returns each run's milliseconds.
 */
async function inPageTime(args: TimeArgs): Promise<TimeResult> {
  const { tf, hmfModels } = globalThis as unknown as PageGlobals;
  const xs = args.inputs.map((t) => tf.tensor(t.values as number[], t.shape, t.dtype));
  const input = xs.length === 1 ? xs[0] : xs;
  const once = async (id: string): Promise<number> => {
    const entry = hmfModels?.get(id);
    if (!entry) throw new Error(`model ${id} is not loaded`);
    const start = performance.now();
    const raw = entry.executeAsync ? await (entry.model as Tf.GraphModel).executeAsync(input) : entry.model.predict(input);
    const ys: Tf.Tensor[] = raw instanceof tf.Tensor ? [raw] : Array.isArray(raw) ? raw : Object.values(raw as Record<string, Tf.Tensor>);
    await Promise.all(ys.map((y) => y.data()));
    const ms = performance.now() - start;
    tf.dispose(ys);
    return ms;
  };
  const ids = args.b ? [args.a, args.b] : [args.a];
  const warmupStart = performance.now();
  for (let i = 0; i < Math.max(1, args.warmup); i++) {
    let round = 0;
    for (const id of ids) round += await once(id);
    const estimateMs = round * (args.minRuns + 1);
    if (i === 0 && estimateMs > args.skipAboveMs) {
      tf.dispose(xs);
      return { a: [], b: [], estimateMs };
    }
    if (performance.now() - warmupStart > args.maxMs / 4) break;
  }
  const a: number[] = [];
  const b: number[] = [];
  const timedStart = performance.now();
  for (let i = 0; i < args.runs; i++) {
    if (i >= Math.min(args.minRuns, args.runs) && performance.now() - timedStart > args.maxMs) break;
    if (!args.b) a.push(await once(args.a));
    else if (i % 2 === 0) {
      a.push(await once(args.a));
      b.push(await once(args.b));
    } else {
      b.push(await once(args.b));
      a.push(await once(args.a));
    }
  }
  tf.dispose(xs);
  return { a, b, estimateMs: null };
}

/** Node's handle on the page's functions. */
export class HarnessPage {
  constructor(readonly page: Page) {}

  setBackend(name: 'wasm' | 'webgl' | 'cpu'): Promise<BackendInfo> {
    return this.page.evaluate(inPageSetBackend, name);
  }

  load(id: string, url: string, format: ModelFormat, executeAsync = false): Promise<void> {
    return this.page.evaluate(inPageLoad, { id, url, format, executeAsync });
  }

  dispose(id: string): Promise<void> {
    return this.page.evaluate(inPageDispose, id);
  }

  predict(id: string, inputs: WireTensor[]): Promise<WireTensor[]> {
    return this.page.evaluate(inPagePredict, { id, inputs });
  }

  time(args: TimeArgs): Promise<TimeResult> {
    return this.page.evaluate(inPageTime, args);
  }
}
