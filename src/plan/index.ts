import { tf } from '../tf.js';
import type { Gram } from '../calibrate/gram.js';
import type { Matrix } from '../linalg/matrix.js';
import { matMul } from '../linalg/product.js';
import { truncateSvd } from '../linalg/svd.js';
import { factorsFromSvd } from '../methods/lmf.js';
import type { MethodName, OutputSelection } from '../methods/types.js';
import type { LoadedModel, WholeModel } from '../model/adapter.js';
import { HmfError, TargetUnreachableError } from '../errors.js';
import type { WeightEdits } from '../model/order.js';
import type { TargetMatrix } from '../model/targets.js';
import type { MatrixReport } from '../report/schema.js';
import { allocate, type AllocationObjective, type MatrixOptions } from './allocate.js';
import { analyzeMatrix, maxUsefulRank, type MatrixAnalysis } from './analysis.js';
import { planBudgets, unreachableReason } from './budget.js';
import { executeDecisions, matrixSeed, type Executed, type MatrixDecision } from './execute.js';
import { LayerTimer } from './latency.js';
import { checkHybridLatency, checkLatency, latencyModels, predictLatency, type Constraints, type LayerLatencyDecision } from './runtime.js';
import type { TimingWorker } from '../measure/timing.js';
import type { LatencyCache } from './latencyCache.js';
import { measureJointError, measureSensitivity, referenceProbe, type Probe, type Sensitivity } from './sensitivity.js';
import { pruneLayer } from '../methods/prune.js';

export type Allocation = 'global' | 'uniform';
export type Objective = AllocationObjective;

export interface PlanOptions {
  method: MethodName;
  factor: number;
  allocate: Allocation;
  objective: Objective;
  selection: OutputSelection;
  denseShare?: number;
  /** Pruning: `global` = one magnitude threshold across matrices (the allocation is then not used). */
  scope?: 'layer' | 'global';
  seed: number;
  calibration?: { grams: ReadonlyMap<string, Gram> };
  /** Batch sizes the written model must not be slower at. */
  batches: readonly number[];
}

export interface PlanContext {
  readonly targets: readonly TargetMatrix[];
  matrixOf(target: TargetMatrix): Matrix;
  readonly edits: WeightEdits;
  /**
   * The original model loaded into TF.js, and input batches to measure sensitivities on
   * (calibration examples, else generated probes); called only when needed.
   */
  loadOriginal(): Promise<LoadedModel>;
  sensitivityBatches(loaded: LoadedModel): tf.Tensor[][];
  /** The worker that times layer micro-benchmarks as latency is reported (started early by the caller). */
  timingWorker(): TimingWorker;
  /** Micro-benchmark results kept between runs on this machine (see latencyCache.ts). */
  readonly latencyCache?: LatencyCache;
  progress(message: string): void;
}

/** What the planner decided and why, for the report. */
export interface PlanSummary {
  allocate: Allocation;
  objective: Objective;
  /** Batch sizes the layers were timed at (the written model must not be slower at them). */
  batches: number[];
  /**
   * Sensitivities measured (global allocation of more than one matrix), on `examples` probe
   * inputs (calibration examples when given), and the cost model they make checked on the
   * same inputs: the predicted relative output error (square root of the summed
   * sensitivity x error² of the matrices written) against the one measured with every
   * matrix replaced at once (logits for probability outputs).
   */
  sensitivity: { examples: number; matrices: Sensitivity[]; predictedOutputError: number; measuredOutputError: number } | null;
  /**
   * The global allocation checked before it is used: the relative output error (logits) on
   * the same probes with every matrix replaced by its LMF at the global plan's ranks, and at
   * the uniform plan's; the uniform plan is used when it measures better.
   */
  allocationCheck: { global: number; uniform: number; used: Allocation } | null;
  /** Layer micro-benchmarks: each layer's planned structure against its dense form. */
  latency: LayerLatencyDecision[];
  /**
   * The planner's latency model against the truth: the original model timed whole, and the
   * written model predicted as that plus each written layer's change in its micro-benchmark
   * (report.latency has the measured times of both).
   */
  predictedLatency: { batch: number; originalMs: number; compressedMs: number }[];
  /** Micro-benchmarks run and their wall time. */
  /** `untimed`: micro-benchmarks left out once the planning budget (PLAN_BENCH_SECONDS) was spent. */
  benchmarks: { count: number; seconds: number; untimed: number };
  /** HMF kept no dense outputs anywhere: the output is LMF's, and why. */
  identicalToLmf: string | null;
  /** What the planner could not do on this model, and why (no sensitivities, no latency). */
  notes: string[];
}


