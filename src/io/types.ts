/** The two model formats TF.js writes (docs/ARCHITECTURE.md §3). */
export type ModelFormat = 'layers-model' | 'graph-model';

/** Logical dtypes of weights in a TF.js weights manifest. */
export type StoredDtype = 'float32' | 'int32' | 'bool' | 'string' | 'complex64';

/** How a weight is stored on disk when TF.js's weight quantization is used. */
export type Quantization =
  | { dtype: 'uint8' | 'uint16'; scale: number; min: number }
  | { dtype: 'float16' };

export interface Weight {
  name: string;
  shape: number[];
  /** Logical dtype (after dequantization). */
  dtype: StoredDtype;
  /**
   * Decoded, dequantized values in row-major order: Float32Array for float32
   * (complex64: interleaved real, imaginary), Int32Array for int32, Uint8Array
   * (0/1) for bool, string[] (UTF-8 decoded) for string.
   */
  values: Float32Array | Int32Array | Uint8Array | string[];
  /** How it was stored on disk, if quantized. */
  quantization?: Quantization;
  /** The manifest's `group` tag (layers models saved with their optimizer). */
  group?: 'model' | 'optimizer';
}

export interface ModelFile {
  /** model.json parsed, WITHOUT weightsManifest (io rebuilds it on write). Every other key untouched and in order. */
  json: Record<string, unknown>;
  format: ModelFormat;
  /** Manifest order. */
  weights: Weight[];
  /** Absolute path of model.json. */
  path: string;
}

/** How `writeModel` / `toArtifacts` encode weights. */
export type QuantizeMode = 'keep' | 'float16' | 'uint8' | 'none';

export interface WriteOptions {
  /**
   * Replace a non-empty existing output folder.
   * @default false
   */
  force?: boolean;
  /**
   * `keep`: each weight keeps its own quantization; `float16` / `uint8`: every
   * float32 weight is stored so; `none`: everything is stored dequantized.
   * @default 'keep'
   */
  quantize?: QuantizeMode;
  /**
   * Maximum bytes per weight shard file.
   * @default 4194304 (4 MiB, the TF.js converter's convention)
   */
  shardBytes?: number;
  /** Further files (e.g. report.json) written into the same temporary folder before the rename. Plain file names only. */
  extraFiles?: Record<string, string | Uint8Array>;
}

export interface WrittenModel {
  /** Absolute path of the output folder. */
  dir: string;
  /** Every file written, model.json first, then shards, then extra files. */
  files: { name: string; bytes: number }[];
  totalBytes: number;
}
