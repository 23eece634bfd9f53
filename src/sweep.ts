import { tf } from './tf.js';
import { cpus } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendName } from './backend.js';
import type { Dataset, LabelMetrics } from './data/index.js';
import { TargetUnreachableError, UsageError } from './errors.js';
import { evaluate, scoreInMemory } from './eval.js';
import { encodeModel, filesArtifacts, type ByteSizes } from './io/index.js';
import type { OutputFidelity } from './measure/fidelity.js';
import type { MethodName } from './methods/types.js';
import { isValidFactor } from './plan/budget.js';
import { defaultAllocation, type Allocation, type Objective } from './plan/index.js';
import { CompressionSession, computeTotals, phaseTimer } from './session.js';
import { renderSweepSvg } from './report/sweepPlot.js';
import { TOOL_VERSION } from './version.js';

/** Options of `sweep()`. */
export interface SweepOptions {
  /** @default ['hmf', 'lmf', 'prune'] */
  methods?: MethodName[];
  /** @default [2, 4, 8, 16] */
  factors?: number[];
  calibration?: string;
  /** Labelled data: each candidate's accuracy (or perplexity) goes into its row and the plot. */
  eval?: string;
  /** @default 'global' */
  allocate?: Allocation;
  /** @default 'balanced' */
  objective?: Objective;
  /** @default 4096 */
  minParams?: number;
  /** @default 0 */
  seed?: number;
  /** Timed runs per model and batch size. @default 20 */
  runs?: number;
  /** Generated fidelity probes. @default as compress */
  probes?: number;
  /** Where the SVG plot goes. @default `<model folder>-sweep.svg` beside the model folder */
  plot?: string;
  backend?: BackendName;
  command?: string;
  onProgress?: (message: string) => void;
}

/** Bumped whenever a key changes meaning or disappears. */
export const SWEEP_SCHEMA_VERSION = 1;

/** One method at one factor (or the original, factor 1). */
export interface SweepRow {
  method: MethodName | 'original';
  factor: number;
  /** Why the factor could not be reached with this method (the rest of the row is then null). */
  unreachable: string | null;
  /** Factor reached on the targeted weights. */
  targetedFactor: number | null;
  bytes: ByteSizes | null;
  /** Latency of this model at each batch size (the original's in its own row), median ms, and the speedup over the original. */
  latency: { batch: number; medianMs: number; speedup: number; verdict: string }[] | null;
  fidelity: OutputFidelity[] | null;
  metrics: LabelMetrics | null;
  /** The quality the Pareto front and the plot use (see SweepReport.quality). */
  quality: number | null;
  /** On the Pareto front of raw bytes, batch-1 latency and quality: no other row is at least as good on all three and better on one. */
  pareto: boolean;
  /** HMF rows: the output is identical to LMF's (no dense outputs kept). */
  identicalToLmf: boolean;
  /** Targeted matrices the plan kept dense because factorized they would slow the model (the factor reached shows it). */
  denseForSpeed: number;
}

export interface SweepReport {
  schemaVersion: number;
  tool: { name: 'hmf'; version: string };
  command: string;
  model: { path: string; format: string };
  /** allocate `default`: global for hmf and lmf, uniform for prune (defaultAllocation). */
  options: { methods: MethodName[]; factors: number[]; allocate: Allocation | 'default'; objective: Objective; seed: number; calibration: string | null; eval: string | null };
  /** What `quality` is: the eval metric when --eval has labels, else top-1 agreement with the original. */
  quality: { name: 'accuracy' | 'perplexity' | 'top-1 agreement'; higherIsBetter: boolean };
  rows: SweepRow[];
  plot: string;
  context: { backend: string; tfjsVersion: string; node: string; cpu: string; wallSeconds: number; phases: Record<string, number> };
}

const DEFAULT_METHODS: MethodName[] = ['hmf', 'lmf', 'prune'];
const DEFAULT_FACTORS = [2, 4, 8, 16];

