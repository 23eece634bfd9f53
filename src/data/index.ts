/** Data files (docs/ARCHITECTURE.md §5): `--calibration`, `--finetune` and `hmf eval --data`. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { parseDataText } from './parse.js';
import type { Dataset, DataSignature } from './types.js';
import { toDataset } from './validate.js';

export type { Dataset, DatasetInput, DataSignature } from './types.js';
export { batchLabels, batchRanges, batchTensors } from './batch.js';
export { dataSignatures } from './signature.js';
export { LabelScore, type LabelMetrics } from './score.js';

export interface ReadDataOptions {
  /**
   * The model's first output without the batch axis (null = unknown length):
   * labels must index its last axis ([w]: class ids; [steps, w]: per-step ids).
   * Without it labels are only checked to be non-negative integers of one shape.
   */
  output?: readonly (number | null)[];
}

/**
 * Reads a data file — JSON `{"inputs": [...], "labels": [...]}` or JSON Lines of
 * `{"input": ..., "label": ...}` — and checks it against the model's inputs.
 * Any problem with the file is a UsageError (exit 2) naming the file, the example
 * and the input, what was expected and what was found.
 */
export async function readDataFile(path: string, signatures: readonly DataSignature[], options: ReadDataOptions = {}): Promise<Dataset> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : (err as Error).message;
    throw new UsageError(`${path}: cannot read the data file: expected a JSON or JSON Lines file, found ${found}`, { cause: err });
  }
  return parseData(text, path, signatures, options);
}

/** `readDataFile` on text already in memory; `path` names it in messages. */
export function parseData(text: string, path: string, signatures: readonly DataSignature[], options: ReadDataOptions = {}): Dataset {
  if (signatures.length === 0) throw new UsageError(`${path}: the model has no inputs to read data for`);
  const raw = parseDataText(text, path, signatures.map((s) => s.name));
  return { ...toDataset(raw, path, signatures, options.output), path: resolve(path) };
}
