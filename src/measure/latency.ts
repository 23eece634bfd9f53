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
  /** The compressed model against the original, judged on the paired runs (see verdictOf). */
  verdict: LatencyVerdict;
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
  /** Timed runs made even when the time cap is reached. @default MIN_RUNS */
  minRuns?: number;
}

/** Timed runs per model made even when the time cap is reached. */
export const MIN_RUNS = 5;

/** Times `predict` of both models on the same inputs (pairedTimes), each run reading the result back. */
export async function compareLatency(
  original: Runnable,
  compressed: Runnable,
  inputs: readonly tf.Tensor[],
  batch: number,
  options: LatencyOptions = {},
): Promise<BatchLatency> {
  const { a, b } = await pairedTimes(
    () => runOnce(original, inputs),
    () => runOnce(compressed, inputs),
    options,
  );
  const original_ = stats(a);
  const compressed_ = stats(b);
  return {
    batch,
    original: original_,
    compressed: compressed_,
    speedup: original_.medianMs / compressed_.medianMs,
    runs: a.length,
    verdict: verdictOf(a, b),
    samples: { original: roundSamples(a), compressed: roundSamples(b) },
  };
}

/** Milliseconds to 0.1 us, for the report. */
export function roundSamples(ms: readonly number[]): number[] {
  return ms.map((v) => Math.round(v * 1e4) / 1e4);
}

/** Runs a model once on `inputs` and reads the result back (dataSync), so the time covers the whole computation. */
export async function runOnce(m: Runnable, inputs: readonly tf.Tensor[]): Promise<number> {
  const start = performance.now();
  const y = await m.run(inputs);
  for (const t of y) t.dataSync();
  const ms = performance.now() - start;
  tf.dispose(y);
  return ms;
}

/**
 * Times two computations A/B interleaved, so that drift in the machine's speed hits both
 * alike, after warm-up; which goes first alternates, so neither always runs on a warmer
 * cache. Returns the paired samples (run i of A beside run i of B), in milliseconds.
 */
export async function pairedTimes(a: () => Promise<number>, b: () => Promise<number>, options: LatencyOptions = {}): Promise<{ a: number[]; b: number[] }> {
  const runs = options.runs ?? 30;
  const maxMs = (options.maxSeconds ?? 20) * 1000;
  // Warm-up: at least one run each, more while runs are cheap.
  const warmupStart = performance.now();
  for (let i = 0; i < (options.warmup ?? 5); i++) {
    await a();
    await b();
    if (performance.now() - warmupStart > maxMs / 4) break;
  }
  const as: number[] = [];
  const bs: number[] = [];
  const timedStart = performance.now();
  for (let i = 0; i < runs; i++) {
    if (i >= Math.min(options.minRuns ?? MIN_RUNS, runs) && performance.now() - timedStart > maxMs) break;
    if (i % 2 === 0) {
      as.push(await a());
      bs.push(await b());
    } else {
      bs.push(await b());
      as.push(await a());
    }
  }
  return { a: as, b: bs };
}

/**
 * Whether B is faster, slower or neither beyond noise, from paired samples: a sign test
 * (the share of pairs where B took longer, against a fair coin, two-sided p < 1%) and a
 * median difference of at least MIN_EFFECT of A's median. Interleaved pairs share the
 * machine's state, so the test holds up under load where comparing medians does not.
 */
export function verdictOf(a: readonly number[], b: readonly number[]): LatencyVerdict {
  const n = Math.min(a.length, b.length);
  let slower = 0;
  let faster = 0;
  for (let i = 0; i < n; i++) {
    if (b[i] > a[i]) slower++;
    else if (b[i] < a[i]) faster++;
  }
  const medianA = stats(a).medianMs;
  const medianB = stats(b).medianMs;
  const effect = (medianB - medianA) / medianA;
  if (slower > faster && signTestP(slower, slower + faster) < SIGNIFICANCE && effect >= MIN_EFFECT) return 'slower';
  if (faster > slower && signTestP(faster, slower + faster) < SIGNIFICANCE && -effect >= MIN_EFFECT) return 'faster';
  return 'within noise';
}

export type LatencyVerdict = 'faster' | 'slower' | 'within noise';

/** Two-sided p-value level of the sign test. */
const SIGNIFICANCE = 0.01;
/** Smallest relative difference of medians that counts as a difference at all. */
export const MIN_EFFECT = 0.02;

/** Two-sided sign-test p-value of `k` successes out of `n` fair coin flips (k >= n / 2). */
export function signTestP(k: number, n: number): number {
  if (n === 0) return 1;
  // P(X >= k) for X ~ Binomial(n, 1/2), summed in log space (n can be a few hundred).
  let logC = 0;
  const terms: number[] = [];
  for (let i = 0; i <= n; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    if (i >= k) terms.push(logC - n * Math.LN2);
  }
  const tail = terms.reduce((s, t) => s + Math.exp(t), 0);
  return Math.min(1, 2 * tail);
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
