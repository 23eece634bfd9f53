import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { repoRoot, seededShuffle } from './data.js';

export const SHARD_NAME = 'group1-shard1of1.bin';

/** Folder of a committed fixture. */
export function fixtureDir(name: string): string {
  return join(repoRoot, 'fixtures', name);
}

/** Writes model.json + one weight shard in the TF.js layers-model layout. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!artifacts.weightSpecs || artifacts.weightData === undefined) {
        throw new Error(`saveLayersModel(${dir}): model produced no weights`);
      }
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        weightsManifest: [{ paths: [SHARD_NAME], weights: artifacts.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, SHARD_NAME), Buffer.from(weightData));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}

/** An IOHandler reading model.json and its shards from a folder (no HTTP fallback). */
export function folderHandler(dir: string): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) =>
          group.paths.map((p) => {
            const b = readFileSync(join(dir, p));
            return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
          }),
        );
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value) + '\n');
}

export function writePrettyJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** Index of the largest entry of each row of a 2-D (or last axis of any) tensor. */
export function argmaxRows(t: tf.Tensor): number[] {
  return tf.tidy(() => tf.argMax(t, -1)).arraySync() as number[];
}

/** Fraction of examples whose argmax prediction equals the label. */
export async function classificationAccuracy(model: tf.LayersModel, x: tf.Tensor, labels: readonly number[]): Promise<number> {
  const probs = model.predict(x, { batchSize: 256 }) as tf.Tensor;
  const pred = argmaxRows(probs);
  probs.dispose();
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hits++;
  return hits / labels.length;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Called after each epoch with the epoch's mean training loss. */
  onEpoch?: (epoch: number, loss: number) => void | Promise<void>;
}

/**
 * Trains with a seeded shuffle per epoch: model.fit's own shuffle uses
 * Math.random, so it is switched off and each epoch gets a seeded permutation.
 */
export async function fitSeeded(
  model: tf.LayersModel,
  xs: tf.Tensor,
  ys: tf.Tensor,
  options: FitOptions,
): Promise<number[]> {
  const n = xs.shape[0];
  const indices = Array.from({ length: n }, (_, i) => i);
  const losses: number[] = [];
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = tf.tensor1d(seededShuffle(indices, options.seed * 1000 + epoch), 'int32');
    const xe = tf.gather(xs, order);
    const ye = tf.gather(ys, order);
    const h = await model.fit(xe, ye, { epochs: 1, batchSize: options.batchSize, shuffle: false, verbose: 0 });
    tf.dispose([order, xe, ye]);
    const loss = Number(h.history.loss[0]);
    losses.push(loss);
    await options.onEpoch?.(epoch, loss);
  }
  return losses;
}

/** Reloads a saved fixture on the wasm backend, as the fixture test does. */
export async function reloadOnWasm(dir: string): Promise<tf.LayersModel> {
  await initBackend('wasm');
  return tf.loadLayersModel(folderHandler(dir));
}

/** Trainable parameters per layer, for meta.json and the README. */
export function parameterCounts(model: tf.LayersModel): { total: number; layers: Record<string, number> } {
  const layers: Record<string, number> = {};
  for (const layer of model.layers) {
    const count = layer.countParams();
    if (count > 0) layers[layer.name] = count;
  }
  return { total: model.countParams(), layers };
}

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

interface ScatterBackend {
  readSync(dataId: object): unknown;
  makeOutput?(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
}

/**
 * Registers a scatter-add UnsortedSegmentSum kernel (the gradient of
 * Embedding's gather) for the wasm backend, which has none. The cpu backend's
 * own kernel loops over every segment with tensor ops, O(vocab x batch): one
 * epoch of a 4000-word Embedding took over ten minutes there. Training-only
 * helper; idempotent.
 */
export function registerScatterSegmentSum(backendName = 'wasm'): void {
  if (tf.getKernel('UnsortedSegmentSum', backendName)) return;
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
}

export interface BatchFitOptions {
  steps: number;
  onStep?: (step: number, loss: number) => void;
}

/** Trains on `steps` batches drawn from a (seeded) batch source; returns the losses. */
export async function fitSeededBatches(
  model: tf.LayersModel,
  nextBatch: () => { xs: tf.Tensor; ys: tf.Tensor },
  options: BatchFitOptions,
): Promise<number[]> {
  const losses: number[] = [];
  for (let step = 0; step < options.steps; step++) {
    const { xs, ys } = nextBatch();
    const result = await model.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
    const loss = Array.isArray(result) ? result[0] : result;
    losses.push(loss);
    options.onStep?.(step, loss);
  }
  return losses;
}
