import { tf } from '../tf.js';
import type { ConvGeometry } from '../model/conv.js';

/**
 * Patch matrices (im2col rows) built at once, at most this many values: a band of output
 * rows of a few examples at a time, so the Gram of a large image's patches never holds all
 * of them (a 224x224x32 input under a 3x3 kernel has 14.5M patch values per example).
 */
const BAND_VALUES = 1 << 22;

/**
 * Adds PᵀP to `gram` (n x n row-major, n = kh·kw·cin) for the im2col patch matrix P of
 * input `x` under the convolution `g`: one row per output position, columns in the
 * kernel's (kh, kw, cin) order, with the convolution's own strides, dilation and zero
 * padding. `x` is [batch, h, w, cin] (Conv2D), [batch, steps, cin] (Conv1D) or
 * [batch, time, h, w, cin] (TimeDistributed Conv2D). Returns the number of rows of P.
 * `bandValues` bounds the patch values held at once.
 */
export function addPatchGram(gram: Float64Array, x: tf.Tensor, g: ConvGeometry, bandValues = BAND_VALUES): number {
  const n = g.kernel.reduce((a, b) => a * b, 1) * g.inChannels;
  if (gram.length !== n * n) throw new RangeError(`addPatchGram: a ${n}x${n} Gram needs ${n * n} values, got ${gram.length}`);
  // As a 2-D convolution over [batch, h, w, c].
  const twoD = g.kernel.length === 2;
  const [kh, kw] = twoD ? g.kernel : [1, g.kernel[0]];
  const [sh, sw] = twoD ? g.strides : [1, g.strides[0]];
  const [dh, dw] = twoD ? g.dilation : [1, g.dilation[0]];
  const c = g.inChannels;
  const images = tf.tidy(() => {
    const x4 = twoD ? x.reshape([-1, ...x.shape.slice(-3)]) : x.reshape([-1, 1, ...x.shape.slice(-2)]);
    const [, h, w] = x4.shape;
    const pads = twoD ? paddingOf(g, [h, w]) : [[0, 0], ...paddingOf(g, [w])];
    return pads.some(([a, b]) => a > 0 || b > 0) ? tf.pad(x4, [[0, 0], pads[0], pads[1], [0, 0]] as [number, number][]) : x4.clone();
  });
  try {
    const [batch, hp, wp] = images.shape;
    const ho = Math.floor((hp - ((kh - 1) * dh + 1)) / sh) + 1;
    const wo = Math.floor((wp - ((kw - 1) * dw + 1)) / sw) + 1;
    if (ho <= 0 || wo <= 0 || batch === 0) return 0;
    const rowValues = wo * n;
    const perBand = Math.max(1, Math.floor(bandValues / rowValues));
    const examples = Math.max(1, Math.min(batch, Math.floor(perBand / ho)));
    const band = examples > 1 ? ho : Math.min(ho, perBand);
    for (let b0 = 0; b0 < batch; b0 += examples) {
      const b1 = Math.min(batch, b0 + examples);
      for (let i0 = 0; i0 < ho; i0 += band) {
        const i1 = Math.min(ho, i0 + band);
        const product = tf.tidy(() => {
          const parts: tf.Tensor[] = [];
          for (let a = 0; a < kh; a++) {
            for (let b = 0; b < kw; b++) {
              const begin = [b0, i0 * sh + a * dh, b * dw, 0];
              const end = [b1, (i1 - 1) * sh + a * dh + 1, (wo - 1) * sw + b * dw + 1, c];
              parts.push(tf.stridedSlice(images, begin, end, [1, sh, sw, 1]));
            }
          }
          const patches = (parts.length === 1 ? parts[0] : tf.concat(parts, 3)).reshape([-1, n]);
          return tf.matMul(patches, patches, true, false);
        });
        const values = product.dataSync();
        product.dispose();
        for (let i = 0; i < values.length; i++) gram[i] += values[i];
      }
    }
    return batch * ho * wo;
  } finally {
    images.dispose();
  }
}

/** [before, after] zero padding per spatial axis, as TF.js pads for `same` (or as given). */
function paddingOf(g: ConvGeometry, size: number[]): [number, number][] {
  if (g.padding === 'valid') return size.map(() => [0, 0]);
  if (typeof g.padding === 'object') return g.padding.explicit;
  return size.map((inSize, i) => {
    const out = Math.ceil(inSize / g.strides[i]);
    const total = Math.max(0, (out - 1) * g.strides[i] + (g.kernel[i] - 1) * g.dilation[i] + 1 - inSize);
    return [Math.floor(total / 2), total - Math.floor(total / 2)];
  });
}
