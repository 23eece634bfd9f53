export type { ModelFile, ModelFormat, Quantization, QuantizeMode, StoredDtype, Weight, WriteOptions, WrittenModel } from './types.js';
export { readModel } from './read.js';
export { writeModel } from './write.js';
export { modelBytes } from './size.js';
export { fileLoader, fileSaver, toArtifacts } from './artifacts.js';
export { DEFAULT_SHARD_BYTES } from './encode.js';
