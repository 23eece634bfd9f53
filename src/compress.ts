import * as tf from '@tensorflow/tfjs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { initBackend, type BackendName } from './backend.js';
import { ModelFormatError, QualityGateError, TargetUnreachableError, UsageError } from './errors.js';
import { encodeModel, modelBytes, readModel, toArtifacts, writeFiles, type ModelFile, type Weight } from './io/index.js';
import { compareOutputs } from './measure/fidelity.js';
import { compareLatency } from './measure/latency.js';
import { inputSignatures, makeProbes } from './measure/probes.js';
import { layersRunnable } from './measure/runnable.js';
import { hmf, lmf, pruneGlobal, pruneLayer } from './methods/index.js';
import type { Compressed, MethodName, OutputSelection } from './methods/types.js';
import { emittedOrder, WeightEdits } from './model/order.js';
import { rewriteLayers, type MatrixRewrite } from './model/rewrite.js';
import { scanTargets, type TargetMatrix } from './model/targets.js';
import { parseLayersTopology, serializeLayersTopology } from './model/topology.js';
import { isValidFactor, planBudgets, totalBudget } from './plan/budget.js';
import { REPORT_SCHEMA_VERSION, type MatrixReport, type Report } from './report/schema.js';
import { TOOL_VERSION } from './version.js';

/** Options of `compress()`; every field has a default. */
export interface CompressOptions {
  /** Compression factor of the targeted weights (> 1). @default 4 */
  factor?: number;
  /** @default 'hmf' */
  method?: MethodName;
  /** HMF: which outputs stay dense. @default 'residual' */
  selection?: OutputSelection;
  /** Pruning: budget per matrix or across all targeted matrices. @default 'layer' */
  scope?: 'layer' | 'global';
  /** Matrices with fewer parameters stay dense. @default 4096 */
  minParams?: number;
  /** Seed of every random choice (sketches, probes). @default 0 */
  seed?: number;
  /** Output folder. @default `<model folder>-<method>-x<factor>` beside the model folder */
  out?: string;
  /** Replace a non-empty output folder. @default false */
  force?: boolean;
  /** Measure latency. @default true */
  bench?: boolean;
  /** Timed runs per model and batch size. @default 30 */
  runs?: number;
  /** Probe examples for fidelity. @default 128 */
  probes?: number;
  /** TF.js backend. @default the fastest that loads */
  backend?: BackendName;
  /** Quality gate: largest relative output error allowed. */
  maxError?: number;
  /** Quality gate: smallest top-1 agreement allowed. */
  minAgreement?: number;
  /** The command line, recorded in the report. */
  command?: string;
  /** Progress callback (the library never prints). */
  onProgress?: (message: string) => void;
}

export interface CompressResult {
  report: Report;
  /** Folder written (absolute), or null when nothing was written. */
  outDir: string;
}

const LATENCY_BATCHES = [1, 32];

