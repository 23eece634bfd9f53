import { DEFAULT_DAMPING, gramDiagonal, permuteGram, weightedRelativeError, Whitening, type Gram } from '../calibrate/gram.js';
import { hmf, lmf, pruneGlobal, pruneLayer } from '../methods/index.js';
import { reconstruct, wandaPrune, wandaPruneGlobal, weightedHmf, weightedLmf } from '../methods/weighted.js';
import type { Compressed, MethodName, OutputSelection } from '../methods/types.js';
import type { Matrix } from '../linalg/matrix.js';
import { emittedOrder, tileOrder, type WeightEdits } from '../model/order.js';
import type { MatrixRewrite } from '../model/rewrite.js';
import type { TargetMatrix } from '../model/targets.js';
import type { MatrixReport } from '../report/schema.js';
import { planBudgets, totalBudget } from './budget.js';

export interface ExecuteOptions {
  method: MethodName;
  factor: number;
  selection: OutputSelection;
  scope: 'layer' | 'global';
  seed: number;
  /** HMF: spend this share of each matrix's budget on dense outputs instead of choosing k by the error. */
  denseShare?: number;
  /**
   * Calibration: XᵀX of each target's input activations (by weight name, in the
   * original input order). Targets with one are factorized to minimise ||X(K − K')||
   * and pruned by |w|·||x||; their rows report the weighted error.
   */
  calibration?: { grams: ReadonlyMap<string, Gram>; damping?: number };
}

export interface Executed {
  rows: MatrixReport[];
  rewrites: MatrixRewrite[];
}

/**
 * Runs the method on every target, in model order, one matrix at a time. An HMF
 * layer that emits its outputs in a new order has the consuming kernels' rows
 * permuted before those are compressed in turn.
 */
export function executePlan(
  targets: readonly TargetMatrix[],
  matrixOf: (target: TargetMatrix) => Matrix,
  edits: WeightEdits,
  opts: ExecuteOptions,
  progress: (message: string) => void = () => {},
): Executed {
  const rows: MatrixReport[] = [];
  const rewrites: MatrixRewrite[] = [];
  const plans = planBudgets(targets, opts.factor, opts.method);
  const damping = opts.calibration?.damping ?? DEFAULT_DAMPING;
  // Wanda scores |w|·sqrt(XᵀX_ii + λ) with λ = the mean of XᵀX_ii: with 0.01 (the whitening's)
  // the inputs rare in the calibration data lost all their weights and held-out accuracy
  // fell 2-4 points below magnitude pruning (sentiment-mlp, sentiment-embed); with 1 it
  // is within noise or better.
  const pruneDamping = PRUNE_DAMPING;
  // Row permutations applied to absorbers so far: their Grams follow the same order.
  const permuted = new Map<string, Int32Array>();
  const gramOf = (t: TargetMatrix): Gram | null => {
    const g = opts.calibration?.grams.get(t.weight);
    if (!g) return null;
    const order = permuted.get(t.weight);
    return order ? permuteGram(g, tileOrder(order, g.n)) : g;
  };
  const globalPrune =
    opts.method === 'prune' && opts.scope === 'global'
      ? opts.calibration
        ? wandaPruneGlobal(targets.map(matrixOf), targets.map((t) => inputNorms(gramOf(t), t.rows, pruneDamping)), totalBudget(targets, opts.factor))
        : pruneGlobal(targets.map(matrixOf), totalBudget(targets, opts.factor))
      : null;

  for (const [i, target] of targets.entries()) {
    progress(`${opts.method} ${target.layer} (${target.rows}x${target.cols}) ${i + 1}/${targets.length}`);
    const started = performance.now();
    const { budget, reason } = plans[i];
    let result: Compressed | null = null;
    let note: string | null = reason;
    let selection: OutputSelection | null = null;
    const gram = gramOf(target);
    const whitening = gram && opts.method !== 'prune' && budget !== null ? new Whitening(gram, damping) : null;
    if (globalPrune) {
      result = globalPrune[i];
    } else if (budget !== null) {
      const k = matrixOf(target);
      const seed = matrixSeed(opts.seed, target.weight);
      if (opts.method === 'lmf' || (opts.method === 'hmf' && target.lowRankOnly)) {
        if (opts.method === 'hmf') note = target.lowRankOnly ?? null;
        result = whitening ? (weightedLmf(k, budget, { seed }, whitening)?.result ?? null) : lmf(k, budget, { seed });
      } else if (opts.method === 'hmf') {
        const orderFixed = target.orderAbsorbers === null && !target.restoresOrder;
        selection = orderFixed && opts.selection === 'residual' ? 'leading' : opts.selection;
        if (selection !== opts.selection) {
          note = target.leadingReason ?? 'residual selection needs a next layer that can absorb the output order; used leading';
        }
        const hmfOptions = { seed, selection, denseShare: opts.denseShare };
        result = whitening ? (weightedHmf(k, budget, hmfOptions, whitening)?.result ?? null) : hmf(k, budget, hmfOptions);
      } else {
        result = gram ? wandaPrune(k, inputNorms(gram, k.rows, pruneDamping), budget) : pruneLayer(k, budget);
      }
      if (result === null) note = `cannot reach factor ${opts.factor} with ${opts.method}`;
    }
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
  return { rows, rewrites };
}

const PRUNE_DAMPING = 1;

/** ||x_i|| per input (Wanda's activation norms), damped like the whitening so unseen inputs keep their magnitude order. */
function inputNorms(gram: Gram | null, n: number, damping: number): Float64Array {
  if (!gram) return new Float64Array(n).fill(1);
  const d = gramDiagonal(gram);
  const mean = d.reduce((s, v) => s + v, 0) / Math.max(1, n);
  const lambda = mean > 0 ? damping * mean : 1;
  return Float64Array.from(d, (v) => Math.sqrt(v + lambda));
}

/** A per-matrix seed that does not depend on the order the matrices are processed in. */
export function matrixSeed(seed: number, name: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function matrixRow(
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
