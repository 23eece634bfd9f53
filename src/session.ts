import { tf } from './tf.js';
import { backendThreads, initBackend, latencyThreads, limitBackendThreads, type BackendName } from './backend.js';
import { dataBatches } from './calibrate/data.js';
import { checkDataFile, readCalibration, type Calibration } from './calibrate/pipeline.js';
import { checkedArtifacts, filesArtifacts, gzipSizes, readModelAndBytes, type ByteSizes, type ModelFile, type Weight } from './io/index.js';
import type { CheckedModel } from './io/read.js';
import { startHelperThread } from './helper/thread.js';
import { compareOutputs, type FidelityResult } from './measure/fidelity.js';
import { HmfError } from './errors.js';
import { compareLatency, MIN_RUNS, stats, verdictOf, type BatchLatency } from './measure/latency.js';
import { defaultProbeCount, makeProbes, sensitivityExampleCount, type InputSignature } from './measure/probes.js';
import { TimingWorker } from './measure/timing.js';
import { graphAdapter, layersAdapter, type AdaptedRewrite, type LoadedModel, type ModelAdapter } from './model/adapter.js';
import { Planner, type Planned, type PlanOptions } from './plan/index.js';
import { LatencyCache } from './plan/latencyCache.js';
import { formatMs } from './report/format.js';
import type { MatrixReport, Report } from './report/schema.js';

/** Batch sizes latency is timed at, and that the default plan must not be slower at. */
export const LATENCY_BATCHES = [1, 32];
/** Probe examples run through the models at once when measuring fidelity. */
const PROBE_BATCH = 16;
/** Offset of the sensitivity probes' seeds from the fidelity probes'. */
const SENSITIVITY_SEED = 1_000_003;
/** Seconds of timed runs per batch size; a batch expected to take longer is not timed. */
export const MAX_BATCH_SECONDS = 30;

export interface SessionOptions {
  minParams: number;
  portable: boolean;
  seed: number;
  /** Generated fidelity probes; undefined: defaultProbeCount for the model. */
  probes?: number;
  runs: number;
  calibration?: string;
  /** A data file checked against the model before any work (--eval). */
  check?: string;
  backend?: BackendName;
}

/** The report's fidelity section. */
export type Fidelity = FidelityResult & { probes: number; source: 'generated' | 'calibration' };

/** One candidate compression of the session's model: the plan's result, rewritten. */
export interface Compressed {
  planned: Planned;
  rewritten: AdaptedRewrite;
  /** The report rows, with matrices the rewrite had to leave dense marked so. */
  rows: MatrixReport[];
}

/**
 * One model opened for compressing, at one factor (`compress`) or many (`--factor auto`,
 * `hmf sweep`): the model read and checked, its adapter, calibration data, the planner
 * (which keeps the factorizations between runs), the original loaded into TF.js once, and
 * the fidelity probes. The stages compress.ts and sweep.ts put together.
 */
export class CompressionSession {
  readonly planner: Planner;
  private original: LoadedModel | null = null;
  private fidelityBatches: tf.Tensor[][] | null = null;
  private timing: TimingWorker | null = null;

  private constructor(
    readonly model: ModelFile,
    readonly checked: CheckedModel,
    readonly sizeBefore: Promise<ByteSizes>,
    readonly adapter: ModelAdapter,
    readonly backend: BackendName,
    readonly calibration: Calibration | null,
    private readonly opts: SessionOptions,
    private readonly progress: (message: string) => void,
  ) {
    this.planner = new Planner({
      targets: adapter.targets,
      matrixOf: (t) => adapter.matrix(t),
      edits: adapter.edits,
      loadOriginal: () => this.loadOriginal(),
      sensitivityBatches: (loaded) => this.sensitivityBatches(loaded),
      timingWorker: () => (this.timing ??= new TimingWorker(backend)),
      latencyCache: new LatencyCache({ backend, threads: latencyThreads(), tfjs: tf.version.tfjs }),
      progress,
    });
  }