/** Compresses a TF.js model (DESIGN.md) and writes it with its report.json. */
export async function compress(modelPath: string, options: CompressOptions = {}): Promise<CompressResult> {
  const started = performance.now();
  const opts = resolveOptions(modelPath, options);
  const progress = options.onProgress ?? (() => {});
  const backend = await initBackend(options.backend);

  progress(`reading ${modelPath}`);
  const model = await readModel(modelPath);
  if (model.format !== 'layers-model') {
    throw new ModelFormatError(`${model.path}: graph models cannot be compressed yet (format "${model.format}"); only layers models`);
  }
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  const scan = scanTargets(graph, model.weights, opts.minParams);
  const edits = new WeightEdits(model.weights);
  const rewrites: MatrixRewrite[] = [];
  const rows: MatrixReport[] = [];

  const globalPrune =
    opts.method === 'prune' && opts.scope === 'global'
      ? pruneGlobal(scan.targets.map((t) => edits.matrix(t.weight)), totalBudget(scan.targets, opts.factor))
      : null;

  const plans = planBudgets(scan.targets, opts.factor, opts.method);
  for (const [i, target] of scan.targets.entries()) {
    progress(`${opts.method} ${target.layer} (${target.rows}x${target.cols}) ${i + 1}/${scan.targets.length}`);
    const t0 = performance.now();
    const k = edits.matrix(target.weight);
    const { budget, reason } = plans[i];
    let result: Compressed | null = null;
    let note: string | null = reason;
    let selection: OutputSelection | null = null;
    if (globalPrune) {
      result = globalPrune[i];
    } else if (budget !== null) {
      const seed = matrixSeed(opts.seed, target.weight);
      if (opts.method === 'lmf') {
        result = lmf(k, budget, { seed });
      } else if (opts.method === 'hmf') {
        selection = target.orderAbsorbers === null ? 'leading' : opts.selection;
        if (selection !== opts.selection) {
          note = 'residual selection needs a consumer that can absorb the output order; used leading';
        }
        result = hmf(k, budget, { seed, selection });
      } else {
        result = pruneLayer(k, budget);
      }
      if (result === null) note = `cannot reach factor ${opts.factor} with ${opts.method}`;
    }

    if (result?.kind === 'prune') {
      edits.set(target.weight, result.pruned.data);
    } else if (result) {
      rewrites.push({ target, result });
      const order = result.kind === 'hmf' && result.k > 0 ? emittedOrder(result.denseOutputs, result.lowRankOutputs) : null;
      if (order) {
        if (target.orderAbsorbers === null) throw new Error(`internal: ${target.layer} emits a new output order but nothing absorbs it`);
        for (const absorber of target.orderAbsorbers) edits.permuteRows(absorber, order);
      }
    }
    rows.push(matrixRow(target, result, selection, note, (performance.now() - t0) / 1000));
  }

  const rewritten = rewriteLayers(graph, model.weights, rewrites, edits.changed());
  const compressed: ModelFile = {
    ...model,
    json: { ...model.json, modelTopology: serializeLayersTopology(model.json.modelTopology, rewritten.graph) },
    weights: rewritten.weights,
  };

  const totals = computeTotals(model.weights, compressed.weights, rows);
  checkFactor(totals.targeted, rows, opts.factor);

  progress('measuring fidelity');
  const files = encodeModel(compressed);
  const originalLayers = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(model)));
  const signatures = inputSignatures(originalLayers);
  const original = layersRunnable(originalLayers);
  const smaller = layersRunnable(await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(compressed))));
  const probes = makeProbes(signatures, opts.probes, opts.seed);
  const fidelity = compareOutputs(original, smaller, probes);
  tf.dispose(probes);

  let latency: Report['latency'] = null;
  if (opts.bench) {
    const batches = [];
    for (const batch of LATENCY_BATCHES) {
      progress(`timing batch ${batch}`);
      const inputs = makeProbes(signatures, batch, opts.seed + batch);
      batches.push(compareLatency(original, smaller, inputs, batch, { runs: opts.runs }));
      tf.dispose(inputs);
    }
    latency = { runs: opts.runs, batches };
  }
  original.dispose();
  smaller.dispose();

  const before = await modelBytes(model.path);
  const after = sizeOf(files);
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'hmf', version: TOOL_VERSION },
    command: options.command ?? `compress ${modelPath}`,
    model: { path: model.path, format: model.format, className: String((model.json.modelTopology as { class_name?: string }).class_name) },
    output: { path: opts.out, runtimeRequired: false },
    options: {
      method: opts.method,
      factor: opts.factor,
      selection: opts.selection,
      scope: opts.scope,
      minParams: opts.minParams,
      seed: opts.seed,
    },
    matrices: rows,
    skipped: scan.skipped,
    unknownLayers: scan.unknownLayers,
    totals: {
      ...totals,
      bytes: { before, after, factorRaw: before.raw / after.raw, factorGzip: before.gzip / after.gzip },
    },
    latency,
    fidelity: { probes: opts.probes, source: 'generated', outputs: fidelity },
    context: {
      backend,
      tfjsVersion: tf.version.tfjs,
      node: process.version,
      cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
      platform: `${process.platform}-${process.arch}`,
      wallSeconds: 0,
    },
  };
  checkGates(report, opts.maxError, opts.minAgreement);
  report.context.wallSeconds = (performance.now() - started) / 1000;

  progress(`writing ${opts.out}`);
  files.set('report.json', new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`));
  await writeFiles(files, opts.out, { force: opts.force });
  return { report, outDir: opts.out };
}

interface ResolvedOptions {
  factor: number;
  method: MethodName;
  selection: OutputSelection;
  scope: 'layer' | 'global';
  minParams: number;
  seed: number;
  out: string;
  force: boolean;
  bench: boolean;
  runs: number;
  probes: number;
  maxError?: number;
  minAgreement?: number;
}

function resolveOptions(modelPath: string, o: CompressOptions): ResolvedOptions {
  const factor = o.factor ?? 4;
  if (!isValidFactor(factor)) throw new UsageError(`--factor: expected a number greater than 1, found ${factor}`);
  const method = o.method ?? 'hmf';
  if (!['hmf', 'lmf', 'prune'].includes(method)) throw new UsageError(`--method: expected hmf, lmf or prune, found ${method}`);
  const selection = o.selection ?? 'residual';
  if (!['leading', 'residual'].includes(selection)) throw new UsageError(`--selection: expected leading or residual, found ${selection}`);
  const scope = o.scope ?? 'layer';
  if (!['layer', 'global'].includes(scope)) throw new UsageError(`--scope: expected layer or global, found ${scope}`);
  const minParams = o.minParams ?? 4096;
  if (!Number.isInteger(minParams) || minParams < 1) throw new UsageError(`--min-params: expected a positive integer, found ${minParams}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: expected a non-negative integer, found ${seed}`);
  const runs = o.runs ?? 30;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs: expected a positive integer, found ${runs}`);
  const probes = o.probes ?? 128;
  if (!Number.isInteger(probes) || probes < 1) throw new UsageError(`--probes: expected a positive integer, found ${probes}`);
  if (o.maxError !== undefined && !(o.maxError >= 0)) throw new UsageError(`--max-error: expected a number >= 0, found ${o.maxError}`);
  if (o.minAgreement !== undefined && !(o.minAgreement >= 0 && o.minAgreement <= 1)) {
    throw new UsageError(`--min-agreement: expected a number between 0 and 1, found ${o.minAgreement}`);
  }
  return {
    factor,
    method,
    selection,
    scope,
    minParams,
    seed,
    out: resolve(o.out ?? defaultOutDir(modelPath, method, factor)),
    force: o.force ?? false,
    bench: o.bench ?? true,
    runs,
    probes,
    maxError: o.maxError,
    minAgreement: o.minAgreement,
  };
}

