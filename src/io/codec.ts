/**
 * Byte encoding of weights as TF.js stores them: raw little-endian float32 /
 * int32 / bool bytes, complex64 as interleaved float32 pairs, strings as
 * uint32 byte length + UTF-8 bytes, and the quantized forms uint8 / uint16
 * (affine) and float16. Mirrors tfjs-core's io_utils decodeWeights, without
 * creating tensors, so reading a model needs no backend.
 */
import { ModelFormatError } from '../errors.js';
import { affineParams, decodesExactly, dequantize, quantizeAffine, type AffineDtype, type AffineParams } from './affine.js';
import { floatToHalf, halfToFloat } from './float16.js';
import type { ManifestEntry } from './manifest.js';
import type { Quantization, QuantizeMode, StoredDtype, Weight } from './types.js';

const VALUE_BYTES: Record<Exclude<StoredDtype, 'string'>, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };
const QUANT_BYTES: Record<Quantization['dtype'], number> = { uint8: 1, uint16: 2, float16: 2 };
const STRING_LENGTH_BYTES = 4;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}

/** Bytes the entry occupies on disk, or null for strings (their length is in the data). */
export function fixedByteLength(e: Pick<ManifestEntry, 'shape' | 'dtype' | 'quantization'>): number | null {
  const n = elementCount(e.shape);
  if (e.quantization) return n * QUANT_BYTES[e.quantization.dtype];
  if (e.dtype === 'string') return null;
  return n * VALUE_BYTES[e.dtype];
}

export interface GroupLayout {
  /** Byte offset where each entry starts. */
  starts: number[];
  /** Bytes the entries need; when the data ends inside a string weight, a lower bound. */
  needed: number;
  /** Name of the first entry the bytes do not fully hold, if any. */
  truncatedAt?: string;
}

/**
 * Where each entry of a group lies in `byteLength` bytes of concatenated
 * shards. String weights store their lengths in the data, so they need `data`.
 */
export function layoutGroup(entries: readonly ManifestEntry[], byteLength: number, data?: Uint8Array): GroupLayout {
  const starts: number[] = [];
  let offset = 0;
  let truncatedAt: string | undefined;
  for (const e of entries) {
    starts.push(offset);
    const fixed = fixedByteLength(e);
    if (fixed !== null) {
      offset += fixed;
    } else {
      if (!data) throw new Error(`layoutGroup: string weight "${e.name}" needs the shard data`);
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const n = elementCount(e.shape);
      for (let i = 0; i < n; i++) {
        if (offset + STRING_LENGTH_BYTES > byteLength) {
          offset += STRING_LENGTH_BYTES * (n - i);
          break;
        }
        offset += STRING_LENGTH_BYTES + view.getUint32(offset, true);
      }
    }
    if (truncatedAt === undefined && offset > byteLength) truncatedAt = e.name;
  }
  return { starts, needed: offset, truncatedAt };
}

let halfTable: Float32Array | undefined;

function decodeHalves(bytes: Uint8Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  const codes = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const out = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) out[i] = halfTable[codes[i]];
  return out;
}