export interface Planned {
  rows: MatrixReport[];
  rewrites: Executed['rewrites'];
  summary: PlanSummary;
}

/**
 * Ranks within this factor of the uniform plan's are the most the global allocation may
 * give a matrix short of keeping it dense: the sketch SVD is made at that rank (its cost
 * grows with it), and larger shares of a budget seldom pay (measured on the fixtures).
 */
const ALLOCATION_HEADROOM = 2;
/**
 * And the least: ranks below 1/ALLOCATION_FLOOR of the uniform plan's are not offered. A
 * sensitivity is measured near the uniform plan's error; far beyond it a network can break
 * where the linear cost model says it barely moves: on the published segmentation graph
 * (meet), allocation without a floor put five of ten matrices at rank 1-5 of 96-128 and the
 * relative output error went 0.07 (uniform) -> 1.73, the cost model predicting 0.04.
 */
const ALLOCATION_FLOOR = 2;
/**
 * The global plan is kept unless its measured joint error is above the uniform plan's by more
 * than this share: closer calls flip with the probes (sentiment-mlp: 0.0765 against 0.0747
 * on one probe set, global ahead on the held-out data).
 */
const ALLOCATION_CHECK_MARGIN = 0.1;
/** The factor is reached within this share (DESIGN.md §1). */
const FACTOR_TOLERANCE = 0.03;
/** Rounds of timing the planned layers and re-allocating around the slow ones. */
const LATENCY_ROUNDS = 4;

/**
 * The planning stage (DESIGN.md §8): analyses every target (one sketch SVD each), measures
 * each matrix's sensitivity, allocates the budget across matrices, keeps the model at least
 * as fast as its original (unless the objective is size), and compresses each matrix as
 * decided. It plans one model at as many factors and methods as asked, sharing the work
 * that does not depend on them: each matrix's sketch SVD (made at the largest rank asked so
 * far; a larger one replaces it), the sensitivities, the loaded original, the latency
 * worker's answers. `--factor auto` and `hmf sweep` run it many times.
 */
export class Planner {
  private loaded: LoadedModel | null = null;
  private batches: tf.Tensor[][] | null = null;
  private readonly analyses = new Map<string, MatrixAnalysis>();
  private readonly sensitivity = new Map<string, { weights: number[]; summary: NonNullable<PlanSummary['sensitivity']> }>();
  private timer: LayerTimer | null = null;
  private readonly modelMs = new Map<number, number>();

  constructor(private readonly ctx: PlanContext) {}

