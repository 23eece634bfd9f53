/** What a data file's inputs are checked against: one model input. */
export interface DataSignature {
  name: string;
  /** Shape without the batch axis; null = any length, but every example must agree. */
  shape: readonly (number | null)[];
  dtype: 'float32' | 'int32';
  /** Token ids must lie in [0, vocab) (the input feeds an Embedding layer). */
  vocab?: number;
}

/** One input of a dataset: every example's values, row-major, ready for a tensor. */
export interface DatasetInput {
  name: string;
  /** Shape of one example (without the batch axis), unknown lengths resolved. */
  shape: number[];
  dtype: 'float32' | 'int32';
  /** `count` examples of `shape`, one after the other. */
  values: Float32Array | Int32Array;
}

/** A data file read and checked against a model's inputs (docs/ARCHITECTURE.md §5). */
export interface Dataset {
  /** Absolute path of the file. */
  path: string;
  format: 'json' | 'jsonl';
  /** Number of examples. */
  count: number;
  /** In the order of the signatures given to `readDataFile`. */
  inputs: DatasetInput[];
  /** `count` labels of `labelShape`, row-major; null when the file has none. */
  labels: Int32Array | null;
  /** Shape of one label: [] for class ids, [steps] for per-step target ids. */
  labelShape: number[];
}
