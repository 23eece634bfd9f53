import { UsageError } from '../errors.js';
import { encodeWeight } from './codec.js';
import type { ModelFile, QuantizeMode, WriteOptions } from './types.js';

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;
const QUANTIZE_MODES: readonly QuantizeMode[] = ['keep', 'float16', 'uint8', 'none'];

export interface EncodedWeights {
  /** Manifest entries, in weight order. */
  specs: Record<string, unknown>[];
  /** All weights' bytes concatenated in weight order. */
  data: Uint8Array;
}

export function checkQuantizeMode(mode: unknown): QuantizeMode {
  if (!QUANTIZE_MODES.includes(mode as QuantizeMode)) {
    throw new UsageError(`--quantize: expected one of ${QUANTIZE_MODES.join(', ')}, found ${JSON.stringify(mode)}`);
  }
  return mode as QuantizeMode;
}

/** Encodes weights as one TF.js weight group (see WriteOptions.quantize for `mode`). */
export function encodeWeights(weights: ModelFile['weights'], mode: QuantizeMode = 'keep'): EncodedWeights {
  checkQuantizeMode(mode);
  const seen = new Set<string>();
  const specs: Record<string, unknown>[] = [];
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const w of weights) {
    if (seen.has(w.name)) throw new UsageError(`cannot write weight "${w.name}": the name appears twice; expected unique weight names`);
    seen.add(w.name);
    const { entry, bytes } = encodeWeight(w, mode);
    specs.push(entry);
    parts.push(bytes);
    total += bytes.byteLength;
  }
  const data = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    data.set(p, offset);
    offset += p.byteLength;
  }
  return { specs, data };
}

/** Splits `data` every `shardBytes` bytes (a weight may straddle shards), as the TF.js converter does. */
export function splitShards(data: Uint8Array, shardBytes: number): { name: string; bytes: Uint8Array }[] {
  if (!Number.isSafeInteger(shardBytes) || shardBytes <= 0) {
    throw new UsageError(`shardBytes: expected a positive integer, found ${shardBytes}`);
  }
  const count = Math.ceil(data.byteLength / shardBytes);
  const shards: { name: string; bytes: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    shards.push({ name: `group1-shard${i + 1}of${count}.bin`, bytes: data.subarray(i * shardBytes, (i + 1) * shardBytes) });
  }
  return shards;
}

/**
 * model.json content: `json`'s keys in order, then `weightsManifest` last, where
 * the TF.js converter puts it (graph and layers models alike), so unchanged
 * converter output round-trips byte for byte. A stale weightsManifest in `json` is dropped.
 */
export function withManifest(json: Record<string, unknown>, manifest: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (k !== 'weightsManifest') out[k] = v;
  out.weightsManifest = manifest;
  return out;
}

/**
 * The files of a model, in memory: `model.json` then `group1-shardNofM.bin`,
 * in that order. What `writeModel` writes; lets callers measure sizes or add
 * files (e.g. report.json) before `writeFiles`.
 */
export function encodeModel(
  model: Pick<ModelFile, 'json' | 'weights'>,
  options: Pick<WriteOptions, 'quantize' | 'shardBytes'> = {},
): Map<string, Uint8Array> {
  const { specs, data } = encodeWeights(model.weights, options.quantize ?? 'keep');
  const shards = splitShards(data, options.shardBytes ?? DEFAULT_SHARD_BYTES);
  const manifest = [{ paths: shards.map((s) => s.name), weights: specs }];
  const files = new Map<string, Uint8Array>();
  files.set('model.json', new TextEncoder().encode(JSON.stringify(withManifest(model.json, manifest))));
  for (const s of shards) files.set(s.name, s.bytes);
  return files;
}
