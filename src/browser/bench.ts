import { tf } from '../tf.js';
import { MIN_RUNS, roundSamples, stats, type BatchLatency, verdictOf } from '../measure/latency.js';
import { makeProbes, type InputSignature } from '../measure/probes.js';
import { formatMs } from '../report/format.js';
import type { ModelFormat } from './page.js';
import type { Mount } from './server.js';
import { BrowserSession } from './session.js';
import { toWire } from './wire.js';

/** Latency of the models on one TF.js backend inside the browser. */
export interface BrowserBackendLatency {
  backend: 'wasm' | 'webgl';
  /** wasm: `SIMD, 1 thread`; webgl: the GL renderer. */
  detail: string;
  /** WebGL rendered on the CPU (SwiftShader): its times say nothing of a GPU. */
  software: boolean;
  batches: BatchLatency[];
  /** Batch sizes not timed, and why. */
  skipped: string[];
}

/** `hmf bench --browser`, `compress --bench-browser`: the models timed inside headless Chromium. */
export interface BrowserLatencyReport {
  /** e.g. `Chromium 150.0.7871.100`. */
  browser: string;
  tfjsVersion: string;
  runs: number;
  backends: BrowserBackendLatency[];
}

export interface BrowserModel {
  /** Where its files come from: its folder, or the files as written (name -> bytes). */
  files: Mount;
  format: ModelFormat;
  /** A graph TF.js runs only through executeAsync. @default false */
  executeAsync?: boolean;
}

export interface BrowserLatencyOptions {
  batches: readonly number[];
  /** Timed runs per model and batch. */
  runs: number;
  seed: number;
  /** Seconds of timed runs per batch size before stopping at MIN_RUNS. @default 20 */
  maxSeconds?: number;
  /** The flag that asked for it, for messages (`--browser`). */
  flag: string;
  onProgress?: (message: string) => void;
}

export const BROWSER_BACKENDS = ['wasm', 'webgl'] as const;

/**
 * Times `original` against `compressed` (A/B interleaved after warm-up, as in Node) inside
 * headless Chromium with stock TF.js and the runtime's script build, on the wasm and webgl
 * backends, batch by batch on the same generated inputs as Node's measurement. A batch
 * whose first warm-up round says the minimum run count would take more than twice the
 * time cap is skipped, and the report says so.
 */
export async function browserLatency(
  original: BrowserModel,
  compressed: BrowserModel,
  signatures: readonly InputSignature[],
  options: BrowserLatencyOptions,
): Promise<BrowserLatencyReport> {
  const progress = options.onProgress ?? (() => {});
  const maxMs = (options.maxSeconds ?? 20) * 1000;
  progress('starting headless Chromium');
  const session = await BrowserSession.start({ original: original.files, compressed: compressed.files }, options.flag);
  try {
    const page = await session.open('script');
    const tfjsVersion = await page.page.evaluate(() => (globalThis as unknown as { tf: typeof tf }).tf.version.tfjs);
    const backends: BrowserBackendLatency[] = [];
    for (const backend of BROWSER_BACKENDS) {
      const info = await page.setBackend(backend);
      await page.load('original', session.modelUrl('original'), original.format, original.executeAsync);
      await page.load('compressed', session.modelUrl('compressed'), compressed.format, compressed.executeAsync);
      const batches: BatchLatency[] = [];
      const skipped: string[] = [];
      for (const batch of options.batches) {
        progress(`timing batch ${batch} in ${session.version} (${backend})`);
        const probes = makeProbes(signatures, batch, options.seed + batch);
        const inputs = await Promise.all(probes.map(toWire));
        tf.dispose(probes);
        const times = await page.time({ a: 'original', b: 'compressed', inputs, runs: options.runs, minRuns: MIN_RUNS, warmup: 5, maxMs, skipAboveMs: 2 * maxMs });
        if (times.estimateMs !== null) {
          skipped.push(`batch ${batch} not timed: about ${Math.round(times.estimateMs / 1000)} s at ${MIN_RUNS} runs (one run of both took ${formatMs(times.estimateMs / (MIN_RUNS + 1))})`);
          continue;
        }
        const a = stats(times.a);
        const b = stats(times.b);
        batches.push({ batch, original: a, compressed: b, speedup: a.medianMs / b.medianMs, runs: times.a.length, verdict: verdictOf(times.a, times.b), samples: { original: roundSamples(times.a), compressed: roundSamples(times.b) } });
      }
      await page.dispose('original');
      await page.dispose('compressed');
      backends.push({ backend, detail: info.detail, software: /swiftshader|llvmpipe|software/i.test(info.detail), batches, skipped });
    }
    return { browser: session.version, tfjsVersion, runs: options.runs, backends };
  } finally {
    await session.close();
  }
}
