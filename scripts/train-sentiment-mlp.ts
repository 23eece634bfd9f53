/**
 * Trains fixtures/sentiment-mlp: a binary bag-of-words MLP sentiment classifier
 * on the UCI Sentiment Labelled Sentences (via the `sentiment` npm package).
 *
 *   npm run build && node dist/scripts/train-sentiment-mlp.js
 */
import { tf } from '../src/tf.js';
import { SENTIMENT_SOURCE, SENTIMENT_TASK, TOKENIZER, sentimentBags } from './data.js';
import { initTrainingBackend, runScript, softmaxOutput, trainClassifierFixture } from './train-common.js';

const NAME = 'sentiment-mlp';
const VOCAB = 2000;
const SEED = 7;

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
  model.add(softmaxOutput(2, SEED + 2));
  return model;
}

async function main(): Promise<void> {
  const backend = await initTrainingBackend();
  await trainClassifierFixture(backend, {
    name: NAME,
    model: buildModel(),
    data: sentimentBags(VOCAB),
    classes: 2,
    inputDtype: 'float32',
    learningRate: 1e-3,
    epochs: 6,
    batchSize: 32,
    seed: SEED,
    describe: {
      task: SENTIMENT_TASK,
      source: SENTIMENT_SOURCE,
      input: `binary bag of words over vocab.json (${VOCAB} most frequent lower-cased word tokens of the training split)`,
      vocab: { size: VOCAB, file: 'vocab.json', tokenizer: TOKENIZER },
      split: 'seeded shuffle (seed 20150901), first 20% held out',
    },
  });
}

runScript(main);
