import * as tf from '@tensorflow/tfjs';
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
}

export interface LatencyOptions {
  /** Timed runs per model and batch size. @default 30 */
  runs?: number;
  /** Untimed runs first. @default 5 */
  warmup?: number;
}

/**
 * Times `predict` of both models on the same inputs, A/B interleaved so that drift
 * in the machine's speed hits both alike, after warm-up. Each run reads the result
 * back (dataSync), so the time covers the whole computation.
 */
export function compareLatency(
  original: Runnable,
  compressed: Runnable,
  inputs: readonly tf.Tensor[],
  batch: number,
  options: LatencyOptions = {},
): BatchLatency {
  const runs = options.runs ?? 30;
  const warmup = options.warmup ?? 5;
  const once = (m: Runnable): number => {
    const start = performance.now();
    const y = m.run(inputs);
    for (const t of y) t.dataSync();
    const ms = performance.now() - start;
    tf.dispose(y);
    return ms;
  };
  for (let i = 0; i < warmup; i++) {
    once(original);
    once(compressed);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which model goes first, so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      a.push(once(original));
      b.push(once(compressed));
    } else {
      b.push(once(compressed));
      a.push(once(original));
    }
  }
  const original_ = stats(a);
  const compressed_ = stats(b);
  return { batch, original: original_, compressed: compressed_, speedup: original_.medianMs / compressed_.medianMs };
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
