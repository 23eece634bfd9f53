import { tf } from './tf.js';

interface ScatterBackend {
  readSync(dataId: object): unknown;
  disposeData?(dataId: object): void;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/**
 * Registers the training kernels a backend lacks — the wasm backend: a scatter-add
 * `UnsortedSegmentSum` (the gradient of Embedding's gather; the cpu backend's own loops
 * over every segment with tensor ops, O(vocab x batch)) and `Conv2DBackpropFilter` (the
 * filter gradient of Conv1D and Conv2D). Call explicitly before training; idempotent, and a
 * no-op where the backend has its own kernels. Returns whether a kernel was registered by this call.
 */
export function registerTrainingKernels(backendName = tf.getBackend()): boolean {
  const segmentSum = registerSegmentSum(backendName);
  const filter = registerConvFilterGradient(backendName);
  return segmentSum || filter;
}

function registerSegmentSum(backendName: string): boolean {
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

/** Patch values gathered at once for the filter gradient (16 MiB of float32). */
const PATCH_VALUES = 1 << 22;

interface FilterGradientAttrs {
  strides: number | [number, number];
  pad: Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/**
 * `Conv2DBackpropFilter` from the backend's own BatchMatMul: dW = Pᵀ dy, P the im2col
 * patches of x (built in JavaScript, a band of rows at a time), dy the output gradient as
 * (positions x cout). NHWC only (what TF.js layers use); dilations are 1 (TF.js takes no
 * convolution gradient with dilation).
 */
function registerConvFilterGradient(backendName: string): boolean {
  if (tf.getKernel('Conv2DBackpropFilter', backendName) || !tf.getKernel('BatchMatMul', backendName)) return false;
  tf.registerKernel(convFilterGradientKernel(backendName));
  return true;
}

/** The kernel `registerTrainingKernels` registers; `patchValues` bounds the patch values built at once. */
export function convFilterGradientKernel(backendName: string, patchValues = PATCH_VALUES): Parameters<typeof tf.registerKernel>[0] {
  const matMul = tf.getKernel('BatchMatMul', backendName);
  if (!matMul) throw new Error(`Conv2DBackpropFilter: backend ${backendName} has no BatchMatMul kernel`);
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const a = attrs as unknown as FilterGradientAttrs;
      if (a.dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (hmf, ${backendName}): data format ${a.dataFormat} is not supported, only NHWC`);
      const b = backend as unknown as ScatterBackend;
      const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
      const [kh, kw, cin, cout] = a.filterShape;
      const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
      const top = info.padInfo.top;
      const left = info.padInfo.left;
      const xs = b.readSync(x.dataId) as Float32Array;
      const dys = b.readSync(dy.dataId) as Float32Array;
      const n = kh * kw * cin;
      const positions = batchSize * outHeight * outWidth;
      const chunk = Math.max(1, Math.floor(patchValues / n));
      const gradient = new Float32Array(n * cout);
      const make = (shape: number[], values: Float32Array): tf.TensorInfo => {
        if (b.makeOutput) return b.makeOutput(shape, 'float32', undefined, values);
        if (b.makeTensorInfo) return b.makeTensorInfo(shape, 'float32', values);
        throw new Error(`Conv2DBackpropFilter: backend ${backendName} cannot make tensors`);
      };
      for (let p0 = 0; p0 < positions; p0 += chunk) {
        const rows = Math.min(chunk, positions - p0);
        const patches = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++) {
          const p = p0 + r;
          const j = p % outWidth;
          const i = Math.floor(p / outWidth) % outHeight;
          const e = Math.floor(p / (outWidth * outHeight));
          for (let u = 0; u < kh; u++) {
            const ih = i * strideHeight + u - top;
            if (ih < 0 || ih >= inHeight) continue;
            for (let v = 0; v < kw; v++) {
              const iw = j * strideWidth + v - left;
              if (iw < 0 || iw >= inWidth) continue;
              const from = ((e * inHeight + ih) * inWidth + iw) * cin;
              patches.set(xs.subarray(from, from + cin), r * n + (u * kw + v) * cin);
            }
          }
        }
        const pt = make([rows, n], patches);
        const g = make([rows, cout], dys.slice(p0 * cout, (p0 + rows) * cout));
        const product = matMul.kernelFunc({ inputs: { a: pt, b: g }, backend, attrs: { transposeA: true, transposeB: false } }) as tf.TensorInfo;
        const values = b.readSync(product.dataId) as Float32Array;
        for (let k = 0; k < gradient.length; k++) gradient[k] += values[k];
        for (const t of [pt, g, product]) b.disposeData?.(t.dataId);
      }
      return make(a.filterShape, gradient);
    },
  };
}
