import { tf } from '../tf.js';
import type { Runnable } from './runnable.js';

/** Quantiles of one model's timed runs, in milliseconds. */
export interface LatencyStats {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
}

export interface BatchLatency {
  batch: number;
  original: LatencyStats;
  compressed: LatencyStats;
  /** original median / compressed median. */
  speedup: number;
  /** Timed runs per model actually made (fewer than asked when the time cap was hit). */
  runs: number;
  /** Every timed run's milliseconds, in order (the HTML report plots their distribution). */
  samples?: { original: number[]; compressed: number[] };
}

export interface LatencyOptions {
  /** Timed runs per model and batch size. @default 30 */
  runs?: number;
  /** Untimed runs first. @default 5 (fewer for slow models, see maxSeconds) */
  warmup?: number;
  /**
   * Stop timing once this many seconds have gone into timed runs, after at least
   * `MIN_RUNS` each, so a large model does not take minutes. @default 20
   */
  maxSeconds?: number;
}

/** Timed runs per model made even when the time cap is reached. */
export const MIN_RUNS = 5;

/**
 * Times `predict` of both models on the same inputs, A/B interleaved so that drift
 * in the machine's speed hits both alike, after warm-up. Each run reads the result
 * back (dataSync), so the time covers the whole computation.
 */
export async function compareLatency(
  original: Runnable,
  compressed: Runnable,
  inputs: readonly tf.Tensor[],
  batch: number,
  options: LatencyOptions = {},
): Promise<BatchLatency> {
  const runs = options.runs ?? 30;
  const maxMs = (options.maxSeconds ?? 20) * 1000;
  const once = async (m: Runnable): Promise<number> => {
    const start = performance.now();
    const y = await m.run(inputs);
    for (const t of y) t.dataSync();
    const ms = performance.now() - start;
    tf.dispose(y);
    return ms;
  };
  // Warm-up: at least one run each, more while runs are cheap.
  const warmupStart = performance.now();
  for (let i = 0; i < (options.warmup ?? 5); i++) {
    await once(original);
    await once(compressed);
    if (performance.now() - warmupStart > maxMs / 4) break;
  }
  const a: number[] = [];
  const b: number[] = [];
  const timedStart = performance.now();
  for (let i = 0; i < runs; i++) {
    if (i >= Math.min(MIN_RUNS, runs) && performance.now() - timedStart > maxMs) break;
    // Alternate which model goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      a.push(await once(original));
      b.push(await once(compressed));
    } else {
      b.push(await once(compressed));
      a.push(await once(original));
    }
  }
  const original_ = stats(a);
  const compressed_ = stats(b);
  return {
    batch,
    original: original_,
    compressed: compressed_,
    speedup: original_.medianMs / compressed_.medianMs,
    runs: a.length,
    samples: { original: roundSamples(a), compressed: roundSamples(b) },
  };
}

/** Milliseconds to 0.1 us, for the report. */
export function roundSamples(ms: readonly number[]): number[] {
  return ms.map((v) => Math.round(v * 1e4) / 1e4);
}

export function stats(samples: readonly number[]): LatencyStats {
  const s = [...samples].sort((p, q) => p - q);
  return { medianMs: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9) };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