  /**
   * Reads the model (the backend starts meanwhile), checks `check` and reads the calibration
   * data against it. `phase` times each step for the report.
   */
  static async open(
    modelPath: string,
    opts: SessionOptions,
    progress: (message: string) => void,
    phase: <T>(name: string, run: () => T | Promise<T>) => Promise<T>,
    beforeWork: (model: ModelFile) => void = () => {},
  ): Promise<CompressionSession> {
    const backendReady = initBackend(opts.backend);
    backendReady.catch(() => {}); // awaited after the read; a failure must not be an unhandled rejection first
    progress(`reading ${modelPath}`);
    const { model, bytes, checked } = await phase('read', () => readModelAndBytes(modelPath));
    const backend = await backendReady;
    beforeWork(model);
    const adapter = await phase('read', () =>
      model.format === 'graph-model' ? graphAdapter(model, opts.minParams) : layersAdapter(model, opts.minParams, opts.portable),
    );
    // A bad data file fails before any work, not after the model is written.
    if (opts.check) await phase('read', () => checkDataFile(opts.check!, model, adapter));
    const calibration = opts.calibration ? await phase('calibrate', () => readCalibration(opts.calibration!, model, adapter, progress)) : null;
    return new CompressionSession(model, checked, bytes, adapter, backend, calibration, opts, progress);
  }

  /** Plans, compresses and rewrites the model as `plan` says. */
  async compressAt(plan: Omit<PlanOptions, 'calibration' | 'batches' | 'seed'>): Promise<Compressed> {
    const planned = await this.planner.run({
      ...plan,
      seed: this.opts.seed,
      calibration: this.calibration?.grams ? { grams: this.calibration.grams } : undefined,
      batches: await this.latencyBatches(),
    });
    const rewritten = this.adapter.rewrite(planned.rewrites);
    const rows = planned.rows.map((row) => {
      const dense = rewritten.leftDense.find((d) => d.weight === row.weight);
      return dense ? leftDenseRow(row, dense.reason) : row;
    });
    return { planned, rewritten, rows };
  }

  /**
   * Fidelity of `files` (the compressed model's files as they will be written) against the
   * original. A model that TF.js cannot load or run on probes of its own signature (the
   * original as given) is written all the same: the result then says what could not be
   * measured and why.
   */
  async fidelity(compressed: ModelFile, files: ReadonlyMap<string, Uint8Array>): Promise<Fidelity> {
    startHelperThread(); // shares the fidelity tally of large outputs (ready long before the models have run)
    const source = this.calibration ? ('calibration' as const) : ('generated' as const);
    const unmeasurable = (reason: string): Fidelity => ({ outputs: [], unmeasured: [{ output: '(all)', reason }], probes: 0, source });
    let original: LoadedModel;
    try {
      original = await this.loadOriginal();
    } catch (err) {
      if (err instanceof HmfError) throw err;
      return unmeasurable(`TF.js ${tf.version.tfjs} cannot load the original model: ${(err as Error).message}`);
    }
    const batches = this.probeBatches(original);
    try {
      // The original alone first: a model that does not run on probes of its own signature
      // cannot be measured, which is not an error of hmf's.
      tf.dispose(await original.runnable.run(batches[0] ?? []));
    } catch (err) {
      const inputs = original.signatures.map((sig) => `${sig.name} ${sig.dtype}[${sig.shape.join(', ')}]`).join(', ');
      return unmeasurable(`the original model does not run on ${this.calibration ? 'the calibration examples' : `generated probes (${inputs})`}: ${(err as Error).message}`);
    }
    const { runnable: smaller } = await this.adapter.load(compressed, filesArtifacts(files, compressed.path));
    try {
      const result = await compareOutputs(original.runnable, smaller, batches);
      const probes = this.calibration ? this.calibration.dataset.count : (this.opts.probes ?? defaultProbeCount(original.macsPerExample));
      return { ...result, probes, source };
    } finally {
      smaller.dispose();
    }
  }

  /** The original's inputs as probed; null when TF.js cannot load it. */
  async signatures(): Promise<InputSignature[] | null> {
    try {
      return (await this.loadOriginal()).signatures;
    } catch {
      return null;
    }
  }

  /** Ops that made the original run through executeAsync (graph models), for the report. */
  async asyncOps(): Promise<string[]> {
    try {
      return (await this.loadOriginal()).asyncOps ?? [];
    } catch {
      return [];
    }
  }

