/**
 * Trains fixtures/intent-mlp: a binary bag-of-words MLP intent classifier on
 * the wink chatbot corpus (NLU Evaluation Corpora, Braun et al. 2017), using
 * the corpus's own train/test flags.
 *
 *   npm run build && node dist/scripts/train-intent-mlp.js
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { CHATBOT_SPEC, loadChatbot, tokenize, topWords } from './data.js';
import {
  classificationAccuracy,
  fitSeeded,
  fixtureDir,
  log,
  parameterCounts,
  reloadOnWasm,
  saveLayersModel,
  writeJson,
  writePrettyJson,
} from './train-common.js';

const NAME = 'intent-mlp';
const SEED = 23;
const HIDDEN = 64;
const EPOCHS = 30;
const BATCH = 16;

function bagOfWords(tokens: string[], index: Map<string, number>): number[] {
  const v = new Array<number>(index.size).fill(0);
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) v[i] = 1;
  }
  return v;
}

function buildModel(inputs: number, classes: number): tf.LayersModel {
  const model = tf.sequential({ name: 'intent_mlp' });
  model.add(
    tf.layers.dense({
      name: 'hidden',
      inputShape: [inputs],
      units: HIDDEN,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }),
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'output',
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const data = loadChatbot();
  const train = data.filter((e) => e.split === 'train');
  const test = data.filter((e) => e.split === 'test');
  const intents = [...new Set(data.map((e) => e.intent))].sort();
  const trainTokens = train.map((e) => tokenize(e.text));
  // Every word of the training split: the corpus is small.
  const vocab = topWords(trainTokens, Number.MAX_SAFE_INTEGER);
  const index = new Map(vocab.map((w, i) => [w, i]));

  const xTrain = tf.tensor2d(trainTokens.map((t) => bagOfWords(t, index)));
  const trainLabels = train.map((e) => intents.indexOf(e.intent));
  const yTrain = tf.oneHot(tf.tensor1d(trainLabels, 'int32'), intents.length);
  const testInputs = test.map((e) => bagOfWords(tokenize(e.text), index));
  const testLabels = test.map((e) => intents.indexOf(e.intent));

  const model = buildModel(vocab.length, intents.length);
  const start = Date.now();
  await fitSeeded(model, xTrain, yTrain, {
    epochs: EPOCHS,
    batchSize: BATCH,
    seed: SEED,
    onEpoch: (e, loss) => {
      if ((e + 1) % 10 === 0) log(`epoch ${e + 1}/${EPOCHS} loss ${loss.toFixed(4)}`);
    },
  });
  const trainSeconds = (Date.now() - start) / 1000;

  const dir = fixtureDir(NAME);
  await saveLayersModel(model, dir);
  const reloaded = await reloadOnWasm(dir);
  const xTest = tf.tensor2d(testInputs);
  const testAccuracy = await classificationAccuracy(reloaded, xTest, testLabels);
  const trainAccuracy = await classificationAccuracy(reloaded, xTrain, trainLabels);
  log(`train accuracy ${trainAccuracy.toFixed(4)}, held-out accuracy ${testAccuracy.toFixed(4)}`);

  writeJson(join(dir, 'test.json'), { inputs: testInputs, labels: testLabels });
  writeJson(join(dir, 'vocab.json'), vocab);
  writePrettyJson(join(dir, 'meta.json'), {
    name: NAME,
    task: `intent classification, labels: ${intents.map((name, i) => `${i} = ${name}`).join(', ')}`,
    classes: intents,
    source: {
      dataset: 'Chatbot corpus of the NLU Evaluation Corpora (Braun et al. 2017, sebischair), CC BY-SA 3.0',
      package: `${CHATBOT_SPEC} (MIT), chatbot-example/chatbot-training-data.json`,
    },
    trainExamples: train.length,
    testExamples: test.length,
    testAccuracy,
    trainAccuracy,
    input: `binary bag of words over vocab.json (all ${vocab.length} lower-cased word tokens of the training split)`,
    vocab: { size: vocab.length, file: 'vocab.json', tokenizer: "lower-case, /[a-z0-9]+(?:'[a-z]+)?/g" },
    parameters: parameterCounts(model),
    training: {
      backend,
      tfjs: tf.version.tfjs,
      optimizer: 'adam(3e-3)',
      loss: 'categoricalCrossentropy',
      epochs: EPOCHS,
      batchSize: BATCH,
      seed: SEED,
      split: "the corpus's own flags (training: true / false)",
      seconds: trainSeconds,
    },
    producedBy: 'npm run build && node dist/scripts/train-intent-mlp.js',
  });
  tf.dispose([xTrain, yTrain, xTest]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
