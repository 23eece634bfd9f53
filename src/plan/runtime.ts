import type { Structure } from '../model/bench.js';
import type { TargetMatrix } from '../model/targets.js';
import type { Executed, MatrixDecision } from './execute.js';
import type { Compressed } from '../methods/types.js';
import type { LayerTimer, LatencySubject } from './latency.js';

/** What the checks need of a LayerTimer (tests give them scripted timings). */
export type Timer = Pick<LayerTimer, 'time'>;
import { MIN_EFFECT } from '../measure/latency.js';

/** A layer's planned structure timed against its dense form, and what the planner did about it (the report's plan.latency). */
export interface LayerLatencyDecision {
  layer: string;
  /** The structures timed, as `weight: structure`. */
  structure: string;
  batches: { batch: number; denseMs: number; candidateMs: number; verdict: string }[];
  /** What the planner did about it: `kept`, or the change made and why. */
  action: string;
}

/**
 * Share of the whole model's time that the layers' changes may add up to before the model
 * counts as slower: the same 2% a measured difference must reach to count (MIN_EFFECT).
 */
const MODEL_NOISE = MIN_EFFECT;

/**
 * Shares of its planned ranks a layer that would slow the model may be cut to before it
 * stays dense instead. Never below half: a rank cut further costs more fidelity than the
 * microseconds it saves (sentiment-cnn's Embedding cut from rank 8 to 1 for +5 µs at batch 1
 * fell from 82% to 48% held-out accuracy).
 */
const RANK_CAPS = [0.75, 0.5];

/**
 * Median change a micro-benchmark shows that counts even when the sign test is inconclusive:
 * on a busy machine a layer 4.9x slower (1.82 -> 8.97 ms, faceres-deep) was "within noise",
 * and counting it as 0 let the model through slower.
 */
const INCONCLUSIVE_EFFECT = 0.1;

/** The time a layer's change adds at one batch size: its median change when it is significant or large, else 0. */
function added(t: LayerLatencyDecision['batches'][number]): number {
  const change = t.candidateMs - t.denseMs;
  if (t.verdict !== 'within noise') return change;
  return t.denseMs > 0 && Math.abs(change) / t.denseMs >= INCONCLUSIVE_EFFECT ? change : 0;
}

/** Per-target limits the run-time checks set: a rank cap, or dense with the reason. */
export type Constraints = Map<string, { cap?: number; dense?: string }>;

/** The rank a decision gives an LMF structure. */
function rankOf(t: TargetMatrix, d: MatrixDecision): number {
  return d.budget === null ? 0 : Math.floor(d.budget / (t.rows + t.cols));
}

function structuresOf(ts: readonly TargetMatrix[], ranks: ReadonlyMap<string, number>): Map<string, Structure> {
  const out = new Map<string, Structure>();
  for (const t of ts) {
    const r = ranks.get(t.weight) ?? 0;
    if (r > 0) out.set(t.weight, { kind: 'lmf', rank: r });
  }
  return out;
}

function describe(structures: ReadonlyMap<string, Structure>): string {
  return [...structures].map(([w, s]) => `${w}: ${s.kind === 'lmf' ? `rank ${s.rank}` : s.kind === 'hmf' ? `k ${s.k}, rank ${s.rank}${s.scattered ? ' (scattered)' : ''}` : 'dense'}`).join('; ');
}

/**
 * Times every layer holding a factorized target in its planned structure against the same
 * layer dense, at each batch size, and predicts the model's change in time at each batch as
 * the sum of the layers' changes that are beyond noise (verdictOf). While that sum is
 * positive at some batch, the layer adding the most time there is changed, in order: lower
 * ranks (3/4, then 1/2 of the planned ones, RANK_CAPS) when that makes it no slower than dense; for a
 * recurrent layer, its recurrent kernels dense (the input projection alone runs with stock
 * layers); else every target of the layer dense. Returns whether a constraint changed (the
 * caller then allocates again and calls this again).
 */
