import { tf } from './tf.js';

interface ScatterBackend {
  readSync(dataId: object): unknown;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/**
 * Registers a scatter-add `UnsortedSegmentSum` kernel (the gradient of Embedding's
 * gather) for a backend that has none — the wasm backend. Call explicitly before
 * training; idempotent, and a no-op where the backend has its own kernel. (The cpu
 * backend's own kernel loops over every segment with tensor ops, O(vocab x batch).)
 * Returns whether a kernel was registered by this call.
 */
export function registerTrainingKernels(backendName = tf.getBackend()): boolean {
  if (tf.getKernel('UnsortedSegmentSum', backendName)) return false;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const numSegments = (attrs as { numSegments: number }).numSegments;
      const b = backend as unknown as ScatterBackend;
      const values = b.readSync(x.dataId) as Float32Array;
      const ids = b.readSync(segmentIds.dataId) as Int32Array | Float32Array;
      const innerShape = x.shape.slice(segmentIds.shape.length);
      const inner = innerShape.reduce((p, d) => p * d, 1);
      const out = new Float32Array(numSegments * inner);
      for (let i = 0; i < ids.length; i++) {
        const s = ids[i];
        if (s < 0 || s >= numSegments) continue;
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) out[dst + j] += values[src + j];
      }
      const shape = [numSegments, ...innerShape];
      if (b.makeOutput) return b.makeOutput(shape, 'float32', undefined, out);
      if (b.makeTensorInfo) return b.makeTensorInfo(shape, 'float32', out);
      throw new Error(`UnsortedSegmentSum: backend ${backendName} cannot make tensors`);
    },
  });
  return true;
}