  /** Latency of both models at batch 1 and 32 (or the model's fixed batch), interleaved, on the reported thread count. */
  async latency(compressed: ModelFile, files: ReadonlyMap<string, Uint8Array>, fidelity: Fidelity): Promise<NonNullable<Report['latency']>> {
    const all = fidelity.unmeasured.find((u) => u.output === '(all)');
    if (all) return { runs: this.opts.runs, threads: latencyThreads(), batches: [], skipped: [`not timed: ${all.reason}`] };
    const original = await this.loadOriginal();
    const { runnable: smaller } = await this.adapter.load(compressed, filesArtifacts(files, compressed.path));
    try {
      const timedThreads = limitBackendThreads(latencyThreads());
      const fixedBatch = original.signatures.find((s) => s.batch !== undefined)?.batch;
      const latency: BatchLatency[] = [];
      const skipped: string[] = [];
      for (const batch of fixedBatch ? [fixedBatch] : LATENCY_BATCHES) {
        // A large batch of a slow model would take minutes even at the minimum run count.
        const previous = latency[latency.length - 1];
        const estimate = previous ? ((previous.original.medianMs + previous.compressed.medianMs) * (batch / previous.batch) * (MIN_RUNS + 1)) / 1000 : 0;
        if (estimate > MAX_BATCH_SECONDS) {
          skipped.push(`batch ${batch} not timed: about ${Math.round(estimate)} s at ${MIN_RUNS} runs (batch ${previous.batch} takes ${formatMs(previous.original.medianMs)})`);
          continue;
        }
        this.progress(`timing batch ${batch}`);
        const inputs = makeProbes(original.signatures, batch, this.opts.seed + batch);
        latency.push(await compareLatency(original.runnable, smaller, inputs, batch, { runs: this.opts.runs, maxSeconds: MAX_BATCH_SECONDS }));
        tf.dispose(inputs);
      }
      return { runs: this.opts.runs, threads: timedThreads, batches: latency, skipped };
    } finally {
      smaller.dispose();
    }
  }

  /**
   * Latency of both models like latency(), but timed in the latency worker (its own TF.js on
   * the reported thread count), so the main thread's backend keeps its threads for the next
   * factorization: what a sweep measures between its candidates.
   */
  async latencyInWorker(compressed: ModelFile, files: ReadonlyMap<string, Uint8Array>, runs: number): Promise<BatchLatency[]> {
    const original = await this.loadOriginal();
    const model = original.timingModel;
    if (!model) return [];
    const worker = (this.timing ??= new TimingWorker(this.backend));
    const out: BatchLatency[] = [];
    for (const batch of await this.latencyBatches()) {
      this.progress(`timing batch ${batch}`);
      const { a, b } = await worker.time({
        format: model.format,
        a: model.artifacts,
        b: filesArtifacts(files, compressed.path),
        inputs: model.inputs,
        batch,
        options: { runs, maxSeconds: MAX_BATCH_SECONDS },
      });
      const sa = stats(a);
      const sb = stats(b);
      out.push({ batch, original: sa, compressed: sb, speedup: sa.medianMs / sb.medianMs, runs: a.length, verdict: verdictOf(a, b) });
    }
    return out;
  }

  /** Threads the backend computes on (before latency timing lowers them). */
  threads(): number {
    return backendThreads();
  }

  sizeOf(files: ReadonlyMap<string, Uint8Array>): Promise<ByteSizes> {
    return gzipSizes([...files.values()]);
  }

  async close(): Promise<void> {
    this.planner.dispose();
    this.original?.runnable.dispose();
    this.original = null;
    if (this.fidelityBatches) tf.dispose(this.fidelityBatches.flat());
    this.fidelityBatches = null;
    await this.timing?.close();
    this.timing = null;
  }

  /** Batch 1 and 32, or the one batch size the model fixes. */
  private async latencyBatches(): Promise<number[]> {
    let fixed: number | undefined;
    try {
      fixed = (await this.loadOriginal()).signatures.find((sig) => sig.batch !== undefined)?.batch;
    } catch (err) {
      // A model TF.js cannot load is still compressed and written; fidelity() says why it was not measured.
      if (err instanceof HmfError) throw err;
    }
    return fixed ? [fixed] : [...LATENCY_BATCHES];
  }

  private async loadOriginal(): Promise<LoadedModel> {
    // The original reaches TF.js from its bytes as read.
    return (this.original ??= await this.adapter.load(this.model, checkedArtifacts(this.checked)));
  }

