/**
 * Trains fixtures/intent-mlp: a binary bag-of-words MLP intent classifier on
 * the wink chatbot corpus (NLU Evaluation Corpora, Braun et al. 2017), using
 * the corpus's own train/test flags.
 *
 *   npm run build && node dist/scripts/train-intent-mlp.js
 */
import { tf } from '../src/tf.js';
import { CHATBOT_SPEC, TOKENIZER, bagOfWordsEncoding, encodeSplit, loadChatbot } from './data.js';
import { initTrainingBackend, runScript, softmaxOutput, trainClassifierFixture } from './train-common.js';

const NAME = 'intent-mlp';
const SEED = 23;
const HIDDEN = 64;

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
  model.add(softmaxOutput(classes, SEED + 1));
  return model;
}

async function main(): Promise<void> {
  const backend = await initTrainingBackend();
  const corpus = loadChatbot();
  const intents = [...new Set(corpus.map((e) => e.intent))].sort();
  const split = { train: corpus.filter((e) => e.split === 'train'), test: corpus.filter((e) => e.split === 'test') };
  // Every word of the training split: the corpus is small.
  const data = encodeSplit(split, (e) => intents.indexOf(e.intent), Number.MAX_SAFE_INTEGER, bagOfWordsEncoding);
  await trainClassifierFixture(backend, {
    name: NAME,
    model: buildModel(data.vocab.length, intents.length),
    data,
    classes: intents.length,
    inputDtype: 'float32',
    learningRate: 3e-3,
    epochs: 30,
    batchSize: 16,
    seed: SEED,
    logEvery: 10,
    describe: {
      task: `intent classification, labels: ${intents.map((name, i) => `${i} = ${name}`).join(', ')}`,
      classes: intents,
      source: {
        dataset: 'Chatbot corpus of the NLU Evaluation Corpora (Braun et al. 2017, sebischair), CC BY-SA 3.0',
        package: `${CHATBOT_SPEC} (MIT), chatbot-example/chatbot-training-data.json`,
      },
      input: `binary bag of words over vocab.json (all ${data.vocab.length} lower-cased word tokens of the training split)`,
      vocab: { size: data.vocab.length, file: 'vocab.json', tokenizer: TOKENIZER },
      split: "the corpus's own flags (training: true / false)",
    },
  });
}

runScript(main);