  async run(opts: PlanOptions): Promise<Planned> {
    const { ctx } = this;
    const { targets } = ctx;
    ctx.edits.reset(); // every run starts from the matrices as read
    const uniform = planBudgets(targets, opts.factor, opts.method);
    const summary: PlanSummary = {
      allocate: opts.allocate,
      objective: opts.objective,
      batches: opts.objective === 'size' ? [] : [...opts.batches],
      sensitivity: null,
      allocationCheck: null,
      latency: [],
      predictedLatency: [],
      benchmarks: { count: 0, seconds: 0, untimed: 0 },
      identicalToLmf: null,
      notes: [],
    };
    const globalAllocation = opts.allocate === 'global' && targets.length > 1 && !(opts.method === 'prune' && opts.scope !== undefined);
    const counted = { count: this.timer?.count ?? 0, seconds: this.timer?.seconds ?? 0, untimed: this.timer?.untimed ?? 0 };
    let executed: Executed;
    let weights: number[] | null = null;
    if (opts.method === 'prune') {
      let decisions: MatrixDecision[] = uniform.map((p) => ({ budget: p.budget, reason: p.reason }));
      if (globalAllocation) {
        weights = await this.sensitivities('prune', () => targets.map((t, i) => pruneProbe(ctx, t, uniform[i].budget)), summary);
        // Scores compared across matrices as |w|² / ||K||² times the sensitivity: the greedy per-parameter allocation of the cost curves.
        if (weights) decisions = decisions.map((d, i) => {
          const k = ctx.matrixOf(targets[i]);
          const norm2 = k.data.reduce((a, v) => a + v * v, 0);
          return { ...d, pruneScale: norm2 > 0 ? weights![i] / norm2 : 1 };
        });
      }
      executed = executeDecisions(targets, ctx.matrixOf, ctx.edits, targets.map(() => null), decisions, execOptions(opts, weights !== null), ctx.progress);
      if (weights && this.loaded && this.batches) {
        // As for the low-rank allocation: the scaled scores checked against one threshold per matrix by the joint output error.
        const even = uniform.map((p) => ({ budget: p.budget, reason: p.reason }));
        const evenRun = executeDecisions(targets, ctx.matrixOf, ctx.edits, targets.map(() => null), even, execOptions(opts, true), () => {});
        const error = async (e: Executed) => Math.sqrt(await measureJointError(this.loaded!, jointOf(targets, e), this.batches!));
        const check = { global: await error(executed), uniform: await error(evenRun) };
        const global_ = check.global <= check.uniform * (1 + ALLOCATION_CHECK_MARGIN);
        summary.allocationCheck = { ...check, used: global_ ? 'global' : 'uniform' };
        if (!global_) {
          weights = null;
          executed = evenRun;
        }
      }
    } else {
      const uniformRank = (i: number): number => {
        const b = uniform[i].budget;
        return b === null ? 0 : Math.floor(b / (targets[i].rows + targets[i].cols));
      };
      const analyses = targets.map((t, i) => {
        if (uniform[i].budget === null && !globalAllocation) return null;
        if (maxUsefulRank(t.rows, t.cols) < 1) return null;
        const rank = Math.max(1, globalAllocation ? Math.ceil(ALLOCATION_HEADROOM * Math.max(1, uniformRank(i))) : uniformRank(i));
        return this.analysis(t, rank, opts);
      });
      if (globalAllocation) {
        weights = await this.sensitivities(
          'low-rank',
          () => analyses.flatMap((a, i) => (a && a.maxRank >= 1 ? [lowRankProbe(a, Math.min(a.maxRank, Math.max(1, uniformRank(i))))] : [])),
          summary,
        );
      }

      if (weights && this.loaded && this.batches) {
        // The allocation checked against the truth before it is trusted: the output error with
        // every matrix replaced at once, global plan against uniform, on the planner's probes.
        const global = allocateGlobal(targets, analyses, weights, new Map(), opts, targets.map((_, i) => uniformRank(i)));
        const even = uniform.map((p) => ({ budget: p.budget, reason: p.reason }));
        const error = async (ds: readonly MatrixDecision[]) => Math.sqrt(await measureJointError(this.loaded!, lowRankApproximations(analyses, ds), this.batches!));
        const check = { global: await error(global), uniform: await error(even) };
        // Only a clear loss sends the plan back to uniform: within ALLOCATION_CHECK_MARGIN the two are the same to these probes.
        const global_ = check.global <= check.uniform * (1 + ALLOCATION_CHECK_MARGIN);
        summary.allocationCheck = { ...check, used: global_ ? 'global' : 'uniform' };
        if (!global_) weights = null;
      }
      const constraints: Constraints = new Map();
      const whole = opts.objective === 'size' ? null : await this.timingModel(summary);
      const subjects = whole ? (await (await this.original()).latencySubjects(targets)).sort((a, b) => b.macs - a.macs) : [];
      const atOne = subjects.filter((x) => x.batchOne).map((x) => x.layer);
      if (atOne.length > 0 && opts.batches.some((b) => b > 1)) {
        summary.notes.push(`${atOne.length} layer${atOne.length === 1 ? '' : 's'} (${atOne.slice(0, 3).join(', ')}${atOne.length > 3 ? ', …' : ''}) timed at batch 1 only, larger batches taken as batch 1's time times the batch: one example already costs a micro-benchmark's worth`);
      }
      const timer = subjects.length > 0 ? (this.timer ??= new LayerTimer(ctx.timingWorker(), ctx.latencyCache)) : null;
      const modelMs: number[] = [];
      if (timer && whole) for (const batch of opts.batches) modelMs.push(await this.modelTime(timer, whole, batch));
      // --objective latency: each target's time as a line in its rank (two micro-benchmarks a layer, at the uniform ranks and a quarter of them).
      const latencyOf =
        timer && opts.objective === 'latency' && weights
          ? await latencyModels(subjects, new Map(targets.map((t, i) => [t.weight, Math.min(uniformRank(i), analyses[i]?.maxRank ?? 0)])), timer, opts.batches, modelMs)
          : undefined;
      let decisions: MatrixDecision[] = [];
      for (let round = 0; ; round++) {
        decisions = weights
          ? allocateGlobal(targets, analyses, weights, constraints, opts, targets.map((_, i) => uniformRank(i)), latencyOf)
          : uniformAround(targets, constraints, opts);
        if (!timer || round === LATENCY_ROUNDS) break;
        if (!(await checkLatency(subjects, targets, decisions, constraints, timer, opts.batches, modelMs, summary.latency))) break;
      }
      const keep = weights !== null;
      executed = executeDecisions(targets, ctx.matrixOf, ctx.edits, analyses, decisions, execOptions(opts, keep), ctx.progress);
      if (opts.method === 'hmf' && timer) {
        const fixed = await checkHybridLatency(subjects, targets, decisions, executed, timer, opts.batches, modelMs, summary.latency);
        if (fixed) {
          ctx.edits.reset(); // undo the first pass's row permutations of the consumers
          executed = executeDecisions(targets, ctx.matrixOf, ctx.edits, analyses, fixed, execOptions(opts, keep), ctx.progress);
        }
      }
      if (timer) summary.predictedLatency = await predictLatency(subjects, executed, timer, opts.batches, modelMs);
      if (opts.method === 'hmf') summary.identicalToLmf = identicalToLmf(executed.rows);
    }
    if (this.timer) {
      summary.benchmarks = { count: this.timer.count - counted.count, seconds: this.timer.seconds - counted.seconds, untimed: this.timer.untimed - counted.untimed };
      ctx.latencyCache?.save();
    }
    if (weights && summary.sensitivity && this.batches && this.loaded) {
      // The cost model against the truth on the same probes: the summed sensitivity-weighted errors
      // against the output error with every matrix replaced at once.
      const w = weights;
      const predicted2 = executed.rows.reduce((s, r, i) => s + w[i] * (r.weightedError ?? r.relativeError) ** 2, 0);
      summary.sensitivity = {
        ...summary.sensitivity,
        predictedOutputError: Math.sqrt(predicted2),
        measuredOutputError: Math.sqrt(await measureJointError(this.loaded, jointOf(targets, executed), this.batches)),
      };
    }
    return { rows: executed.rows, rewrites: executed.rewrites, summary };
  }

