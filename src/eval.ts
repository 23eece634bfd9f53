import { tf } from './tf.js';
import { backendThreads, initBackend, type BackendName } from './backend.js';
import { batchLabels, batchRanges, batchTensors, dataSignatures, LabelScore, readDataFile, type Dataset, type DataSignature, type LabelMetrics } from './data/index.js';
import { HmfError, ModelFormatError, UsageError } from './errors.js';
import { readModel, type ModelFile } from './io/index.js';
import { compareOutputs, type FidelityResult, type OutputFidelity, type UnmeasuredOutput } from './measure/fidelity.js';
import { makeProbes, type InputSignature } from './measure/probes.js';
import type { Runnable } from './measure/runnable.js';
import { graphAdapter, layersAdapter } from './model/adapter.js';
import { TOOL_VERSION } from './version.js';

/** Bumped whenever a key of EvalReport changes meaning or disappears (adding keys keeps the version). */
export const EVAL_SCHEMA_VERSION = 1;

/** Options of `evaluate()`. */
export interface EvalOptions {
  /** Data file (docs/ARCHITECTURE.md §5): JSON `{"inputs", "labels"}` or JSON Lines of `{"input", "label"}`. */
  data: string;
  /** A model to compare outputs with, e.g. the original of a compressed model. */
  reference?: string;
  /** Examples per batch (a model that fixes its batch size uses that). @default 32 */
  batchSize?: number;
  /** TF.js backend. @default the fastest that loads */
  backend?: BackendName;
  /** The command line, recorded in the report. */
  command?: string;
  /** Progress callback (the library never prints). */
  onProgress?: (message: string) => void;
}

/** What `hmf eval` reports (`--json` prints it as is). */
export interface EvalReport {
  schemaVersion: number;
  tool: { name: 'hmf'; version: string };
  command: string;
  model: { path: string; format: 'layers-model' | 'graph-model' };
  data: { path: string; format: 'json' | 'jsonl'; examples: number; labelled: boolean };
  /** The output the labels are scored against: the model's first, shape without the batch axis. */
  output: { name: string; shape: number[] };
  /** Accuracy and cross-entropy (and perplexity for per-step labels); null without labels. */
  metrics: LabelMetrics | null;
  /** Agreement with `--reference` on every output (KL(reference || model) for softmax outputs). */
  reference: { path: string; outputs: OutputFidelity[]; unmeasured?: UnmeasuredOutput[] } | null;
  context: { backend: string; threads: number; tfjsVersion: string; node: string; batchSize: number; wallSeconds: number };
}

const DEFAULT_BATCH = 32;

interface LoadedModel {
  file: ModelFile;
  runnable: Runnable;
  signatures: InputSignature[];
  /** Probe outputs' shapes without the batch axis. */
  outputShapes: number[][];
  /** The one batch size the model accepts, if it fixes it. */
  fixedBatch: number | undefined;
}