  /**
   * The fidelity probes, made once: the calibration examples, else generated ones in batches
   * of about PROBE_BATCH (a remainder under half a batch spread over the others: each batch
   * pays a recurrent model's per-step work once; the PTB benchmark's 18 probes, measure
   * phase: as 16 + 2, 1.56 s; as one batch of 18, 1.40 s). Small batches keep both models'
   * outputs small (a 10000-word softmax over 35 steps is 179 MB per model at 128 probes).
   */
  private probeBatches(original: LoadedModel): tf.Tensor[][] {
    if (this.fidelityBatches) return this.fidelityBatches;
    const fixedBatch = original.signatures.find((s) => s.batch !== undefined)?.batch;
    const data = this.calibration?.dataset;
    const batches: tf.Tensor[][] = [];
    if (data) batches.push(...dataBatches(data, fixedBatch ?? PROBE_BATCH, 0, data.count, fixedBatch));
    else {
      const probes = this.opts.probes ?? defaultProbeCount(original.macsPerExample);
      const batchSize = fixedBatch ?? Math.ceil(probes / Math.max(1, Math.round(probes / PROBE_BATCH)));
      for (let done = 0; done < probes; done += batchSize) {
        batches.push(makeProbes(original.signatures, Math.min(batchSize, fixedBatch ?? probes - done), this.opts.seed + done));
      }
    }
    return (this.fidelityBatches = batches);
  }

  /** The planner's probes: calibration examples, else generated ones with other seeds than the fidelity's (the plan is not fitted to what judges it). */
  private sensitivityBatches(loaded: LoadedModel): tf.Tensor[][] {
    const count = sensitivityExampleCount(loaded.macsPerExample);
    const fixedBatch = loaded.signatures.find((sig) => sig.batch !== undefined)?.batch;
    if (this.calibration) {
      const data = this.calibration.dataset;
      return dataBatches(data, fixedBatch ?? PROBE_BATCH, 0, Math.min(count, data.count), fixedBatch);
    }
    const out: tf.Tensor[][] = [];
    const size = fixedBatch ?? PROBE_BATCH;
    for (let done = 0; done < count; done += size) out.push(makeProbes(loaded.signatures, fixedBatch ?? Math.min(size, count - done), this.opts.seed + SENSITIVITY_SEED + done));
    return out;
  }
}

/** Wall seconds spent in each named stage (the report's context.phases); `phase` times one step and adds it to its stage. */
export function phaseTimer(): { phases: Record<string, number>; phase: <T>(name: string, run: () => T | Promise<T>) => Promise<T> } {
  const phases: Record<string, number> = {};
  const phase = async <T>(name: string, run: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      phases[name] = (phases[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
  return { phases, phase };
}

/** A matrix the method compressed but the rewrite could not express (e.g. --portable). */
function leftDenseRow(row: MatrixReport, reason: string): MatrixReport {
  return {
    ...row,
    method: 'dense',
    rank: null,
    denseOutputs: null,
    selection: null,
    sparsity: null,
    paramsAfter: row.paramsBefore,
    macsAfter: row.macsBefore,
    relativeError: 0,
    note: reason,
  };
}

/** Parameters of the targeted matrices and the whole model, before and after. */
export function computeTotals(before: readonly Weight[], after: readonly Weight[], rows: readonly MatrixReport[]) {
  const count = (ws: readonly Weight[]) => ws.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  const targetedBefore = rows.reduce((s, r) => s + r.paramsBefore, 0);
  const targetedAfter = rows.reduce((s, r) => s + r.paramsAfter, 0);
  const storedBefore = count(before);
  const storedAfter = count(after);
  // Pruned zeros are stored but are not parameters.
  const prunedZeros = rows.reduce((s, r) => s + (r.method === 'prune' ? r.paramsBefore - r.paramsAfter : 0), 0);
  const modelAfter = storedAfter - prunedZeros;
  return {
    targeted: { paramsBefore: targetedBefore, paramsAfter: targetedAfter, factor: ratio(targetedBefore, targetedAfter) },
    model: { paramsBefore: storedBefore, paramsAfter: modelAfter, factor: ratio(storedBefore, modelAfter) },
    storedParams: { before: storedBefore, after: storedAfter },
    macs: { before: rows.reduce((s, r) => s + r.macsBefore, 0), after: rows.reduce((s, r) => s + r.macsAfter, 0) },
  };
}

function ratio(a: number, b: number): number {
  return b === 0 ? Infinity : a / b;
}