  /** Frees the probes; the loaded original belongs to the context. */
  dispose(): void {
    this.loaded = null;
    if (this.batches) tf.dispose(this.batches.flat());
    this.batches = null;
  }

  /** The original as the latency worker times it, or null (with a note) when it cannot be. */
  private async timingModel(summary: PlanSummary): Promise<WholeModel | null> {
    let model: WholeModel | null = null;
    let why = '';
    try {
      model = (await this.original()).timingModel;
      if (!model) why = 'its inputs (strings or booleans) are not generated by the latency worker';
    } catch (err) {
      if (err instanceof HmfError) throw err;
      why = `TF.js cannot load it: ${(err as Error).message.split('\n')[0]}`;
    }
    if (!model) summary.notes.push(`latency not planned: ${why}`);
    return model;
  }

  private async original(): Promise<LoadedModel> {
    return (this.loaded ??= await this.ctx.loadOriginal());
  }

  /** The matrix's analysis with at least `rank` components: a larger one made before serves. */
  private analysis(t: TargetMatrix, rank: number, opts: PlanOptions): MatrixAnalysis {
    const have = this.analyses.get(t.weight);
    const wanted = Math.min(rank, maxUsefulRank(t.rows, t.cols));
    if (have && have.maxRank >= wanted) return have;
    this.ctx.progress(`sketching ${t.weight} (${t.rows}x${t.cols})`);
    const a = analyzeMatrix(t, this.ctx.matrixOf(t), { seed: opts.seed, rank, gram: opts.calibration?.grams.get(t.weight) ?? null }, matrixSeed(opts.seed, t.weight));
    this.analyses.set(t.weight, a);
    return a;
  }

