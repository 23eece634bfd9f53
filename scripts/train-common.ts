import { tf } from '../src/tf.js';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend, type BackendName } from '../src/backend.js';
import { registerTrainingKernels } from '../src/backend-kernels.js';
import { repoRoot, seededShuffle, type EncodedExamples, type EncodedSplit } from './data.js';

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

/** The wasm backend with the Embedding-gradient kernel it lacks (src/backend-kernels.ts) registered. */
export async function initTrainingBackend(): Promise<BackendName> {
  const backend = await initBackend('wasm');
  registerTrainingKernels(backend);
  return backend;
}

/** Runs a script's main, printing the stack and exiting 1 on failure. */
export function runScript(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

/** The softmax Dense layer every fixture ends with. */
export function softmaxOutput(units: number, seed: number): tf.layers.Layer {
  return tf.layers.dense({
    name: 'output',
    units,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
}

/** Compiles with Adam and categorical cross-entropy; returns how meta.json describes that. */
export function compileAdam(
  model: tf.LayersModel,
  learningRate: number,
  metrics: string[] = [],
): { optimizer: string; loss: string } {
  const loss = 'categoricalCrossentropy';
  model.compile({ optimizer: tf.train.adam(learningRate), loss, ...(metrics.length > 0 ? { metrics } : {}) });
  return { optimizer: `adam(${learningRate.toExponential()})`, loss };
}

/** meta.json's `training` block, minus backend and tfjs version (added by fixtureMeta). */
export type TrainingMeta = { optimizer: string; loss: string } & Record<string, unknown>;

/**
 * meta.json: `name`, the fixture's own fields in their order, then parameter
 * counts, the training block and the command that produced it.
 */
export function fixtureMeta(
  name: string,
  fields: Record<string, unknown>,
  model: tf.LayersModel,
  backend: BackendName,
  training: TrainingMeta,
): Record<string, unknown> {
  return {
    name,
    ...fields,
    parameters: parameterCounts(model),
    training: { backend, tfjs: tf.version.tfjs, ...training },
    producedBy: `npm run build && node dist/scripts/train-${name}.js`,
  };
}

/** Writes test.json, vocab.json and meta.json next to the saved model. */
export function writeFixtureFiles(dir: string, test: unknown, vocab: unknown, meta: Record<string, unknown>): void {
  writeJson(join(dir, 'test.json'), test);
  writeJson(join(dir, 'vocab.json'), vocab);
  writePrettyJson(join(dir, 'meta.json'), meta);
}

/** Accuracy of the reloaded model on encoded examples (tensor created and disposed here). */
async function encodedAccuracy(model: tf.LayersModel, examples: EncodedExamples, dtype: 'float32' | 'int32'): Promise<number> {
  const x = tf.tensor2d(examples.inputs, undefined, dtype);
  const accuracy = await classificationAccuracy(model, x, examples.labels);
  x.dispose();
  return accuracy;
}

/** What a text classifier fixture says about itself in meta.json. */
export interface ClassifierDescription {
  task: string;
  classes?: readonly string[];
  source: { dataset: string; package: string };
  input: string;
  vocab: Record<string, unknown>;
  /** How the data was split into train and test. */
  split: string;
}

export interface ClassifierTraining {
  name: string;
  /** Built, not yet compiled. */
  model: tf.LayersModel;
  data: EncodedSplit;
  classes: number;
  inputDtype: 'float32' | 'int32';
  learningRate: number;
  epochs: number;
  batchSize: number;
  seed: number;
  /** Log the loss every this many epochs. @default 1 */
  logEvery?: number;
  describe: ClassifierDescription;
}

/**
 * Trains a text classifier fixture end to end: compiles (Adam, categorical
 * cross-entropy), fits with seeded shuffles, saves it to fixtures/<name>/,
 * reloads it on wasm to measure train and held-out accuracy, and writes
 * test.json, vocab.json and meta.json.
 */
export async function trainClassifierFixture(backend: BackendName, run: ClassifierTraining): Promise<void> {
  const { model, data, describe } = run;
  const compiled = compileAdam(model, run.learningRate, ['accuracy']);
  const xTrain = tf.tensor2d(data.train.inputs, undefined, run.inputDtype);
  const yTrain = tf.tidy(() => tf.oneHot(tf.tensor1d(data.train.labels, 'int32'), run.classes));
  const logEvery = run.logEvery ?? 1;
  const start = Date.now();
  await fitSeeded(model, xTrain, yTrain, {
    epochs: run.epochs,
    batchSize: run.batchSize,
    seed: run.seed,
    onEpoch: (e, loss) => {
      if ((e + 1) % logEvery === 0) log(`epoch ${e + 1}/${run.epochs} loss ${loss.toFixed(4)}`);
    },
  });
  const seconds = (Date.now() - start) / 1000;
  tf.dispose([xTrain, yTrain]);

  const dir = fixtureDir(run.name);
  await saveLayersModel(model, dir);
  const reloaded = await reloadOnWasm(dir);
  const testAccuracy = await encodedAccuracy(reloaded, data.test, run.inputDtype);
  const trainAccuracy = await encodedAccuracy(reloaded, data.train, run.inputDtype);
  log(`train accuracy ${trainAccuracy.toFixed(4)}, held-out accuracy ${testAccuracy.toFixed(4)}`);

  const fields = {
    task: describe.task,
    ...(describe.classes ? { classes: describe.classes } : {}),
    source: describe.source,
    trainExamples: data.train.labels.length,
    testExamples: data.test.labels.length,
    testAccuracy,
    trainAccuracy,
    input: describe.input,
    vocab: describe.vocab,
  };
  const training = {
    ...compiled,
    epochs: run.epochs,
    batchSize: run.batchSize,
    seed: run.seed,
    split: describe.split,
    seconds,
  };
  writeFixtureFiles(dir, data.test, data.vocab, fixtureMeta(run.name, fields, model, backend, training));
}
