import { gramDiagonal, permuteGram, weightedRelativeError, type Gram } from '../calibrate/gram.js';
import { pruneGlobal, pruneLayer } from '../methods/index.js';
import { reconstruct, wandaPrune, wandaPruneGlobal } from '../methods/weighted.js';
import type { Compressed, MethodName, OutputSelection } from '../methods/types.js';
import type { Matrix } from '../linalg/matrix.js';
import { emittedOrder, permuteRows, tileOrder, type WeightEdits } from '../model/order.js';
import type { MatrixRewrite } from '../model/rewrite.js';
import type { TargetMatrix } from '../model/targets.js';
import type { MatrixReport } from '../report/schema.js';
import type { MatrixAnalysis } from './analysis.js';
import { totalBudget } from './budget.js';
import { hybridOf, lowRankOf } from './factorize.js';

/** What the plan decided for one target. */
export interface MatrixDecision {
  /** Parameter budget; null when the matrix stays dense (`reason` says why). */
  readonly budget: number | null;
  readonly reason: string | null;
  /** HMF: write k = 0 (LMF), with this reason. */
  readonly lowRankOnly?: string;
  /** HMF: the output selection to use instead of the requested one, with this reason. */
  readonly selection?: { readonly use: OutputSelection; readonly reason: string };
  /** Pruning: weight of each of this matrix's scores against the others' (sensitivity-normalized global pruning). */
  readonly pruneScale?: number;
}

export interface ExecuteOptions {
  method: MethodName;
  factor: number;
  selection: OutputSelection;
  /** `global`: one magnitude threshold across matrices (`--scope global`); else per decision. */
  scope?: 'layer' | 'global';
  seed: number;
  /** HMF: spend this share of each matrix's budget on dense outputs instead of choosing k by the error. */
  denseShare?: number;
  /**
   * Calibration: XᵀX of each target's input activations (by weight name, in the
   * original input order); its rows report the weighted error.
   */
  calibration?: { grams: ReadonlyMap<string, Gram> };
  /** Keep each result's K' in the matrix's original row order (`approximations`), to check the cost model with. */
  keepApproximations?: boolean;
}

export interface Executed {
  rows: MatrixReport[];
  rewrites: MatrixRewrite[];
  /** K' of each compressed target, original row order (with `keepApproximations`). */
  approximations?: Map<string, Matrix>;
}

/**
 * Compresses every target as decided, in model order, one matrix at a time. LMF and HMF
 * factorize the planner's analysis of each matrix (its sketch; original row order) and
 * permute the result's rows where an HMF layer before it emits its outputs in a new
 * order; the consuming kernels that stay as they are get their rows permuted in `edits`.
 */
export function executeDecisions(
  targets: readonly TargetMatrix[],
  matrixOf: (target: TargetMatrix) => Matrix,
  edits: WeightEdits,
  analyses: readonly (MatrixAnalysis | null)[],
  decisions: readonly MatrixDecision[],
  opts: ExecuteOptions,
  progress: (message: string) => void = () => {},
): Executed {
  const rows: MatrixReport[] = [];
  const rewrites: MatrixRewrite[] = [];
  const approximations = opts.keepApproximations ? new Map<string, Matrix>() : undefined;
  // Row permutations applied to absorbers so far: their Grams and results follow the same order.
  const permuted = new Map<string, Int32Array>();
  const gramOf = (t: TargetMatrix): Gram | null => {
    const g = opts.calibration?.grams.get(t.weight);
    if (!g) return null;
    const order = permuted.get(t.weight);
    return order ? permuteGram(g, tileOrder(order, g.n)) : g;
  };
  const prunes = opts.method === 'prune' ? pruneAll(targets, matrixOf, decisions, gramOf, opts) : null;

  for (const [i, target] of targets.entries()) {
    progress(`${opts.method} ${target.layer} (${target.rows}x${target.cols}) ${i + 1}/${targets.length}`);
    const started = performance.now();
    const decision = decisions[i];
    let result: Compressed | null = null;
    let note: string | null = decision.reason;
    let selection: OutputSelection | null = null;
    const analysis = analyses[i];
    if (prunes) {
      result = prunes[i];
      if (result) approximations?.set(target.weight, reconstruct(result));
    } else if (decision.budget !== null && analysis) {
      const seed = matrixSeed(opts.seed, target.weight);
      const lowRankOnly = decision.lowRankOnly ?? (opts.method === 'hmf' ? target.lowRankOnly : undefined);
      if (opts.method === 'lmf' || lowRankOnly) {
        if (opts.method === 'hmf') note = lowRankOnly ?? null;
        result = lowRankOf(analysis, decision.budget, seed);
      } else {
        const orderFixed = target.orderAbsorbers === null && !target.restoresOrder;
        selection = decision.selection?.use ?? (orderFixed && opts.selection === 'residual' ? 'leading' : opts.selection);
        if (decision.selection) note = decision.selection.reason;
        else if (selection !== opts.selection) {
          note = target.leadingReason ?? 'residual selection needs a next layer that can absorb the output order; used leading';
        }
        result = hybridOf(analysis, decision.budget, { seed, selection, denseShare: opts.denseShare });
      }
      if (result) approximations?.set(target.weight, reconstruct(result));
      const order = permuted.get(target.weight);
      if (result && order) result = permuteResultRows(result, order);
      if (result === null) note = `cannot reach factor ${opts.factor} with ${opts.method}`;
    }
    const gram = gramOf(target);
    const weightedError = gram && result ? weightedRelativeError(gram, matrixOf(target), reconstruct(result)) : null;

    if (result) {
      rewrites.push({ target, result });
      const order = result.kind === 'hmf' && result.k > 0 ? emittedOrder(result.denseOutputs, result.lowRankOutputs) : null;
      if (order && !target.restoresOrder) {
        if (target.orderAbsorbers === null) throw new Error(`internal: ${target.layer} emits a new output order but nothing absorbs it`);
        for (const absorber of target.orderAbsorbers) {
          edits.permuteRows(absorber, order);
          const before = permuted.get(absorber);
          permuted.set(absorber, before ? Int32Array.from(order, (o) => before[o]) : order);
        }
      }
    }
    const row = matrixRow(target, result, selection, note, (performance.now() - started) / 1000);
    rows.push(opts.calibration ? { ...row, weightedError } : row);
  }
  return { rows, rewrites, approximations };
}