function firstNonFinite(values: Float32Array): number {
  // v * 0 is 0 for every finite v and NaN for NaN and ±Infinity: four independent sums
  // of it answer "all finite?" about twice as fast as testing each value.
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n4 = values.length & ~3;
  for (let i = 0; i < n4; i += 4) {
    a += values[i] * 0;
    b += values[i + 1] * 0;
    c += values[i + 2] * 0;
    d += values[i + 3] * 0;
  }
  for (let i = n4; i < values.length; i++) a += values[i] * 0;
  if (a + b + c + d === 0) return -1;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

function describe(e: Pick<ManifestEntry, 'name' | 'shape' | 'dtype'>): string {
  return `weight "${e.name}" (${e.dtype}, shape [${e.shape.join(',')}])`;
}

/** True when every value is finite. */
export function allFinite(values: Float32Array): boolean {
  return firstNonFinite(values) < 0;
}

/** Throws when a float weight holds NaN or ±Infinity (docs/ARCHITECTURE.md, "Safety"). */
export function assertFinite(values: Float32Array, e: Pick<ManifestEntry, 'name' | 'shape' | 'dtype'>, file: string): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  let count = 0;
  for (let j = i; j < values.length; j++) if (!Number.isFinite(values[j])) count++;
  throw new ModelFormatError(
    `${file}: ${describe(e)}: expected finite values, found ${values[i]} at flat index ${i} (${count} non-finite value${count === 1 ? '' : 's'} in all)`,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes one entry from exactly its bytes into a Weight (values copied, never views of `bytes`). */
export function decodeEntry(e: ManifestEntry, bytes: Uint8Array, file: string): Weight {
  // A copy in a fresh, aligned ArrayBuffer (Buffer#slice would be a view).
  const own = new Uint8Array(bytes);
  const n = elementCount(e.shape);
  let values: Weight['values'];
  const q = e.quantization;
  if (q && q.dtype === 'float16') {
    values = decodeHalves(own);
  } else if (q) {
    const codes = q.dtype === 'uint8' ? own : new Uint16Array(own.buffer, 0, n);
    const out = e.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    const dt = e.dtype === 'int32' ? 'int32' : 'float32';
    for (let i = 0; i < n; i++) out[i] = dequantize(codes[i], q, dt);
    values = out;
  } else if (e.dtype === 'float32' || e.dtype === 'complex64') {
    values = new Float32Array(own.buffer);
  } else if (e.dtype === 'int32') {
    values = new Int32Array(own.buffer);
  } else if (e.dtype === 'bool') {
    values = own;
  } else {
    values = decodeStrings(own, n, e, file);
  }
  // Non-finite values are legitimate in places (an NMS score threshold of -Infinity in a
  // published detector): they pass through; the targeted matrices are checked where they
  // are taken (checkTargetFinite).
  const w: Weight = { name: e.name, shape: [...e.shape], dtype: e.dtype, values };
  if (q) w.quantization = { ...q };
  if (e.group) w.group = e.group;
  return w;
}

function decodeStrings(bytes: Uint8Array, n: number, e: ManifestEntry, file: string): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(offset, true);
    offset += STRING_LENGTH_BYTES;
    try {
      out.push(utf8.decode(bytes.subarray(offset, offset + len)));
    } catch (err) {
      throw new ModelFormatError(`${file}: ${describe(e)}: expected UTF-8 text, found invalid UTF-8 bytes in element ${i}`, { cause: err });
    }
    offset += len;
  }
  return out;
}

/** A manifest entry as written to model.json, plus the weight's bytes. */
export interface EncodedWeight {
  entry: Record<string, unknown>;
  bytes: Uint8Array;
}

/** The values container each dtype needs, by name and check. */
const VALUES_FOR: Record<StoredDtype, [string, (v: Weight['values']) => boolean]> = {
  float32: ['Float32Array', (v) => v instanceof Float32Array],
  complex64: ['Float32Array (real, imaginary interleaved)', (v) => v instanceof Float32Array],
  int32: ['Int32Array', (v) => v instanceof Int32Array],
  bool: ['Uint8Array', (v) => v instanceof Uint8Array],
  string: ['string[]', (v) => Array.isArray(v) && v.every((s) => typeof s === 'string')],
};

/** Checks that a Weight is internally consistent before it is written. */
function checkWeight(w: Weight): void {
  if (typeof w.name !== 'string' || w.name === '') {
    throw new ModelFormatError(`cannot write weight: expected a non-empty name, found ${JSON.stringify(w.name)}`);
  }
  const at = `cannot write weight "${w.name}"`;
  if (!Array.isArray(w.shape) || !w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ModelFormatError(`${at}: expected a shape of non-negative integers, found ${JSON.stringify(w.shape)}`);
  }
  if (!Object.hasOwn(VALUES_FOR, w.dtype)) {
    throw new ModelFormatError(`${at}: unknown dtype ${JSON.stringify(w.dtype)}; expected one of ${Object.keys(VALUES_FOR).join(', ')}`);
  }
  const [container, fits] = VALUES_FOR[w.dtype];
  if (!fits(w.values)) throw new ModelFormatError(`${at}: dtype ${w.dtype} needs values as ${container}, found ${w.values.constructor.name}`);
  const n = elementCount(w.shape) * (w.dtype === 'complex64' ? 2 : 1);
  if (w.values.length !== n) {
    throw new ModelFormatError(`${at}: shape [${w.shape.join(',')}] (${w.dtype}) needs ${n} values, found ${w.values.length}`);
  }
}

