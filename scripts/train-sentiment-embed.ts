/**
 * Trains fixtures/sentiment-embed: a functional (tf.model) Embedding +
 * GlobalAveragePooling1D + Dense classifier on the UCI Sentiment Labelled
 * Sentences. Trained on the wasm backend with our scatter-add UnsortedSegmentSum
 * kernel (Embedding's gradient), which the wasm backend lacks.
 *
 *   npm run build && node dist/scripts/train-sentiment-embed.js
 */
import { tf } from '../src/tf.js';
import { SENTIMENT_SOURCE, SENTIMENT_TASK, idVocabMeta, sentimentIds } from './data.js';
import { initTrainingBackend, runScript, softmaxOutput, trainClassifierFixture } from './train-common.js';

const NAME = 'sentiment-embed';
const VOCAB = 4000; // ids: 0 padding, 1 OOV, 2..VOCAB-1 the VOCAB-2 most frequent words
const LENGTH = 32;
const EMBED = 64;
const SEED = 11;

function buildModel(): tf.LayersModel {
  const input = tf.input({ shape: [LENGTH], dtype: 'int32', name: 'token_ids' });
  const embedded = tf.layers
    .embedding({
      name: 'embedding',
      inputDim: VOCAB,
      outputDim: EMBED,
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: SEED }),
    })
    .apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling1d({ name: 'pool' }).apply(embedded) as tf.SymbolicTensor;
  const hidden = tf.layers
    .dense({
      name: 'hidden',
      units: 64,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
    })
    .apply(pooled) as tf.SymbolicTensor;
  const output = softmaxOutput(2, SEED + 2).apply(hidden) as tf.SymbolicTensor;
  return tf.model({ name: 'sentiment_embed', inputs: input, outputs: output });
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
    epochs: 12,
    batchSize: 32,
    seed: SEED,
    describe: {
      task: SENTIMENT_TASK,
      source: SENTIMENT_SOURCE,
      input: `${LENGTH} int32 token ids, truncated / right-padded; 0 = padding, 1 = out of vocabulary, id i+2 = vocab.json[i]`,
      vocab: idVocabMeta(VOCAB, data.vocab.length),
      split: 'seeded shuffle (seed 20150901), first 20% held out (same split as sentiment-mlp)',
    },
  });
}

runScript(main);