  /**
   * Each target's sensitivity for a kind of approximation, measured once (on the first run's
   * references); null when the model cannot be run on probes (then the allocation is uniform,
   * and the report says why).
   */
  private async sensitivities(kind: 'low-rank' | 'prune', probes: () => Probe[], summary: PlanSummary): Promise<number[] | null> {
    let known = this.sensitivity.get(kind);
    if (!known) {
      const list = probes();
      this.ctx.progress(`measuring the sensitivity of ${list.length} matrices`);
      let sens: Sensitivity[];
      try {
        const model = await this.original();
        this.batches ??= this.ctx.sensitivityBatches(model);
        sens = await measureSensitivity(model, list, this.batches);
      } catch (err) {
        if (err instanceof HmfError) throw err;
        summary.notes.push(`allocation uniform: the model could not be run to measure sensitivities (${(err as Error).message.split('\n')[0]})`);
        return null;
      }
      const byWeight = new Map(sens.map((x) => [x.weight, x.value]));
      known = {
        weights: this.ctx.targets.map((t) => byWeight.get(t.weight) ?? 0),
        summary: { examples: this.batches!.reduce((s, b) => s + (b[0]?.shape[0] ?? 0), 0), matrices: sens, predictedOutputError: 0, measuredOutputError: 0 },
      };
      this.sensitivity.set(kind, known);
    }
    summary.sensitivity = { ...known.summary };
    return known.weights;
  }

  private async modelTime(timer: LayerTimer, model: WholeModel, batch: number): Promise<number> {
    let ms = this.modelMs.get(batch);
    if (ms === undefined) {
      // A model that takes long at batch 1 is not run at larger batches: its time there is batch 1's times the batch (the yardstick only sets the noise level).
      const one = batch > 1 ? await this.modelTime(timer, model, 1) : null;
      ms = one !== null && one * batch > MAX_MODEL_BATCH_MS ? one * batch : await timer.timeModel(model, batch);
      this.modelMs.set(batch, ms);
    }
    return ms;
  }
}

/**
 * `--allocate` when it is not given: global for the low-rank methods; uniform for pruning,
 * whose global allocation (sensitivity-scaled scores) lowered the joint output error on the
 * calibration data but not the held-out accuracy (calibrated x4, scripts/plan-table.ts
 * allocation: sentiment-mlp 82.3% uniform vs 80.2% global, sentiment-gru 80.8 vs 79.5,
 * sentiment-cnn 78.3 vs 77.8, sentiment-embed 80.5 vs 81.3). The char LM is the exception
 * (perplexity 11.84 uniform, 10.01 global): one model is not enough to make a default of
 * it, so the README points language models at `--allocate global`.
 */
export function defaultAllocation(method: MethodName): Allocation {
  return method === 'prune' ? 'uniform' : 'global';
}

/** Every approximated matrix of an execution, for measureJointError. */
function jointOf(targets: readonly TargetMatrix[], executed: Executed) {
  return targets.flatMap((t) => {
    const k = executed.approximations?.get(t.weight);
    return k ? [{ target: t, approximation: k, error2: 0 }] : [];
  });
}

/** The longest a whole-model run at a larger batch may be expected to take before it is estimated from batch 1 instead (ms). */
const MAX_MODEL_BATCH_MS = 500;

