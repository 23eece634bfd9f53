/**
 * TF.js affine weight quantization (uint8 / uint16): value = q * scale + min.
 * New parameters follow the TF.js converter (tensorflowjs/quantization.py):
 * range from the data's min and max, nudged so that 0 is exactly representable
 * when the range covers it; a constant weight gets scale 1 and q = 0.
 */

export type AffineDtype = 'uint8' | 'uint16';

export interface AffineParams {
  scale: number;
  min: number;
}

export const AFFINE_MAX: Record<AffineDtype, number> = { uint8: 255, uint16: 65535 };

/** numpy's np.round: round half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The value TF.js's loader decodes from `q` (float32 or int32 weight). */
export function dequantize(q: number, p: AffineParams, dtype: 'float32' | 'int32'): number {
  const v = q * p.scale + p.min;
  return dtype === 'int32' ? Math.round(v) : Math.fround(v);
}

/** Converter-style parameters for `values`. */
export function affineParams(values: Float32Array | Int32Array, qdtype: AffineDtype): AffineParams {
  if (values.length === 0) return { scale: 1, min: 0 };
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) return { scale: 1, min: lo };
  const qmax = AFFINE_MAX[qdtype];
  const scale = (hi - lo) / qmax;
  if (!(scale > 0)) return { scale: 1, min: lo }; // range below float precision
  if (lo <= 0 && 0 <= hi) {
    const zeroPoint = roundHalfEven(-lo / scale);
    // `0 - x` rather than `-x` keeps -0 out of the JSON.
    return { scale, min: 0 - zeroPoint * scale };
  }
  return { scale, min: lo };
}

/** Quantized codes of `values` under `p`, clipped to the code range. */
export function quantizeAffine(values: Float32Array | Int32Array, p: AffineParams, qdtype: AffineDtype): Uint8Array | Uint16Array {
  const qmax = AFFINE_MAX[qdtype];
  const out = qdtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  const hi = qmax * p.scale + p.min;
  for (let i = 0; i < values.length; i++) {
    const v = Math.min(Math.max(values[i], p.min), hi);
    out[i] = Math.min(Math.max(roundHalfEven((v - p.min) / p.scale), 0), qmax);
  }
  return out;
}

/** True when every code of `q` decodes back to exactly the value in `values`. */
export function decodesExactly(
  q: Uint8Array | Uint16Array,
  values: Float32Array | Int32Array,
  p: AffineParams,
  dtype: 'float32' | 'int32',
): boolean {
  for (let i = 0; i < q.length; i++) {
    if (dequantize(q[i], p, dtype) !== values[i]) return false;
  }
  return true;
}