export async function checkLatency(
  subjects: readonly LatencySubject[],
  targets: readonly TargetMatrix[],
  decisions: readonly MatrixDecision[],
  constraints: Constraints,
  timer: Timer,
  batches: readonly number[],
  modelMs: readonly number[],
  latency: LayerLatencyDecision[],
): Promise<boolean> {
  const index = new Map(targets.map((t, i) => [t.weight, i]));
  const planned = subjects
    .map((subject) => {
      const ranks = new Map(subject.targets.map((t) => [t.weight, rankOf(t, decisions[index.get(t.weight)!])]));
      return { subject, ranks, structures: structuresOf(subject.targets, ranks) };
    })
    .filter((p) => p.structures.size > 0);
  const timed: { subject: LatencySubject; ranks: Map<string, number>; structures: Map<string, Structure>; timings: LayerLatencyDecision['batches']; entry: LayerLatencyDecision }[] = [];
  for (const p of planned) {
    const timings = await timeAll(timer, p.subject, p.structures, batches);
    const entry: LayerLatencyDecision = { layer: p.subject.layer, structure: describe(p.structures), batches: timings, action: 'kept' };
    replaceEntry(latency, entry);
    timed.push({ ...p, timings, entry });
  }
  for (const [b, batch] of batches.entries()) {
    const total = timed.reduce((s, x) => s + added(x.timings[b]), 0);
    if (total <= MODEL_NOISE * modelMs[b]) continue;
    // The layer that adds the most time at this batch.
    const worst = timed.reduce((w, x) => (added(x.timings[b]) > added(w.timings[b]) ? x : w));
    if (added(worst.timings[b]) <= 0) continue;
    const { subject, ranks, entry } = worst;
    const slowAt = worst.timings.filter((t) => added(t) > 0).map((t) => `batch ${t.batch} (${ratio(t)} of dense)`).join(', ');
    const why = `the model would be slower at batch ${batch} (+${fmtMs(total)} on ${fmtMs(modelMs[b])}), this layer adding the most: ${slowAt}`;
    for (const scale of RANK_CAPS) {
      const lower = new Map([...ranks].map(([w, r]) => [w, r > 0 ? Math.max(1, Math.floor(r * scale)) : 0]));
      if ([...lower].every(([w, r]) => r === ranks.get(w) || r === 0)) continue;
      const s = structuresOf(subject.targets, lower);
      if (!(await timeAll(timer, subject, s, batches)).some((x) => added(x) > 0)) {
        for (const [w, r] of lower) if (r > 0) constraints.set(w, { ...constraints.get(w), cap: r });
        entry.action = `${why}; ranks capped (${describe(s)})`;
        return true;
      }
    }
    const recurrent = subject.targets.filter((t) => t.role === 'recurrent_kernel' && (ranks.get(t.weight) ?? 0) > 0);
    const inputOnly = structuresOf(subject.targets, new Map([...ranks].map(([w, r]) => [w, recurrent.some((t) => t.weight === w) ? 0 : r])));
    if (recurrent.length > 0 && inputOnly.size > 0 && !(await timeAll(timer, subject, inputOnly, batches)).some((x) => added(x) > 0)) {
      for (const t of recurrent) constraints.set(t.weight, { dense: `kept dense: ${why}` });
      entry.action = `${why}; recurrent kernels kept dense, the input kernels factorized (${describe(inputOnly)})`;
      return true;
    }
    for (const t of subject.targets) constraints.set(t.weight, { dense: `kept dense: ${why}` });
    entry.action = `${why}; kept dense (slower than dense at every rank tried)`;
    return true;
  }
  return false;
}

function fmtMs(ms: number): string {
  return ms >= 1 ? `${ms.toFixed(2)} ms` : `${Math.round(ms * 1000)} µs`;
}

async function timeAll(timer: Timer, subject: LatencySubject, structures: ReadonlyMap<string, Structure>, batches: readonly number[]) {
  const out: LayerLatencyDecision['batches'] = [];
  for (const batch of batches) {
    const t = await timer.time(subject, structures, batch);
    out.push({ batch, denseMs: t.denseMs, candidateMs: t.candidateMs, verdict: t.untimed ? 'not timed' : t.verdict });
  }
  return out;
}

