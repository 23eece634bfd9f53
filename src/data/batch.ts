import { tf } from '../tf.js';
import type { Dataset } from './types.js';

/** Consecutive [start, end) ranges of at most `batchSize` examples covering the dataset. */
export function batchRanges(count: number, batchSize: number): { start: number; end: number }[] {
  const ranges: { start: number; end: number }[] = [];
  for (let start = 0; start < count; start += batchSize) ranges.push({ start, end: Math.min(count, start + batchSize) });
  return ranges;
}

/**
 * One tensor per input for examples [start, end). `padTo` (a model's fixed batch
 * size) repeats the last example to fill the batch; callers ignore those rows.
 */
export function batchTensors(dataset: Dataset, start: number, end: number, padTo?: number): tf.Tensor[] {
  const rows = end - start;
  const total = Math.max(rows, padTo ?? rows);
  return dataset.inputs.map((input) => {
    const size = input.shape.reduce((a, b) => a * b, 1);
    let values = input.values.subarray(start * size, end * size);
    if (total > rows) {
      const padded = input.dtype === 'int32' ? new Int32Array(total * size) : new Float32Array(total * size);
      padded.set(values);
      const last = values.subarray((rows - 1) * size);
      for (let r = rows; r < total; r++) padded.set(last, r * size);
      values = padded;
    }
    return tf.tensor(values, [total, ...input.shape], input.dtype);
  });
}

/** The labels of examples [start, end), or null when the dataset has none. */
export function batchLabels(dataset: Dataset, start: number, end: number): Int32Array | null {
  if (!dataset.labels) return null;
  const size = dataset.labelShape.reduce((a, b) => a * b, 1);
  return dataset.labels.subarray(start * size, end * size);
}
