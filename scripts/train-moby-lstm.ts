/**
 * Trains fixtures/moby-lstm: the larger character-level LSTM language model of
 * the paper table (issue 14) — Embedding(80, 64) -> LSTM(256, returnSequences)
 * -> Dense(80, softmax) per step, on Moby-Dick. Same vocabulary and held-out
 * windows (test.json) as char-lstm. Training windows come from the first 85% of
 * the text; 85-90% is a validation slice whose perplexity is logged as training
 * goes (to see convergence; it chooses nothing). Adam with a linear warm-up and a
 * cosine decay to a tenth of the peak.
 *
 *   npm run build && node dist/scripts/train-moby-lstm.js [steps]
 */
import { tf } from '../src/tf.js';
import { limitBackendThreads } from '../src/backend.js';
import { MIN_COUNT, OOV_ID, TEST_SEQUENCES, TRAIN_FRACTION, encodedMobyDick, evenWindows, scoreLm } from './char-lm.js';
import { MOBY_DICK_SPEC, seededRandom } from './data.js';
import {
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

const NAME = 'moby-lstm';
const SEQ = 64;
const EMBED = 64;
const UNITS = 256;
const BATCH = 16;
const DEFAULT_STEPS = 2000;
const PEAK_RATE = 3e-3;
const FINAL_RATE_SHARE = 0.1;
const WARMUP_STEPS = 100;
/** Training windows start before this share of the text; [TRAIN_END, TRAIN_FRACTION) is the validation slice. */
const TRAIN_END = 0.85;
const VALIDATION_SEQUENCES = 100;
const LOG_EVERY = 250;
const SEED = 1853;

function buildModel(vocabSize: number): tf.LayersModel {
  const model = tf.sequential({ name: 'moby_lstm' });
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

/** Warm-up, then cosine from PEAK_RATE down to FINAL_RATE_SHARE of it at the last step. */
function rateAt(step: number, steps: number): number {
  if (step < WARMUP_STEPS) return (PEAK_RATE * (step + 1)) / WARMUP_STEPS;
  const t = (step - WARMUP_STEPS) / Math.max(1, steps - 1 - WARMUP_STEPS);
  return PEAK_RATE * (FINAL_RATE_SHARE + (1 - FINAL_RATE_SHARE) * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** Adam whose learning rate is set before each step. */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

async function main(): Promise<void> {
  const steps = process.argv[2] ? Number(process.argv[2]) : DEFAULT_STEPS;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps: expected a positive integer, got ${process.argv[2]}`);
  const backend = await initTrainingBackend();
  // Many small ops per step: one thread is faster (src/backend.ts), and the result does not depend on it.
  limitBackendThreads(1);

  const { vocab, vocabSize, ids, split } = encodedMobyDick();
  const trainEnd = Math.floor(ids.length * TRAIN_END);
  const test = evenWindows(ids, split, ids.length, TEST_SEQUENCES, SEQ);
  const validation = evenWindows(ids, trainEnd, split, VALIDATION_SEQUENCES, SEQ);

  const rand = seededRandom(SEED);
  const nextBatch = (): { xs: tf.Tensor; ys: tf.Tensor } => {
    const x = new Int32Array(BATCH * SEQ);
    const y = new Int32Array(BATCH * SEQ);
    for (let b = 0; b < BATCH; b++) {
      const s = Math.floor(rand() * (trainEnd - SEQ - 1));
      x.set(ids.subarray(s, s + SEQ), b * SEQ);
      y.set(ids.subarray(s + 1, s + SEQ + 1), b * SEQ);
    }
    return tf.tidy(() => ({
      xs: tf.tensor2d(x, [BATCH, SEQ], 'int32'),
      ys: tf.oneHot(tf.tensor2d(y, [BATCH, SEQ], 'int32'), vocabSize),
    }));
  };

  const model = buildModel(vocabSize);
  const optimizer = new ScheduledAdam(PEAK_RATE, 0.9, 0.999);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const start = Date.now();
  const validationLog: { step: number; trainLoss: number; validationPerplexity: number }[] = [];
  let window = 0;
  for (let step = 0; step < steps; step++) {
    optimizer.setLearningRate(rateAt(step, steps));
    const { xs, ys } = nextBatch();
    const result = await model.trainOnBatch(xs, ys);
    tf.dispose([xs, ys]);
    window += Array.isArray(result) ? result[0] : result;
    if ((step + 1) % LOG_EVERY === 0 || step + 1 === steps) {
      const seen = (step % LOG_EVERY) + 1;
      const { perplexity } = scoreLm(model, validation.inputs, validation.labels);
      validationLog.push({ step: step + 1, trainLoss: window / seen, validationPerplexity: perplexity });
      log(`step ${step + 1}/${steps} train loss ${(window / seen).toFixed(4)} validation perplexity ${perplexity.toFixed(3)} (${((Date.now() - start) / 1000).toFixed(0)} s)`);
      window = 0;
    }
  }
  const trainSeconds = (Date.now() - start) / 1000;

  const dir = fixtureDir(NAME);
  await saveLayersModel(model, dir);
  const reloaded = await reloadOnWasm(dir);
  const { accuracy, perplexity } = scoreLm(reloaded, test.inputs, test.labels);
  log(`held-out next-char accuracy ${accuracy.toFixed(4)}, perplexity ${perplexity.toFixed(4)}`);

  const fields = {
    task: 'character-level language model: per-step next-character distribution',
    source: {
      dataset: 'Herman Melville, Moby-Dick (public domain)',
      package: `${MOBY_DICK_SPEC} (Apache-2.0), data/data.txt`,
    },
    trainExamples: steps * BATCH,
    trainCharacters: trainEnd,
    testExamples: TEST_SEQUENCES,
    testPositions: TEST_SEQUENCES * SEQ,
    testAccuracy: accuracy,
    testPerplexity: perplexity,
    input: `${SEQ} int32 character ids; id i+1 = vocab.json[i], 0 = any other character`,
    labels: 'per-step id of the next character (test.json labels: one array of ' + SEQ + ' ids per sequence)',
    vocab: { size: vocabSize, file: 'vocab.json', oovId: OOV_ID, minCount: MIN_COUNT },
  };
  const training = {
    optimizer: `adam, peak ${PEAK_RATE.toExponential()}: ${WARMUP_STEPS} warm-up steps, cosine to ${FINAL_RATE_SHARE} of the peak`,
    loss: 'categoricalCrossentropy',
    steps,
    batchSize: BATCH,
    seed: SEED,
    split: `random windows (seeded) of the first ${TRAIN_END * 100}% of the text for training; ${VALIDATION_SEQUENCES} evenly spaced windows of ${TRAIN_END * 100}-${TRAIN_FRACTION * 100}% for the validation log; ${TEST_SEQUENCES} evenly spaced windows of the last ${Math.round((1 - TRAIN_FRACTION) * 100)}% held out (test.json, as char-lstm)`,
    validationLog,
    seconds: trainSeconds,
  };
  writeFixtureFiles(dir, test, vocab, fixtureMeta(NAME, fields, model, backend, training));
}

runScript(main);
