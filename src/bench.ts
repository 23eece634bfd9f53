import { tf } from './tf.js';
import { dirname } from 'node:path';
import { initBackend, latencyThreads, limitBackendThreads, type BackendName } from './backend.js';
import { UsageError } from './errors.js';
import { readModel, type ModelFile } from './io/index.js';
import { compareLatency, type BatchLatency } from './measure/latency.js';
import { makeProbes, type InputSignature } from './measure/probes.js';
import type { Runnable } from './measure/runnable.js';
import { graphAdapter, layersAdapter } from './model/adapter.js';
import { browserLatency, type BrowserLatencyReport } from './browser/bench.js';
import { requireChromium } from './browser/chromium.js';

export interface BenchOptions {
  /** A second model to time against, A/B interleaved. */
  vs?: string;
  /** Batch sizes. @default [1, 32] */
  batches?: number[];
  /** Timed runs per model and batch. @default 30 */
  runs?: number;
  /** @default 0 */
  seed?: number;
  /** @default the fastest that loads */
  backend?: BackendName;
  /** Also time the model(s) inside headless Chromium, on its wasm and webgl backends. @default false */
  browser?: boolean;
  /** Progress callback (the library never prints). */
  onProgress?: (message: string) => void;
}

export interface BenchReport {
  model: string;
  vs: string | null;
  backend: string;
  /** Threads the backend computes on. */
  threads: number;
  runs: number;
  /** With `vs`: `original` is the model, `compressed` the other one, speedup = model / other. */
  batches: BatchLatency[];
  /** With `browser`: the same inside headless Chromium. */
  browser?: BrowserLatencyReport;
}

async function load(path: string): Promise<{ file: ModelFile; runnable: Runnable; signatures: InputSignature[]; asyncOps?: string[] }> {
  const file = await readModel(path);
  const adapter = file.format === 'graph-model' ? graphAdapter(file, Infinity) : layersAdapter(file, Infinity);
  return { file, ...(await adapter.load(file)) };
}

/** Latency of a model (median, p10/p90 after warm-up), or of two models A/B interleaved (`hmf bench`). */
export async function bench(modelPath: string, options: BenchOptions = {}): Promise<BenchReport> {
  const backend = await initBackend(options.backend);
  const threads = limitBackendThreads(latencyThreads());
  const runs = options.runs ?? 30;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, found ${runs}`);
  for (const b of options.batches ?? []) {
    if (!Number.isInteger(b) || b < 1) throw new UsageError(`--batch: expected positive integers, found ${b}`);
  }
  if (options.browser) requireChromium('--browser');
  const a = await load(modelPath);
  const b = options.vs ? await load(options.vs) : a;
  try {
    const fixed = a.signatures.find((s) => s.batch !== undefined)?.batch;
    const batches = fixed ? [fixed] : (options.batches ?? [1, 32]);
    const same = JSON.stringify(a.signatures.map((s) => [s.shape, s.dtype])) === JSON.stringify(b.signatures.map((s) => [s.shape, s.dtype]));
    if (!same) throw new UsageError(`--vs ${options.vs}: its inputs differ from ${modelPath}'s, so they cannot be timed on the same inputs`);
    const results: BatchLatency[] = [];
    for (const batch of batches) {
      options.onProgress?.(`timing batch ${batch} in Node (${backend})`);
      const inputs = makeProbes(a.signatures, batch, (options.seed ?? 0) + batch);
      results.push(await compareLatency(a.runnable, b.runnable, inputs, batch, { runs }));
      tf.dispose(inputs);
    }
    const report: BenchReport = { model: a.file.path, vs: options.vs ? b.file.path : null, backend, threads, runs, batches: results };
    if (options.browser) {
      const served = (m: typeof a) => ({ files: dirname(m.file.path), format: m.file.format, executeAsync: (m.asyncOps?.length ?? 0) > 0 });
      report.browser = await browserLatency(served(a), served(b), a.signatures, { batches, runs, seed: options.seed ?? 0, flag: '--browser', onProgress: options.onProgress });
    }
    return report;
  } finally {
    a.runnable.dispose();
    if (b !== a) b.runnable.dispose();
  }
}
