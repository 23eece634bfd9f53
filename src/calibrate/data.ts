import { tf } from '../tf.js';
import { batchRanges, batchTensors, dataSignatures, readDataFile, type Dataset } from '../data/index.js';
import { toArtifacts, type ModelFile } from '../io/index.js';
import { inputSignatures } from '../measure/probes.js';
import { registerHmfLayers } from '../runtime/index.js';

/** A layers model loaded into TF.js from memory (hmf runtime layers registered). */
export async function loadLayers(model: ModelFile): Promise<tf.LayersModel> {
  registerHmfLayers(tf);
  return tf.loadLayersModel(tf.io.fromMemory(toArtifacts(model)));
}

/**
 * Reads a data file against a layers model's inputs. `labelled` checks labels
 * against the model's first output (class ids or per-step ids).
 */
export async function readModelData(path: string, file: ModelFile, model: tf.LayersModel, labelled: boolean): Promise<Dataset> {
  const signatures = dataSignatures(file, inputSignatures(model));
  const output = model.outputs[0]?.shape.slice(1) ?? [];
  const open = signatures.some((s) => s.shape.some((d) => d === null));
  return readDataFile(path, signatures, labelled ? { output: output.map((d, i) => (open && i < output.length - 1 ? null : d)) } : {});
}

/** The dataset's examples [start, end) in batches of `size`, one tensor per input each. */
export function dataBatches(dataset: Dataset, size: number, start = 0, end = dataset.count, padTo?: number): tf.Tensor[][] {
  return batchRanges(end - start, size).map((r) => batchTensors(dataset, start + r.start, start + r.end, padTo));
}
