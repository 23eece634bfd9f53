export type { ModelFile, ModelFormat, Quantization, QuantizeMode, StoredDtype, Weight, WriteOptions, WrittenModel } from './types.js';
export { readModel } from './read.js';
export { abandonPendingWrites, checkOutDir, removeStaleTemporaries, writeFiles, writeModel } from './write.js';
export { DEFAULT_SHARD_BYTES, encodeModel } from './encode.js';
export { gzipSizes, modelBytes, readModelAndBytes, type ByteSizes } from './size.js';
export { checkedArtifacts, fileLoader, filesArtifacts, fileSaver, toArtifacts } from './artifacts.js';