function execOptions(opts: PlanOptions, keepApproximations: boolean) {
  return { method: opts.method, factor: opts.factor, selection: opts.selection, scope: opts.scope, seed: opts.seed, denseShare: opts.denseShare, calibration: opts.calibration, keepApproximations };
}

/** A matrix's LMF at `rank` from its sketch, in K's own space (un-whitened). */
function lowRankApproximation(a: MatrixAnalysis, rank: number): Matrix {
  const { p, q } = factorsFromSvd(truncateSvd(a.sketch, rank));
  return matMul(a.whitening ? a.whitening.unwhiten(p) : p, q);
}

/** The reference of a matrix's sensitivity: PROBE_STEP of the way to its LMF at `rank`. */
function lowRankProbe(a: MatrixAnalysis, rank: number): Probe {
  return referenceProbe(a.target, a.matrix, lowRankApproximation(a, rank), a.lmfError2[rank - 1]);
}

/** Each decision's LMF approximation from the matrix's sketch (K' in K's own space), for the targets compressed. */
function lowRankApproximations(analyses: readonly (MatrixAnalysis | null)[], decisions: readonly MatrixDecision[]): Probe[] {
  return analyses.flatMap((a, i) => {
    const b = decisions[i].budget;
    if (!a || b === null) return [];
    const rank = Math.min(a.maxRank, Math.floor(b / (a.matrix.rows + a.matrix.cols)));
    if (rank < 1) return [];
    return [{ target: a.target, approximation: lowRankApproximation(a, rank), error2: a.lmfError2[rank - 1] }];
  });
}

/** Pruning's reference: the matrix pruned to its uniform budget. */
function pruneProbe(ctx: PlanContext, t: TargetMatrix, budget: number | null): Probe {
  const k = ctx.matrixOf(t);
  if (budget === null) return { target: t, approximation: k, error2: 0 };
  const pruned = pruneLayer(k, budget);
  return referenceProbe(t, k, pruned.pruned, pruned.error ** 2);
}

/** Options per matrix (ranks 1..cap at sensitivity x error², or dense) and the greedy allocation of the budget. */
function allocateGlobal(
  targets: readonly TargetMatrix[],
  analyses: readonly (MatrixAnalysis | null)[],
  weights: readonly number[],
  constraints: ReadonlyMap<string, { cap?: number; dense?: string }>,
  opts: PlanOptions,
  uniformRanks: readonly number[],
  latencyOf: ReadonlyMap<string, (rank: number) => number> = new Map(),
): MatrixDecision[] {
  const options: MatrixOptions[] = targets.map((t, i) => {
    const a = analyses[i];
    const full = t.rows * t.cols;
    const c = constraints.get(t.weight);
    const dense = { params: full, cost: 0, latency: 0 };
    if (!a || c?.dense) return { options: [dense] };
    const cap = Math.min(a.maxRank, c?.cap ?? Infinity);
    const floor = Math.min(cap, Math.max(1, Math.ceil(uniformRanks[i] / ALLOCATION_FLOOR)));
    const latency = latencyOf.get(t.weight) ?? (() => 0);
    const ranks = Array.from({ length: cap - floor + 1 }, (_, j) => {
      const r = floor + j;
      return { params: r * (t.rows + t.cols), cost: weights[i] * a.lmfError2[r - 1], latency: latency(r) };
    });
    return { options: [...ranks, dense] };
  });
  const budget = Math.floor(targets.reduce((s, t) => s + t.rows * t.cols, 0) / opts.factor);
  // Rank steps are coarse (an Embedding's is n + m = 4064 parameters): when the budget leaves
  // more than the 3% tolerance unspent, up to 3% over it may land closer to the factor.
  const within = allocate(options, budget, opts.objective);
  const over = within && within.params < budget * (1 - FACTOR_TOLERANCE) ? allocate(options, Math.floor(budget * (1 + FACTOR_TOLERANCE)), opts.objective) : null;
  const result = over && Math.abs(over.params - budget) < Math.abs(within!.params - budget) ? over : within;
  if (!result) {
    const least = options.reduce((sum, o) => sum + o.options[0].params, 0);
    const why = targets.flatMap((t) => {
      const dense = constraints.get(t.weight)?.dense;
      if (dense) return [`${t.weight} [${t.rows}x${t.cols}]: ${dense}`];
      const reason = unreachableReason(t, opts.factor, opts.method);
      return reason ? [`${t.weight} [${t.rows}x${t.cols}]: ${reason}`] : [];
    });
    throw new TargetUnreachableError(
      `factor ${opts.factor} not reached: the targeted matrices take at least ${least} parameters, over the budget of ${budget}` +
        (why.length ? `; ${why.join('; ')}` : '') +
        (targets.some((t) => constraints.get(t.weight)?.dense) ? ' (--objective size accepts a model slower than the original)' : ''),
    );
  }
  // HMF may spend the rest of the budget (its dense outputs come in finer steps than a rank), in proportion.
  const spent = result.params;
  const slack = Math.max(0, budget - spent);
  return targets.map((t, i) => {
    const option = options[i].options[result.chosen[i]];
    const full = t.rows * t.cols;
    const c = constraints.get(t.weight);
    if (option.params >= full) {
      const slower = opts.objective === 'latency' && (latencyOf?.get(t.weight)?.(1) ?? 0) > 0;
      return { budget: null, reason: c?.dense ?? (slower ? 'kept dense: factorized, it would add time (--objective latency)' : 'kept dense: the allocation spends the budget better elsewhere') };
    }
    const extra = opts.method === 'hmf' ? Math.floor((slack * option.params) / Math.max(1, spent)) : 0;
    return { budget: Math.min(full - 1, option.params + extra), reason: null };
  });
}