/** Runs a model (layers or graph, compressed or not) over a data file and scores it (docs/ARCHITECTURE.md §5). */
export async function evaluate(modelPath: string, options: EvalOptions): Promise<EvalReport> {
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a positive integer, found ${batchSize}`);
  if (typeof options.data !== 'string' || options.data === '') throw new UsageError('--data: expected a data file (JSON or JSON Lines), found none');
  const progress = options.onProgress ?? (() => {});
  const backend = await initBackend(options.backend);

  progress(`loading ${modelPath}`);
  const model = await loadModel(modelPath);
  let reference: LoadedModel | null = null;
  try {
    const signatures = dataSignatures(model.file, model.signatures);
    progress(`reading ${options.data}`);
    const dataset = await readDataFile(options.data, signatures, { output: labelledOutput(model.outputShapes[0] ?? [], signatures) });
    if (options.reference !== undefined) {
      progress(`loading ${options.reference}`);
      reference = await loadModel(options.reference);
      checkSameInterface(model, reference, options.reference);
    }
    const batch = model.fixedBatch ?? batchSize;
    const { metrics, fidelity, outputShape } = await run(model, reference, dataset, batch, progress);
    return {
      schemaVersion: EVAL_SCHEMA_VERSION,
      tool: { name: 'hmf', version: TOOL_VERSION },
      command: options.command ?? `eval ${modelPath} --data ${options.data}`,
      model: { path: model.file.path, format: model.file.format },
      data: { path: dataset.path, format: dataset.format, examples: dataset.count, labelled: dataset.labels !== null },
      output: { name: model.runnable.outputNames[0] ?? 'output_0', shape: outputShape },
      metrics,
      reference: reference && fidelity ? { path: reference.file.path, outputs: fidelity.outputs, ...(fidelity.unmeasured.length ? { unmeasured: fidelity.unmeasured } : {}) } : null,
      context: { backend, threads: backendThreads(), tfjsVersion: tf.version.tfjs, node: process.version, batchSize: batch, wallSeconds: (performance.now() - started) / 1000 },
    };
  } finally {
    model.runnable.dispose();
    reference?.runnable.dispose();
  }
}

/** Reads and loads a model through its format's adapter; anything TF.js cannot load is a ModelFormatError (exit 3). */
async function loadModel(path: string): Promise<LoadedModel> {
  return loadFile(await readModel(path));
}

/**
 * Scores a model held in memory (`artifacts`: its files as they would be written) on a data
 * file's labelled examples: `--factor auto` gates on it without writing each candidate.
 * The data file is read once per model interface (`cache`).
 */
export async function scoreInMemory(file: ModelFile, artifacts: tf.io.ModelArtifacts, dataPath: string, cache: Map<string, Dataset>): Promise<LabelMetrics | null> {
  const model = await loadFile(file, artifacts);
  try {
    const signatures = dataSignatures(model.file, model.signatures);
    const key = JSON.stringify(signatures);
    let dataset = cache.get(key);
    if (!dataset) {
      dataset = await readDataFile(dataPath, signatures, { output: labelledOutput(model.outputShapes[0] ?? [], signatures) });
      cache.set(key, dataset);
    }
    return (await run(model, null, dataset, model.fixedBatch ?? DEFAULT_BATCH, () => {})).metrics;
  } finally {
    model.runnable.dispose();
  }
}

async function loadFile(file: ModelFile, artifacts?: tf.io.ModelArtifacts): Promise<LoadedModel> {
  let loaded: Awaited<ReturnType<ReturnType<typeof layersAdapter>['load']>>;
  try {
    const adapter = file.format === 'graph-model' ? graphAdapter(file, Number.MAX_SAFE_INTEGER) : layersAdapter(file, Number.MAX_SAFE_INTEGER);
    loaded = await adapter.load(file, artifacts);
  } catch (err) {
    if (err instanceof HmfError) throw err;
    throw new ModelFormatError(`${file.path}: TF.js cannot load the model: ${(err as Error).message}`, { cause: err });
  }
  const fixedBatch = loaded.signatures.find((s) => s.batch !== undefined)?.batch;
  let outputShapes: number[][];
  const probes = makeProbes(loaded.signatures, fixedBatch ?? 1, 0);
  try {
    const ys = await loaded.runnable.run(probes);
    outputShapes = ys.map((y) => y.shape.slice(1));
    tf.dispose(ys);
  } catch (err) {
    loaded.runnable.dispose();
    throw new ModelFormatError(`${file.path}: the model does not run on inputs of its own signature: ${(err as Error).message}`, { cause: err });
  } finally {
    tf.dispose(probes);
  }
  return { file, ...loaded, outputShapes, fixedBatch };
}

/**
 * The output shape labels are checked against. Axes before the last follow the
 * input's length where the input leaves it open (probes fixed it to some size).
 */
function labelledOutput(shape: readonly number[], signatures: readonly DataSignature[]): (number | null)[] {
  const open = signatures.some((s) => s.shape.some((d) => d === null));
  return shape.map((d, i) => (open && i < shape.length - 1 ? null : d));
}

function checkSameInterface(model: LoadedModel, reference: LoadedModel, path: string): void {
  const describe = (m: LoadedModel) => m.signatures.map((s) => `${s.dtype}[${s.shape.join(', ')}]`).join(', ');
  const inputs = (m: LoadedModel) => m.signatures.map((s) => `${s.dtype === 'int32' || s.vocab !== undefined ? 'int' : 'float'}[${s.shape.join(', ')}]`).join(', ');
  if (inputs(model) !== inputs(reference)) {
    throw new UsageError(`--reference ${path}: expected a model with the inputs of ${model.file.path} (${describe(model)}), found ${describe(reference)}`);
  }
  const outputs = (m: LoadedModel) => m.outputShapes.map((s) => `[${s.join(', ')}]`).join(', ');
  if (outputs(model) !== outputs(reference)) {
    throw new UsageError(`--reference ${path}: expected a model with the outputs of ${model.file.path} (${outputs(model)}), found ${outputs(reference)}`);
  }
}

/** One pass over the data: the model's first output is scored against the labels while compareOutputs runs it beside the reference. */
async function run(
  model: LoadedModel,
  reference: LoadedModel | null,
  dataset: Dataset,
  batch: number,
  progress: (message: string) => void,
): Promise<{ metrics: LabelMetrics | null; fidelity: FidelityResult | null; outputShape: number[] }> {
  const ranges = new Map<readonly tf.Tensor[], { start: number; end: number; index: number }>();
  const all = batchRanges(dataset.count, batch);
  let score: LabelScore | null = null;
  let outputShape: number[] = model.outputShapes[0] ?? [];
  const evaluated = trimmed(model.runnable, ranges, (ys, range) => {
    if (range.index % 10 === 0) progress(`batch ${range.index + 1}/${all.length}`);
    const y = ys[0];
    outputShape = y.shape.slice(1);
    const labels = batchLabels(dataset, range.start, range.end);
    if (!labels) return;
    score ??= new LabelScore(dataset.labelShape.length === 0 ? 'classification' : 'sequence', outputShape[outputShape.length - 1] ?? 1);
    checkLabelShape(dataset, outputShape);
    const values = y.dataSync();
    score.add(values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>), labels);
  });
  const batches = all.map((r, index) => {
    const tensors = batchTensors(dataset, r.start, r.end, model.fixedBatch);
    ranges.set(tensors, { ...r, index });
    return tensors;
  });
  try {
    let fidelity: FidelityResult | null = null;
    if (reference) fidelity = await compareOutputs(trimmed(reference.runnable, ranges), evaluated, batches);
    else for (const b of batches) tf.dispose(await evaluated.run(b));
    const finalScore = score as LabelScore | null;
    return { metrics: finalScore ? finalScore.result() : null, fidelity, outputShape };
  } finally {
    tf.dispose(batches.flat());
  }
}

/** A Runnable whose outputs drop the rows that only pad a batch, and that shows each batch's outputs to `observe`. */
function trimmed(
  inner: Runnable,
  ranges: ReadonlyMap<readonly tf.Tensor[], { start: number; end: number; index: number }>,
  observe?: (ys: tf.Tensor[], range: { start: number; end: number; index: number }) => void,
): Runnable {
  return {
    outputNames: inner.outputNames,
    async run(inputs) {
      const range = ranges.get(inputs)!;
      const rows = range.end - range.start;
      let ys = await inner.run(inputs);
      if (ys.some((y) => y.shape[0] !== rows)) {
        const cut = ys.map((y) => y.slice(0, rows));
        tf.dispose(ys);
        ys = cut;
      }
      try {
        observe?.(ys, range);
      } catch (err) {
        tf.dispose(ys);
        throw err;
      }
      return ys;
    },
    dispose: () => inner.dispose(),
  };
}

/** Per-step labels must have the output's steps: [steps] for [steps, width]. */
function checkLabelShape(dataset: Dataset, outputShape: readonly number[]): void {
  const expected = outputShape.slice(0, -1);
  if (expected.join(',') === dataset.labelShape.join(',')) return;
  throw new UsageError(
    `${dataset.path}: labels: expected labels of shape [${expected.join(', ')}] per example to match the model's output [${outputShape.join(', ')}], ` +
      `found [${dataset.labelShape.join(', ')}]`,
  );
}
