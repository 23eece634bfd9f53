/**
 * Trains fixtures/sentiment-cnn: a Conv1D text classifier (Embedding -> two Conv1D ->
 * GlobalMaxPooling1D -> softmax) on the UCI Sentiment Labelled Sentences, the same split
 * and token ids as sentiment-embed. Trained on the wasm backend with hmf's training
 * kernels (src/backend-kernels.ts): Embedding's scatter-add and Conv2DBackpropFilter,
 * the filter gradient of Conv1D, which the wasm backend lacks.
 *
 *   npm run build && node dist/scripts/train-sentiment-cnn.js
 */
import { tf } from '../src/tf.js';
import { SENTIMENT_SOURCE, SENTIMENT_TASK, idVocabMeta, sentimentIds } from './data.js';
import { initTrainingBackend, runScript, softmaxOutput, trainClassifierFixture } from './train-common.js';

const NAME = 'sentiment-cnn';
const VOCAB = 4000; // ids: 0 padding, 1 OOV, 2..VOCAB-1 the VOCAB-2 most frequent words
const LENGTH = 32;
const EMBED = 32;
const FILTERS = 128;
const SEED = 13;

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
  const conv = (name: string, kernelSize: number, seed: number) =>
    tf.layers.conv1d({ name, filters: FILTERS, kernelSize, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  const c1 = conv('conv1', 5, SEED + 1).apply(embedded) as tf.SymbolicTensor;
  const c2 = conv('conv2', 3, SEED + 2).apply(c1) as tf.SymbolicTensor;
  const pooled = tf.layers.globalMaxPooling1d({ name: 'pool' }).apply(c2) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ name: 'dropout', rate: 0.5, seed: SEED + 3 }).apply(pooled) as tf.SymbolicTensor;
  const output = softmaxOutput(2, SEED + 4).apply(dropped) as tf.SymbolicTensor;
  return tf.model({ name: 'sentiment_cnn', inputs: input, outputs: output });
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
    learningRate: 1e-3,
    epochs: 8,
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
