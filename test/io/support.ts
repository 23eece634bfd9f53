/** Shared helpers for the io tests: raw model files written byte by byte. */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import type { HmfError } from '../../src/errors.js';

export function f32(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

export function i32(values: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(values).buffer);
}

export function u16(values: number[]): Uint8Array {
  return new Uint8Array(new Uint16Array(values).buffer);
}

/** TF.js string encoding: uint32 byte length, then UTF-8 bytes, per element. */
export function strings(values: string[]): Uint8Array {
  const parts = values.flatMap((s) => {
    const b = Buffer.from(s, 'utf8');
    return [new Uint8Array(new Uint32Array([b.byteLength]).buffer), new Uint8Array(b)];
  });
  return new Uint8Array(Buffer.concat(parts));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export const LAYERS_TOPOLOGY = { class_name: 'Sequential', config: { name: 'seq', layers: [] } };

/** A layers-format model.json around `weights` stored in one shard (or the given shards). */
export function layersJson(weights: object[], paths = ['group1-shard1of1.bin']): Record<string, unknown> {
  return {
    modelTopology: LAYERS_TOPOLOGY,
    format: 'layers-model',
    generatedBy: 'test',
    convertedBy: null,
    weightsManifest: [{ paths, weights }],
  };
}

/** Writes model.json (an object, or raw text) and shard files into `dir`; returns the model.json path. */
export function writeRaw(dir: string, json: unknown, shards: Record<string, Uint8Array> = {}): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.json');
  writeFileSync(path, typeof json === 'string' ? json : JSON.stringify(json));
  for (const [name, bytes] of Object.entries(shards)) writeFileSync(join(dir, name), bytes);
  return path;
}

/** Every file below `dir` (relative paths, sorted), for "nothing was written" checks. */
export function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Asserts `promise` rejects with an instance of `cls` whose message contains every string in `parts`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  cls: new (...args: never[]) => HmfError,
  parts: string[],
): Promise<HmfError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof cls, `expected ${cls.name}, got ${(caught as Error)?.constructor?.name}: ${(caught as Error)?.message}`);
  for (const p of parts) assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(p)}`);
  return caught;
}

/** A small trained-shape layers model: 6 -> 8 (relu) -> 3. */
export function denseModel(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.dense({ units: 8, inputShape: [6], activation: 'relu' }));
  model.add(tf.layers.dense({ units: 3 }));
  return model;
}

/** Deterministic inputs (no RNG). */
export function probe(rows: number, cols: number): tf.Tensor2D {
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i * 1.7) * 2;
  return tf.tensor2d(data, [rows, cols]);
}

/** Sets every weight of `model` to deterministic values. */
export function setDeterministicWeights(model: tf.LayersModel): void {
  let k = 0;
  model.setWeights(
    model.getWeights().map((w) => {
      const d = new Float32Array(w.size);
      for (let i = 0; i < d.length; i++) d[i] = Math.cos(++k * 0.37) * 0.5;
      return tf.tensor(d, w.shape);
    }),
  );
}

const dim = (...d: number[]): { dim: { size: string }[] } => ({ dim: d.map((s) => ({ size: String(s) })) });

/**
 * A graph model as the TF.js converter writes it (same key order): y = x(?,3) @ w(3,2) + b via _FusedMatMul, with
 * signature, userDefinedMetadata and modelInitializer. Weights w = 1..6, b = [10, 20].
 */
export function graphModel(): { json: Record<string, unknown>; shard: Uint8Array } {
  const json = {
    format: 'graph-model',
    generatedBy: '2.15.0',
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    signature: {
      inputs: { 'x:0': { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: dim(-1, 3) } },
      outputs: { 'y:0': { name: 'y:0', dtype: 'DT_FLOAT', tensorShape: dim(-1, 2) } },
    },
    modelTopology: {
      node: [
        { name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(3, 2) } }, dtype: { type: 'DT_FLOAT' } } },
        { name: 'b', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(2) } }, dtype: { type: 'DT_FLOAT' } } },
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim(-1, 3) } } },
        {
          name: 'y',
          op: '_FusedMatMul',
          input: ['x', 'w', 'b'],
          attr: {
            T: { type: 'DT_FLOAT' },
            transpose_a: { b: false },
            transpose_b: { b: false },
            fused_ops: { list: { s: ['Qmlhc0FkZA=='] } }, // "BiasAdd"
            num_args: { i: '1' },
            epsilon: { f: 0 },
          },
        },
      ],
      library: {},
      versions: { producer: 1482 },
    },
    userDefinedMetadata: { source: 'hmf io test' },
    modelInitializer: { versions: { producer: 1482 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'w', shape: [3, 2], dtype: 'float32' },
          { name: 'b', shape: [2], dtype: 'float32' },
        ],
      },
    ],
  };
  return { json, shard: f32([1, 2, 3, 4, 5, 6, 10, 20]) };
}

/** One weight of every stored dtype and quantization TF.js reads, with its shard bytes. */
export function allDtypes(): { specs: Record<string, unknown>[]; data: Uint8Array } {
  const specs = [
    { name: 'f', shape: [2, 2], dtype: 'float32' },
    { name: 'i', shape: [3], dtype: 'int32' },
    { name: 'b', shape: [3], dtype: 'bool' },
    { name: 's', shape: [3], dtype: 'string' },
    { name: 'c', shape: [2], dtype: 'complex64' },
    { name: 'q8', shape: [4], dtype: 'float32', quantization: { dtype: 'uint8', min: -0.5, scale: 0.01, original_dtype: 'float32' } },
    { name: 'q16', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', min: -2, scale: 1 / 65535 } },
    { name: 'h', shape: [4], dtype: 'float32', quantization: { dtype: 'float16' } },
    { name: 'qi', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', min: -10, scale: 0.5 } },
  ];
  const data = concat(
    f32([1.5, -2, 3.25, 0]),
    i32([-7, 0, 2 ** 31 - 1]),
    new Uint8Array([1, 0, 1]),
    strings(['héllo', '', 'wörld ✓']),
    f32([1, 2, 3, 4]),
    new Uint8Array([0, 50, 255, 7]),
    u16([0, 40000, 65535]),
    u16([0x3c00, 0xc000, 0x3555, 0x0001]),
    new Uint8Array([0, 22, 255]), // int32 codes: with scale 0.5, 21 would decode to 1 as well and re-encode as 22
  );
  return { specs, data };
}