/**
 * The uniform plan with the run-time checks' limits: matrices kept dense for speed take their
 * parameters out of the budget and the others share what is left at one factor between them
 * (planBudgets at that factor); a capped matrix keeps its cap.
 */
function uniformAround(targets: readonly TargetMatrix[], constraints: Constraints, opts: PlanOptions): MatrixDecision[] {
  const dense = targets.filter((t) => constraints.get(t.weight)?.dense);
  const rest = targets.filter((t) => !constraints.get(t.weight)?.dense);
  const total = targets.reduce((s, t) => s + t.rows * t.cols, 0);
  const left = total / opts.factor - dense.reduce((s, t) => s + t.rows * t.cols, 0);
  const restSize = rest.reduce((s, t) => s + t.rows * t.cols, 0);
  // All the rest at one factor, steeper than asked when some matrices stay dense (none left: unreachable, as the factor check will say).
  if (left <= 0) {
    const none = `no budget left: the matrices kept dense for speed already hold more than 1/${opts.factor} of the targeted weights`;
    return targets.map((t) => ({ budget: null, reason: constraints.get(t.weight)?.dense ?? none }));
  }
  const factor = dense.length === 0 ? opts.factor : Math.max(opts.factor, restSize / left);
  const plans = planBudgets(rest, factor, opts.method);
  return targets.map((t) => {
    const c = constraints.get(t.weight);
    if (c?.dense) return { budget: null, reason: c.dense };
    const p = plans[rest.indexOf(t)];
    if (p.budget === null) return { budget: null, reason: p.reason };
    return { budget: c?.cap !== undefined ? Math.min(p.budget, c.cap * (t.rows + t.cols)) : p.budget, reason: null };
  });
}

/** Why HMF's output is LMF's, when no matrix kept dense outputs. */
function identicalToLmf(rows: readonly MatrixReport[]): string | null {
  const hmf = rows.filter((r) => r.method === 'hmf');
  if (hmf.length === 0 || hmf.some((r) => (r.denseOutputs ?? 0) > 0)) return null;
  const forced = hmf.filter((r) => r.note?.includes('k = 0'));
  if (forced.length === hmf.length) return 'every layer with dense outputs ran slower than its dense original, so k = 0 was used';
  return 'on no matrix did dense outputs lower the estimated error by 0.1% or more at the same size: the spectra are flat enough that rank serves better';
}
