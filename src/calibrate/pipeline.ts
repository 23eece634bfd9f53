import { UsageError } from '../errors.js';
import { tf } from '../tf.js';
import { dataSignatures, readDataFile, type Dataset } from '../data/index.js';
import type { ModelFile } from '../io/index.js';
import type { ModelAdapter } from '../model/adapter.js';
import type { MatrixReport } from '../report/schema.js';
import { collectActivations } from './collect.js';
import { dataBatches, loadLayers } from './data.js';
import { DEFAULT_DAMPING, type Gram } from './gram.js';

/** Examples per forward pass while collecting activations. */
const COLLECT_BATCH = 64;

export interface Calibration {
  dataset: Dataset;
  /** Null for graph models: their activations are not collected (the data serves fidelity only). */
  grams: Map<string, Gram> | null;
  summary(rows: readonly MatrixReport[]): NonNullable<import('../report/schema.js').Report['calibration']>;
}

/** Reads `--calibration` against the model's inputs and collects the targets' activation Grams (layers models). */
export async function readCalibration(path: string, model: ModelFile, adapter: ModelAdapter, progress: (message: string) => void): Promise<Calibration> {
  progress(`reading ${path}`);
  const { runnable, signatures } = await adapter.load(model);
  runnable.dispose();
  const dataset = await readDataFile(path, dataSignatures(model, signatures));
  let grams: Map<string, Gram> | null = null;
  let note: string | null = null;
  if (model.format === 'layers-model') {
    progress(`collecting activations of ${adapter.targets.length} matrices on ${dataset.count} examples`);
    const layers = await loadLayers(model);
    const batches = dataBatches(dataset, COLLECT_BATCH);
    try {
      grams = collectActivations(layers, adapter.targets, batches);
    } finally {
      tf.dispose(batches.flat());
      layers.dispose();
    }
    // Finite inputs can still overflow float32 on the way to a matrix; a non-finite Gram
    // would spoil the whitening (its damping loop never found a factor).
    for (const [weight, g] of grams) {
      if (!g.data.every(Number.isFinite)) {
        throw new UsageError(`${path}: the activations that reach ${weight} on these examples are not finite (they overflow float32); expected calibration data of the model's usual range`);
      }
    }
    const missing = adapter.targets.filter((t) => !grams!.has(t.weight)).map((t) => t.weight);
    if (missing.length) note = `no activations for ${missing.join(', ')} (shared or nested layer, or the pointwise part of a separable convolution): factorized without calibration`;
  } else {
    note = 'graph model: activations are not collected; the data serves the fidelity measurement only';
  }
  return {
    dataset,
    grams,
    summary: (rows) => ({
      path: dataset.path,
      examples: dataset.count,
      matricesWeighted: rows.filter((r) => r.weightedError !== undefined && r.weightedError !== null).length,
      damping: DEFAULT_DAMPING,
      note,
    }),
  };
}

/** Reads a data file against the model's inputs only to fail early on a bad one (UsageError). */
export async function checkDataFile(path: string, model: ModelFile, adapter: ModelAdapter): Promise<void> {
  const { runnable, signatures } = await adapter.load(model);
  runnable.dispose();
  await readDataFile(path, dataSignatures(model, signatures));
}
