import type { LabelMetrics } from '../data/index.js';
import type { OutputFidelity } from '../measure/fidelity.js';

/** The factors `--factor auto` chooses from: steps of about 1.5x from 1.5 to 64. */
export const AUTO_FACTORS: readonly number[] = [1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64];

/** What a compressed candidate must meet: fidelity against the original, and metrics on labelled data. */
export interface Gate {
  maxError?: number;
  minAgreement?: number;
  /** With --eval: accuracy on its labels. */
  minAccuracy?: number;
  /** With --eval on a language model: perplexity on its labels. */
  maxPerplexity?: number;
}

/** One factor tried by the search. */
export interface Trial {
  factor: number;
  passed: boolean;
  /** Why it failed (the gate it missed, or why the factor cannot be reached). */
  reason: string | null;
  /** The worst output's fidelity, and the eval metrics when the gate uses them. */
  relativeError: number | null;
  top1Agreement: number | null;
  accuracy: number | null;
  perplexity: number | null;
}

export function hasGate(g: Gate): boolean {
  return g.maxError !== undefined || g.minAgreement !== undefined || g.minAccuracy !== undefined || g.maxPerplexity !== undefined;
}

/** Whether a candidate's fidelity and metrics meet the gate, and the first bound it misses. */
export function judge(factor: number, gate: Gate, outputs: readonly OutputFidelity[], metrics: LabelMetrics | null): Trial {
  const relativeError = outputs.length ? Math.max(...outputs.map((o) => o.relativeError)) : null;
  const top1Agreement = outputs.length ? Math.min(...outputs.map((o) => o.top1Agreement)) : null;
  const trial: Trial = { factor, passed: true, reason: null, relativeError, top1Agreement, accuracy: metrics?.accuracy ?? null, perplexity: metrics?.perplexity ?? null };
  const fail = (reason: string): Trial => ({ ...trial, passed: false, reason });
  if (gate.maxError !== undefined && relativeError !== null && relativeError > gate.maxError) return fail(`relative output error ${relativeError.toFixed(4)} > ${gate.maxError}`);
  if (gate.minAgreement !== undefined && top1Agreement !== null && top1Agreement < gate.minAgreement) return fail(`top-1 agreement ${top1Agreement.toFixed(4)} < ${gate.minAgreement}`);
  if (gate.minAccuracy !== undefined && (metrics === null || metrics.accuracy < gate.minAccuracy)) {
    return fail(metrics ? `accuracy ${metrics.accuracy.toFixed(4)} < ${gate.minAccuracy}` : 'no labelled metrics');
  }
  if (gate.maxPerplexity !== undefined && (metrics?.perplexity === null || metrics === null || metrics.perplexity > gate.maxPerplexity)) {
    return fail(metrics?.perplexity != null ? `perplexity ${metrics.perplexity.toFixed(3)} > ${gate.maxPerplexity}` : 'no perplexity (per-step labels needed)');
  }
  return trial;
}

/**
 * The largest of `factors` (ascending) whose trial passes, by bisection: quality only falls as
 * the factor grows, so a pass at f vouches for every smaller factor and a failure for every
 * larger one; about log2(12) = 4 trials instead of 12. Null when even the smallest fails.
 */
export async function searchFactor(trial: (factor: number) => Promise<Trial>, factors: readonly number[] = AUTO_FACTORS): Promise<{ chosen: Trial | null; tried: Trial[] }> {
  const tried: Trial[] = [];
  let lo = 0;
  let hi = factors.length - 1;
  let best: Trial | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const t = await trial(factors[mid]);
    tried.push(t);
    if (t.passed) {
      best = t;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return { chosen: best, tried };
}