function ratio(t: { denseMs: number; candidateMs: number }): string {
  return `${(t.candidateMs / t.denseMs).toFixed(2)}x the time`;
}

/**
 * Times every layer in the structures HMF wrote (dense outputs beside the low-rank pair) and
 * predicts the model's change in time as checkLatency does. While it is positive at some
 * batch, the HMF layer adding the most time gets a lower-latency variant: leading dense
 * outputs instead of scattered ones (no reordering in the layer), else k = 0 (LMF at the
 * same budget, which the allocation already found fast enough). Returns new decisions when
 * one changed, else null.
 */
export async function checkHybridLatency(
  subjects: readonly LatencySubject[],
  targets: readonly TargetMatrix[],
  decisions: readonly MatrixDecision[],
  executed: Executed,
  timer: Timer,
  batches: readonly number[],
  modelMs: readonly number[],
  latency: LayerLatencyDecision[],
): Promise<MatrixDecision[] | null> {
  const index = new Map(targets.map((t, i) => [t.weight, i]));
  const resultOf = new Map(executed.rewrites.map((r) => [r.target.weight, r.result]));
  const layers: { subject: LatencySubject; structures: Map<string, Structure>; timings: LayerLatencyDecision['batches']; entry: LayerLatencyDecision | null }[] = [];
  for (const subject of subjects) {
    const structures = writtenStructures(subject, resultOf);
    if (structures.size === 0) continue;
    const hybrid = [...structures.values()].some((s) => s.kind === 'hmf');
    const timings = await timeAll(timer, subject, structures, batches);
    let entry: LayerLatencyDecision | null = null;
    if (hybrid) {
      entry = { layer: subject.layer, structure: describe(structures), batches: timings, action: 'kept' };
      replaceEntry(latency, entry);
    }
    layers.push({ subject, structures, timings, entry });
  }
  const next = [...decisions];
  let changed = false;
  for (const [b, batch] of batches.entries()) {
    for (;;) {
      const total = layers.reduce((s, x) => s + added(x.timings[b]), 0);
      const candidates = layers.filter((x) => x.entry && added(x.timings[b]) > 0);
      if (total <= MODEL_NOISE * modelMs[b] || candidates.length === 0) break;
      const worst = candidates.reduce((w, x) => (added(x.timings[b]) > added(w.timings[b]) ? x : w));
      const why = `dense outputs would make the model slower at batch ${batch} (+${fmtMs(total)} on ${fmtMs(modelMs[b])}), this layer adding the most`;
      changed = true;
      const scattered = [...worst.structures].filter(([, s]) => s.kind === 'hmf' && s.scattered).map(([w]) => w);
      const leading = new Map([...worst.structures].map(([w, s]) => [w, s.kind === 'hmf' ? { ...s, scattered: false } : s]));
      const leadingTimings = scattered.length > 0 ? await timeAll(timer, worst.subject, leading, batches) : null;
      if (leadingTimings && added(leadingTimings[b]) < added(worst.timings[b])) {
        for (const w of scattered) next[index.get(w)!] = { ...next[index.get(w)!], selection: { use: 'leading', reason: `${why}; used leading dense outputs` } };
        worst.entry!.action = `${why}; leading dense outputs used`;
        worst.structures = leading;
        worst.timings = leadingTimings;
        continue;
      }
      const lmf = new Map([...worst.structures].map(([w, s]) => [w, s.kind === 'hmf' ? ({ kind: 'lmf', rank: rankOf(targets[index.get(w)!], next[index.get(w)!]) } as Structure) : s]));
      for (const [w, s] of worst.structures) {
        if (s.kind === 'hmf') next[index.get(w)!] = { ...next[index.get(w)!], lowRankOnly: `${why}; used k = 0 (LMF)` };
      }
      worst.entry!.action = `${why}; k = 0 (LMF) used`;
      worst.structures = lmf;
      worst.timings = await timeAll(timer, worst.subject, lmf, batches);
      worst.entry = null;
    }
  }
  return changed ? next : null;
}