/**
 * `hmf sweep`: every method at every factor on one model, with its size, latency, fidelity
 * and eval metric, the Pareto front marked and an SVG plot written. One session: the model
 * is read and its calibration collected once, each matrix sketched once at the largest rank
 * asked (the smallest factor), sensitivities and layer timings measured once; latency is
 * timed in the latency worker so factorizing keeps every core.
 */
export async function sweep(modelPath: string, options: SweepOptions = {}): Promise<SweepReport> {
  const started = performance.now();
  const o = resolveSweep(modelPath, options);
  const progress = options.onProgress ?? (() => {});
  const { phases, phase } = phaseTimer();
  const session = await CompressionSession.open(
    modelPath,
    { minParams: o.minParams, portable: false, seed: o.seed, probes: options.probes, runs: o.runs, calibration: o.calibration ?? undefined, check: o.eval ?? undefined, backend: options.backend },
    progress,
    phase,
  );
  try {
    const evalData = new Map<string, Dataset>();
    const before = await session.sizeBefore;
    const originalMetrics = o.eval ? (await evaluate(session.model.path, { data: o.eval, backend: options.backend })).metrics : null;
    const rows: SweepRow[] = [
      {
        method: 'original',
        factor: 1,
        unreachable: null,
        targetedFactor: 1,
        bytes: before,
        latency: null,
        fidelity: null,
        metrics: originalMetrics,
        quality: null,
        pareto: false,
        identicalToLmf: false,
        denseForSpeed: 0,
      },
    ];
    // Smallest factor first: its sketches are the largest, and serve every larger factor.
    const factors = [...o.factors].sort((a, b) => a - b);
    for (const method of o.methods) {
      for (const factor of factors) {
        progress(`${method} x${factor}`);
        const row: SweepRow = { method, factor, unreachable: null, targetedFactor: null, bytes: null, latency: null, fidelity: null, metrics: null, quality: null, pareto: false, identicalToLmf: false, denseForSpeed: 0 };
        rows.push(row);
        try {
          const c = await phase('factorize', () => session.compressAt({ method, factor, allocate: o.allocate ?? defaultAllocation(method), objective: o.objective, selection: 'residual' }));
          const model = c.rewritten.model;
          const files = await phase('encode', () => encodeModel(model, { quantize: 'keep' }));
          row.targetedFactor = computeTotals(session.model.weights, model.weights, c.rows).targeted.factor;
          row.identicalToLmf = c.planned.summary.identicalToLmf !== null;
          row.denseForSpeed = c.rows.filter((r) => r.method === 'dense' && r.note?.includes('slower')).length;
          row.bytes = await phase('sizes', () => session.sizeOf(files));
          const fidelity = await phase('measure', () => session.fidelity(model, files));
          row.fidelity = fidelity.outputs;
          if (o.eval) row.metrics = await phase('eval', () => scoreInMemory(model, filesArtifacts(files, model.path), o.eval!, evalData));
          const latency = await phase('latency', () => session.latencyInWorker(model, files, o.runs));
          row.latency = latency.map((b) => ({ batch: b.batch, medianMs: b.compressed.medianMs, speedup: b.speedup, verdict: b.verdict }));
          // The original's own latency, from the first candidate's interleaved runs.
          rows[0].latency ??= latency.map((b) => ({ batch: b.batch, medianMs: b.original.medianMs, speedup: 1, verdict: 'within noise' }));
        } catch (err) {
          if (!(err instanceof TargetUnreachableError)) throw err;
          row.unreachable = err.message;
        }
      }
    }
    const quality = qualityOf(rows);
    for (const r of rows) r.quality = quality.value(r);
    rows[0].quality ??= quality.name === 'top-1 agreement' ? 1 : null;
    markPareto(rows, quality.higherIsBetter);
    const plot = o.plot;
    const report: SweepReport = {
      schemaVersion: SWEEP_SCHEMA_VERSION,
      tool: { name: 'hmf', version: TOOL_VERSION },
      command: options.command ?? `sweep ${modelPath}`,
      model: { path: session.model.path, format: session.model.format },
      options: { methods: o.methods, factors, allocate: o.allocate ?? 'default', objective: o.objective, seed: o.seed, calibration: o.calibration, eval: o.eval },
      quality: { name: quality.name, higherIsBetter: quality.higherIsBetter },
      rows,
      plot,
      context: { backend: session.backend, tfjsVersion: tf.version.tfjs, node: process.version, cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`, wallSeconds: 0, phases },
    };
    report.context.wallSeconds = (performance.now() - started) / 1000;
    await writeFile(plot, renderSweepSvg(report));
    return report;
  } finally {
    await session.close();
  }
}

function qualityOf(rows: readonly SweepRow[]): { name: SweepReport['quality']['name']; higherIsBetter: boolean; value(r: SweepRow): number | null } {
  const withMetrics = rows.filter((r) => r.metrics);
  if (withMetrics.length && withMetrics.every((r) => r.metrics!.perplexity !== null)) return { name: 'perplexity', higherIsBetter: false, value: (r) => r.metrics?.perplexity ?? null };
  if (withMetrics.length) return { name: 'accuracy', higherIsBetter: true, value: (r) => r.metrics?.accuracy ?? null };
  return { name: 'top-1 agreement', higherIsBetter: true, value: (r) => (r.fidelity ? Math.min(...r.fidelity.map((f) => f.top1Agreement)) : null) };
}

/** Marks the rows no other row dominates on raw bytes (lower), batch-1 latency (lower) and quality. */
export function markPareto(rows: SweepRow[], higherIsBetter: boolean): void {
  const points = rows.map((r) => {
    const lat = r.latency?.[0]?.medianMs;
    if (r.bytes === null || lat === undefined || r.quality === null) return null;
    return { size: r.bytes.raw, lat, q: higherIsBetter ? r.quality : -r.quality };
  });
  points.forEach((p, i) => {
    if (!p) return;
    rows[i].pareto = !points.some((x, j) => x && j !== i && x.size <= p.size && x.lat <= p.lat && x.q >= p.q && (x.size < p.size || x.lat < p.lat || x.q > p.q));
  });
}

interface ResolvedSweep {
  methods: MethodName[];
  factors: number[];
  /** null: each method's default (defaultAllocation). */
  allocate: Allocation | null;
  objective: Objective;
  minParams: number;
  seed: number;
  runs: number;
  calibration: string | null;
  eval: string | null;
  plot: string;
}

function resolveSweep(modelPath: string, o: SweepOptions): ResolvedSweep {
  const methods = o.methods ?? DEFAULT_METHODS;
  if (methods.length === 0) throw new UsageError('--methods: expected one or more of hmf, lmf, prune, found none');
  for (const m of methods) if (!DEFAULT_METHODS.includes(m)) throw new UsageError(`--methods: expected hmf, lmf or prune, found ${m}`);
  const factors = o.factors ?? DEFAULT_FACTORS;
  if (factors.length === 0) throw new UsageError('--factors: expected one or more factors, found none');
  for (const f of factors) if (!isValidFactor(f)) throw new UsageError(`--factors: expected numbers greater than 1, found ${f}`);
  const allocate = o.allocate ?? null;
  if (allocate !== null && !['global', 'uniform'].includes(allocate)) throw new UsageError(`--allocate: expected global or uniform, found ${allocate}`);
  const objective = o.objective ?? 'balanced';
  if (!['balanced', 'size', 'latency'].includes(objective)) throw new UsageError(`--objective: expected balanced, size or latency, found ${objective}`);
  const runs = o.runs ?? 20;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, found ${runs}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: expected a non-negative integer, found ${seed}`);
  const minParams = o.minParams ?? 4096;
  if (!Number.isInteger(minParams) || minParams < 1) throw new UsageError(`--min-params: expected a positive integer, found ${minParams}`);
  const folder = dirname(resolve(modelPath));
  const plot = resolve(o.plot ?? join(dirname(folder), `${basename(folder)}-sweep.svg`));
  return { methods: [...new Set(methods)], factors: [...new Set(factors)], allocate, objective, minParams, seed, runs, calibration: o.calibration ?? null, eval: o.eval ?? null, plot };
}
