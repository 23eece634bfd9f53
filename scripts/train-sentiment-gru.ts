/**
 * Trains fixtures/sentiment-gru: a sequential Embedding(maskZero) ->
 * Bidirectional(GRU) -> Dense softmax classifier on the UCI Sentiment Labelled
 * Sentences (same split and tokenizer as sentiment-embed). Trained on the wasm
 * backend with our scatter-add UnsortedSegmentSum kernel (Embedding's
 * gradient), which the wasm backend lacks.
 *
 *   npm run build && node dist/scripts/train-sentiment-gru.js
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { SENTIMENT_SPEC, encodeIds, idIndex, sentimentSplit, tokenize, topWords } from './data.js';
import {
  classificationAccuracy,
  fitSeeded,
  fixtureDir,
  log,
  parameterCounts,
  registerScatterSegmentSum,
  reloadOnWasm,
  saveLayersModel,
  writeJson,
  writePrettyJson,
} from './train-common.js';

const NAME = 'sentiment-gru';
const VOCAB = 4000; // ids: 0 padding, 1 OOV, 2..VOCAB-1 the VOCAB-2 most frequent words
const LENGTH = 32;
const EMBED = 64;
const UNITS = 64;
const SEED = 13;
const EPOCHS = 6;
const BATCH = 32;

function buildModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'sentiment_gru' });
  model.add(
    tf.layers.embedding({
      name: 'embedding',
      inputDim: VOCAB,
      outputDim: EMBED,
      inputLength: LENGTH,
      inputShape: [LENGTH],
      maskZero: true,
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: SEED }),
    }),
  );
  model.add(
    tf.layers.bidirectional({
      name: 'bigru',
      mergeMode: 'concat',
      layer: tf.layers.gru({
        name: 'gru',
        units: UNITS,
        kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: SEED + 2 }),
      }) as tf.RNN,
    }),
  );
  model.add(
    tf.layers.dense({
      name: 'output',
      units: 2,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 3 }),
    }),
  );
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

async function main(): Promise<void> {
  const backend = await initBackend('wasm');
  registerScatterSegmentSum();
  const { train, test } = sentimentSplit();
  const trainTokens = train.map((s) => tokenize(s.text));
  const vocab = topWords(trainTokens, VOCAB - 2);
  const index = idIndex(vocab);

  const trainIds = trainTokens.map((t) => encodeIds(t, index, LENGTH));
  const testIds = test.map((s) => encodeIds(tokenize(s.text), index, LENGTH));
  const testLabels = test.map((s) => s.label);
  const xTrain = tf.tensor2d(trainIds, undefined, 'int32');
  const yTrain = tf.oneHot(tf.tensor1d(train.map((s) => s.label), 'int32'), 2);

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
  const params = parameterCounts(model);
  const reloaded = await reloadOnWasm(dir);
  const xTest = tf.tensor2d(testIds, undefined, 'int32');
  const xTrainWasm = tf.tensor2d(trainIds, undefined, 'int32');
  const testAccuracy = await classificationAccuracy(reloaded, xTest, testLabels);
  const trainAccuracy = await classificationAccuracy(reloaded, xTrainWasm, train.map((s) => s.label));
  log(`train accuracy ${trainAccuracy.toFixed(4)}, held-out accuracy ${testAccuracy.toFixed(4)}`);

  writeJson(join(dir, 'test.json'), { inputs: testIds, labels: testLabels });
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
    input: `${LENGTH} int32 token ids, truncated / right-padded; 0 = padding (masked: Embedding maskZero), 1 = out of vocabulary, id i+2 = vocab.json[i]`,
    vocab: {
      size: VOCAB,
      file: 'vocab.json',
      words: vocab.length,
      padId: 0,
      oovId: 1,
      tokenizer: "lower-case, /[a-z0-9]+(?:'[a-z]+)?/g",
    },
    parameters: params,
    training: {
      backend,
      tfjs: tf.version.tfjs,
      optimizer: 'adam(3e-3)',
      loss: 'categoricalCrossentropy',
      epochs: EPOCHS,
      batchSize: BATCH,
      seed: SEED,
      split: 'seeded shuffle (seed 20150901), first 20% held out (same split as sentiment-mlp and sentiment-embed)',
      seconds: trainSeconds,
    },
    producedBy: 'npm run build && node dist/scripts/train-sentiment-gru.js',
  });
  tf.dispose([xTrain, yTrain, xTest, xTrainWasm]);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