/** How a weight goes to disk; affine `params` absent means "compute a fresh range". */
export type Encoding = { dtype: 'float16' } | { dtype: AffineDtype; params?: AffineParams };

/** The on-disk encoding of `w` under `mode` (see WriteOptions.quantize); undefined is unquantized. */
export function chooseEncoding(w: Pick<Weight, 'dtype' | 'quantization'>, mode: QuantizeMode): Encoding | undefined {
  if (mode === 'none') return undefined;
  const own = w.quantization;
  if (w.dtype === 'float32' && mode === 'float16') return { dtype: 'float16' };
  if (w.dtype === 'float32' && mode === 'uint8') return own?.dtype === 'uint8' ? { dtype: 'uint8', params: own } : { dtype: 'uint8' };
  if (!own) return undefined;
  return own.dtype === 'float16' ? own : { dtype: own.dtype, params: own };
}

/** Encodes one weight; `mode` decides its storage (see WriteOptions.quantize). */
export function encodeWeight(w: Weight, mode: QuantizeMode): EncodedWeight {
  checkWeight(w);
  // Affine codes cannot hold NaN or ±Infinity: such a weight stays unquantized (float16 has them).
  const chosen = chooseEncoding(w, mode);
  const q = chosen && chosen.dtype !== 'float16' && w.values instanceof Float32Array && !allFinite(w.values) ? undefined : chosen;
  if (q && !(w.dtype === 'float32' || (w.dtype === 'int32' && q.dtype !== 'float16'))) {
    throw new ModelFormatError(`cannot write weight "${w.name}": ${q.dtype} quantization does not apply to dtype ${w.dtype}`);
  }
  const entry: Record<string, unknown> = { name: w.name, shape: [...w.shape], dtype: w.dtype };
  let bytes: Uint8Array;
  if (q && q.dtype === 'float16') {
    bytes = encodeHalves(w);
    entry.quantization = { dtype: 'float16', original_dtype: w.dtype };
  } else if (q) {
    const values = w.values as Float32Array | Int32Array;
    const dt = w.dtype === 'int32' ? 'int32' : 'float32';
    let params = q.params;
    let codes = params ? quantizeAffine(values, params, q.dtype) : undefined;
    // Keep the stored parameters only if they still reproduce the values exactly:
    // untouched weights then round-trip byte for byte, rewritten ones get a fresh range.
    if (!params || !codes || !decodesExactly(codes, values, params, dt)) {
      params = affineParams(values, q.dtype);
      codes = quantizeAffine(values, params, q.dtype);
    }
    bytes = new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength);
    entry.quantization = { dtype: q.dtype, min: params.min, scale: params.scale, original_dtype: w.dtype };
  } else if (w.dtype === 'string') {
    bytes = encodeStrings(w.values as string[]);
  } else {
    const v = w.values as Float32Array | Int32Array | Uint8Array;
    bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  if (w.group) entry.group = w.group;
  return { entry, bytes };
}

function encodeHalves(w: Weight): Uint8Array {
  const values = w.values as Float32Array;
  const codes = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = floatToHalf(values[i]);
    if ((h & 0x7c00) === 0x7c00 && Number.isFinite(values[i])) {
      throw new ModelFormatError(
        `cannot write weight "${w.name}" as float16: expected values within ±65504, found ${values[i]} at flat index ${i}`,
      );
    }
    codes[i] = h;
  }
  return new Uint8Array(codes.buffer);
}

function encodeStrings(values: string[]): Uint8Array {
  const encoded = values.map((s) => Buffer.from(s, 'utf8'));
  const total = encoded.reduce((a, b) => a + STRING_LENGTH_BYTES + b.byteLength, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const b of encoded) {
    view.setUint32(offset, b.byteLength, true);
    out.set(b, offset + STRING_LENGTH_BYTES);
    offset += STRING_LENGTH_BYTES + b.byteLength;
  }
  return out;
}