/** Pruning of every target: one magnitude threshold (`--scope global`), sensitivity-scaled scores across matrices, or each on its own budget. */
function pruneAll(
  targets: readonly TargetMatrix[],
  matrixOf: (t: TargetMatrix) => Matrix,
  decisions: readonly MatrixDecision[],
  gramOf: (t: TargetMatrix) => Gram | null,
  opts: ExecuteOptions,
): (Compressed | null)[] {
  const scaled = decisions.some((d) => d.pruneScale !== undefined);
  if (opts.scope === 'global' || scaled) {
    const kept = targets.map((_, i) => decisions[i].budget !== null || opts.scope === 'global');
    const ids = targets.map((_, i) => i).filter((i) => kept[i]);
    const ks = ids.map((i) => matrixOf(targets[i]));
    const norms = ids.map((i) => {
      const base = inputNorms(gramOf(targets[i]), targets[i].rows, PRUNE_DAMPING);
      const s = Math.sqrt(decisions[i].pruneScale ?? 1);
      return s === 1 ? base : Float64Array.from(base, (v) => v * s);
    });
    const budget = opts.scope === 'global' ? totalBudget(targets, opts.factor) : ids.reduce((s, i) => s + (decisions[i].budget ?? 0), 0);
    const anyGram = ids.some((i) => gramOf(targets[i]) !== null);
    const pruned = anyGram || scaled ? wandaPruneGlobal(ks, norms, budget) : pruneGlobal(ks, budget);
    const out: (Compressed | null)[] = targets.map(() => null);
    ids.forEach((i, j) => (out[i] = pruned[j]));
    return out;
  }
  return targets.map((t, i) => {
    const budget = decisions[i].budget;
    if (budget === null) return null;
    const k = matrixOf(t);
    const gram = gramOf(t);
    return gram ? wandaPrune(k, inputNorms(gram, k.rows, PRUNE_DAMPING), budget) : pruneLayer(k, budget);
  });
}

/**
 * Wanda scores |w|·sqrt(XᵀX_ii + λ) with λ = the mean of XᵀX_ii: with 0.01 (the whitening's)
 * the inputs rare in the calibration data lost all their weights and held-out accuracy
 * fell 2-4 points below magnitude pruning (sentiment-mlp, sentiment-embed); with 1 it
 * is within noise or better.
 */
const PRUNE_DAMPING = 1;

/** ||x_i|| per input (Wanda's activation norms), damped like the whitening so unseen inputs keep their magnitude order. */
function inputNorms(gram: Gram | null, n: number, damping: number): Float64Array {
  if (!gram) return new Float64Array(n).fill(1);
  const d = gramDiagonal(gram);
  const mean = d.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const lambda = mean > 0 ? damping * mean : 1;
  return Float64Array.from(d, (v) => Math.sqrt(v + lambda));
}

/** A result computed in the original row order, with its rows in the producer's new channel order (in blocks, see tileOrder). */
export function permuteResultRows(result: Compressed, channels: Int32Array): Compressed {
  const rows = (m: Matrix) => permuteRows(m, tileOrder(channels, m.rows));
  if (result.kind === 'prune') return { ...result, pruned: rows(result.pruned) };
  if (result.kind === 'lmf') return { ...result, p: rows(result.p) };
  return { ...result, p: rows(result.p), dense: result.k > 0 ? rows(result.dense) : result.dense };
}

/** A per-matrix seed that does not depend on the order the matrices are processed in. */
export function matrixSeed(seed: number, name: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function matrixRow(
  t: TargetMatrix,
  result: Compressed | null,
  selection: OutputSelection | null,
  note: string | null,
  seconds: number,
): MatrixReport {
  const n = t.rows;
  const m = t.cols;
  const before = n * m;
  // An Embedding lookup costs no multiply-accumulates; its factorized form costs r per output.
  const lookup = t.role === 'embeddings';
  const kernel = t.conv ? { kernelShape: [...t.conv.kernel, t.conv.inChannels, m] } : {};
  const base = { layer: t.layer, role: t.role, weight: t.weight, shape: [n, m] as [number, number], ...kernel, paramsBefore: before, macsBefore: lookup ? 0 : before, seconds };
  const none = { rank: null, denseOutputs: null, selection: null, sparsity: null };
  if (result === null) {
    return { ...base, ...none, method: 'dense', paramsAfter: before, macsAfter: base.macsBefore, relativeError: 0, note };
  }
  if (result.kind === 'prune') {
    return {
      ...base,
      ...none,
      method: 'prune',
      sparsity: 1 - result.params / before,
      paramsAfter: result.params,
      macsAfter: lookup ? 0 : result.params,
      relativeError: result.error,
      note,
    };
  }
  const lowRankOutputs = result.kind === 'hmf' ? result.lowRankOutputs.length : m;
  return {
    ...base,
    ...none,
    method: result.kind,
    rank: result.rank,
    denseOutputs: result.kind === 'hmf' ? result.k : null,
    selection: result.kind === 'hmf' ? selection : null,
    paramsAfter: result.params,
    macsAfter: lookup ? result.rank * lowRankOutputs : result.params,
    relativeError: result.error,
    note,
  };
}