/**
 * For `--objective latency`: each target's change of the model's time as a function of its
 * rank, summed over the batch sizes as shares of the model's time there. Two micro-benchmarks
 * per layer, at the given ranks and at a quarter of them, make a line in rank; a layer's
 * change is shared among its targets by their parameters. Dense is 0.
 */
export async function latencyModels(
  subjects: readonly LatencySubject[],
  ranks: ReadonlyMap<string, number>,
  timer: Timer,
  batches: readonly number[],
  modelMs: readonly number[],
): Promise<Map<string, (rank: number) => number>> {
  const out = new Map<string, (rank: number) => number>();
  for (const subject of subjects) {
    const high = new Map(subject.targets.map((t) => [t.weight, ranks.get(t.weight) ?? 0]));
    if ([...high.values()].every((r) => r === 0)) continue;
    const low = new Map([...high].map(([w, r]) => [w, r > 0 ? Math.max(1, Math.floor(r / 4)) : 0]));
    const change = async (rs: Map<string, number>) => {
      const t = await timeAll(timer, subject, structuresOf(subject.targets, rs), batches);
      return t.reduce((sum, x, b) => sum + (x.candidateMs - x.denseMs) / modelMs[b], 0);
    };
    const [atHigh, atLow] = [await change(high), await change(low)];
    const weights = subject.targets.map((t) => ((high.get(t.weight) ?? 0) > 0 ? t.rows * t.cols : 0));
    const total = weights.reduce((a, b) => a + b, 0);
    subject.targets.forEach((t, i) => {
      const rHigh = high.get(t.weight) ?? 0;
      const rLow = low.get(t.weight) ?? 0;
      if (rHigh === 0) return;
      const share = weights[i] / total;
      const slope = rHigh > rLow ? (atHigh - atLow) / (rHigh - rLow) : 0;
      out.set(t.weight, (r) => share * (atLow + slope * (r - rLow)));
    });
  }
  return out;
}

/** The structures a layer's targets were written in (pruned and dense ones run as dense). */
function writtenStructures(subject: LatencySubject, resultOf: ReadonlyMap<string, Compressed>): Map<string, Structure> {
  const structures = new Map<string, Structure>();
  for (const t of subject.targets) {
    const r = resultOf.get(t.weight);
    if (r?.kind === 'hmf' && r.k > 0) structures.set(t.weight, { kind: 'hmf', k: r.k, rank: r.rank, scattered: !r.denseOutputs.every((j, i) => j === i) });
    else if (r && r.kind !== 'prune') structures.set(t.weight, { kind: 'lmf', rank: r.rank });
  }
  return structures;
}

/** The planner's prediction of the written model's time at each batch: the original's plus every written layer's change. */
export async function predictLatency(
  subjects: readonly LatencySubject[],
  executed: Executed,
  timer: Timer,
  batches: readonly number[],
  modelMs: readonly number[],
): Promise<{ batch: number; originalMs: number; compressedMs: number }[]> {
  const resultOf = new Map(executed.rewrites.map((r) => [r.target.weight, r.result]));
  const change = batches.map(() => 0);
  for (const subject of subjects) {
    const structures = writtenStructures(subject, resultOf);
    if (structures.size === 0) continue;
    const timings = await timeAll(timer, subject, structures, batches);
    timings.forEach((t, b) => (change[b] += t.candidateMs - t.denseMs));
  }
  return batches.map((batch, b) => ({ batch, originalMs: modelMs[b], compressedMs: modelMs[b] + change[b] }));
}

/** Records a layer's latest timing; a change made in an earlier round stays its action (a re-check at the new structure only confirms it). */
function replaceEntry(latency: LayerLatencyDecision[], entry: LayerLatencyDecision): void {
  const at = latency.findIndex((l) => l.layer === entry.layer);
  if (at >= 0) {
    if (entry.action === 'kept' && latency[at].action !== 'kept') entry.action = latency[at].action;
    latency.splice(at, 1);
  }
  latency.push(entry);
}
