/**
 * Trains fixtures/sentiment-gru: a sequential Embedding(maskZero) ->
 * Bidirectional(GRU) -> Dense softmax classifier on the UCI Sentiment Labelled
 * Sentences (same split and tokenizer as sentiment-embed). Trained on the wasm
 * backend with our scatter-add UnsortedSegmentSum kernel (Embedding's
 * gradient), which the wasm backend lacks.
 *
 *   npm run build && node dist/scripts/train-sentiment-gru.js
 */
import { tf } from '../src/tf.js';
import { SENTIMENT_SOURCE, SENTIMENT_TASK, idVocabMeta, sentimentIds } from './data.js';
import { initTrainingBackend, runScript, softmaxOutput, trainClassifierFixture } from './train-common.js';

const NAME = 'sentiment-gru';
const VOCAB = 4000; // ids: 0 padding, 1 OOV, 2..VOCAB-1 the VOCAB-2 most frequent words
const LENGTH = 32;
const EMBED = 64;
const UNITS = 64;
const SEED = 13;

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
  model.add(softmaxOutput(2, SEED + 3));
  return model;
}

async function main(): Promise<void> {
  const backend = await initTrainingBackend();
  const data = sentimentIds(VOCAB, LENGTH);
  await trainClassifierFixture(backend, {
    name: NAME,
    model: buildModel(),
    data,
    classes: 2,
    inputDtype: 'int32',
    learningRate: 3e-3,
    epochs: 6,
    batchSize: 32,
    seed: SEED,
    describe: {
      task: SENTIMENT_TASK,
      source: SENTIMENT_SOURCE,
      input: `${LENGTH} int32 token ids, truncated / right-padded; 0 = padding (masked: Embedding maskZero), 1 = out of vocabulary, id i+2 = vocab.json[i]`,
      vocab: idVocabMeta(VOCAB, data.vocab.length),
      split: 'seeded shuffle (seed 20150901), first 20% held out (same split as sentiment-mlp and sentiment-embed)',
    },
  });
}

runScript(main);
