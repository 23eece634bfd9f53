/**
 * Trains fixtures/sentiment-mlp: a binary bag-of-words MLP sentiment classifier
 * on the UCI Sentiment Labelled Sentences (via the `sentiment` npm package).
 *
 *   npm run build && node dist/scripts/train-sentiment-mlp.js
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { SENTIMENT_SPEC, sentimentSplit, tokenize, topWords } from './data.js';
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

const NAME = 'sentiment-mlp';
const VOCAB = 2000;
const SEED = 7;
const EPOCHS = 6;
const BATCH = 32;

function bagOfWords(tokens: string[], index: Map<string, number>): number[] {
  const v = new Array<number>(index.size).fill(0);
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) v[i] = 1;
  }
  return v;
}

function buildModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'sentiment_mlp' });
  model.add(
    tf.layers.dense({
      name: 'hidden1',
      inputShape: [VOCAB],
      units: 256,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED }),
      kernelRegularizer: tf.regularizers.l2({ l2: 1e-4 }),
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'hidden2',
      units: 128,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'output',
      units: 2,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 2 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  const { train, test } = sentimentSplit();
  const trainTokens = train.map((s) => tokenize(s.text));
  const vocab = topWords(trainTokens, VOCAB);
  const index = new Map(vocab.map((w, i) => [w, i]));

  const xTrain = tf.tensor2d(trainTokens.map((t) => bagOfWords(t, index)));
  const yTrain = tf.oneHot(tf.tensor1d(train.map((s) => s.label), 'int32'), 2);
  const testInputs = test.map((s) => bagOfWords(tokenize(s.text), index));
  const testLabels = test.map((s) => s.label);

  const model = buildModel();
  const start = Date.now();
  await fitSeeded(model, xTrain, yTrain, {
    epochs: EPOCHS,
    batchSize: BATCH,
    seed: SEED,
    onEpoch: (e, loss) => log(`epoch ${e + 1}/${EPOCHS} loss ${loss.toFixed(4)}`),
  });
  const trainSeconds = (Date.now() - start) / 1000;

  const dir = fixtureDir(NAME);
  await saveLayersModel(model, dir);
  const reloaded = await reloadOnWasm(dir);
  const xTest = tf.tensor2d(testInputs);
  const testAccuracy = await classificationAccuracy(reloaded, xTest, testLabels);
  const trainAccuracy = await classificationAccuracy(reloaded, xTrain, train.map((s) => s.label));
  log(`train accuracy ${trainAccuracy.toFixed(4)}, held-out accuracy ${testAccuracy.toFixed(4)}`);

  writeJson(join(dir, 'test.json'), { inputs: testInputs, labels: testLabels });
  writeJson(join(dir, 'vocab.json'), vocab);
  writePrettyJson(join(dir, 'meta.json'), {
    name: NAME,
    task: 'binary sentiment classification (0 = negative, 1 = positive)',
    source: {
      dataset: 'UCI Sentiment Labelled Sentences (Kotzias et al. 2015), amazon + imdb + yelp, CC BY 4.0',
      package: `${SENTIMENT_SPEC} (MIT), test/fixtures/{amazon,imdb,yelp}.json`,
    },
    trainExamples: train.length,
    testExamples: test.length,
    testAccuracy,
    trainAccuracy,
    input: `binary bag of words over vocab.json (${VOCAB} most frequent lower-cased word tokens of the training split)`,
    vocab: { size: VOCAB, file: 'vocab.json', tokenizer: "lower-case, /[a-z0-9]+(?:'[a-z]+)?/g" },
    parameters: parameterCounts(model),
    training: {
      backend,
      tfjs: tf.version.tfjs,
      optimizer: 'adam(1e-3)',
      loss: 'categoricalCrossentropy',
      epochs: EPOCHS,
      batchSize: BATCH,
      seed: SEED,
      split: 'seeded shuffle (seed 20150901), first 20% held out',
      seconds: trainSeconds,
    },
    producedBy: 'npm run build && node dist/scripts/train-sentiment-mlp.js',
  });
  tf.dispose([xTrain, yTrain, xTest]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