/** `<model folder>-<method>-x<factor>` beside the model's folder (DESIGN.md §5). */
export function defaultOutDir(modelPath: string, method: string, factor: number): string {
  const folder = dirname(resolve(modelPath));
  return join(dirname(folder), `${basename(folder)}-${method}-x${factor}`);
}

/** A per-matrix seed that does not depend on the order the matrices are processed in. */
function matrixSeed(seed: number, name: string): number {
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
  const macsBefore = t.role === 'embeddings' ? 0 : n * m;
  const base = { layer: t.layer, role: t.role, weight: t.weight, shape: [n, m] as [number, number], paramsBefore: before, macsBefore, seconds };
  if (result === null) {
    return { ...base, method: 'dense', rank: null, denseOutputs: null, selection: null, sparsity: null, paramsAfter: before, macsAfter: macsBefore, relativeError: 0, note };
  }
  if (result.kind === 'prune') {
    return {
      ...base,
      method: 'prune',
      rank: null,
      denseOutputs: null,
      selection: null,
      sparsity: 1 - result.params / before,
      paramsAfter: result.params,
      macsAfter: t.role === 'embeddings' ? 0 : result.params,
      relativeError: result.error,
      note,
    };
  }
  const lowRankOut = result.kind === 'hmf' ? result.lowRankOutputs.length : m;
  const macsAfter = t.role === 'embeddings' ? result.rank * lowRankOut : result.params;
  return {
    ...base,
    method: result.kind,
    rank: result.rank,
    denseOutputs: result.kind === 'hmf' ? result.k : null,
    selection: result.kind === 'hmf' ? selection : null,
    sparsity: null,
    paramsAfter: result.params,
    macsAfter,
    relativeError: result.error,
    note,
  };
}

function computeTotals(before: readonly Weight[], after: readonly Weight[], rows: readonly MatrixReport[]) {
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

/** DESIGN.md §1: the achieved factor lands within 3% of the target, or the run fails naming the matrices. */
function checkFactor(targeted: { paramsBefore: number; paramsAfter: number; factor: number }, rows: readonly MatrixReport[], factor: number): void {
  if (rows.length === 0) return;
  if (Math.abs(targeted.factor - factor) / factor <= 0.03) return;
  const dense = rows.filter((r) => r.method === 'dense').map((r) => `${r.weight} [${r.shape.join('x')}]: ${r.note}`);
  throw new TargetUnreachableError(
    `factor ${factor} not reached on the targeted weights: got ${targeted.factor.toFixed(3)}` +
      (dense.length ? `; left dense: ${dense.join('; ')}` : ''),
  );
}

function checkGates(report: Report, maxError: number | undefined, minAgreement: number | undefined): void {
  for (const o of report.fidelity.outputs) {
    if (maxError !== undefined && o.relativeError > maxError) {
      throw new QualityGateError(`--max-error ${maxError}: output ${o.output} has relative error ${o.relativeError.toFixed(4)}`);
    }
    if (minAgreement !== undefined && o.top1Agreement < minAgreement) {
      throw new QualityGateError(`--min-agreement ${minAgreement}: output ${o.output} agrees on top-1 for ${o.top1Agreement.toFixed(4)}`);
    }
  }
}

function sizeOf(files: ReadonlyMap<string, Uint8Array>): { raw: number; gzip: number } {
  let raw = 0;
  let gzip = 0;
  for (const bytes of files.values()) {
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
  }
  return { raw, gzip };
}

