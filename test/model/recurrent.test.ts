import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { toArtifacts, type Weight } from '../../src/io/index.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { hmf, lmf } from '../../src/methods/index.js';
import type { Compressed } from '../../src/methods/types.js';
import { findWeight, PORTABLE_REASON, recurrentTargets } from '../../src/model/recurrent.js';
import { rewriteLayers, type MatrixRewrite } from '../../src/model/rewrite.js';
import { scanTargets, type TargetMatrix } from '../../src/model/targets.js';
import { parseLayersTopology, serializeLayersTopology, type LayerJson } from '../../src/model/topology.js';
import { registerHmfLayers } from '../../src/runtime/index.js';
import { exactHmf, exactLmf, savedModel as saved } from './exact.js';

type Saved = Awaited<ReturnType<typeof saved>>;

const T = 7;
const N = 5;
const UNITS = 6;
const BATCH = 3;

type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;
type Chooser = (t: TargetMatrix, k: Matrix) => Compressed | null;

/** Random weights everywhere (biases too), so every path contributes. */
function randomize(model: tf.LayersModel, seed: number): void {
  model.setWeights(model.getWeights().map((w, i) => tf.mul(tf.randomNormal(w.shape, 0, 1, 'float32', seed + i), 0.5)));
}

function matrixOf(w: Weight): Matrix {
  return { rows: w.shape[0], cols: w.shape[1], data: w.values as Float32Array };
}

const exact = {
  lmf: (): Chooser => (_t, k) => exactLmf(k),
  /** Every third output dense: the runtime must gather outputs back across gate blocks. */
  hmfScattered: (): Chooser => (_t, k) => exactHmf(k, (j) => j % 3 === 0),
  /** The leading outputs dense (the paper's choice): no gather needed. */
  hmfLeading: (): Chooser => (_t, k) => exactHmf(k, (j) => j < Math.floor(k.cols / 2) + 1),
  /** Input kernel LMF, recurrent kernel HMF. */
  mixed: (): Chooser => (t, k) => (t.role === 'kernel' ? exactLmf(k) : exactHmf(k, (j) => j % 4 === 1)),
  /** Only the recurrent kernel factored. */
  recurrentOnly: (): Chooser => (t, k) => (t.role === 'recurrent_kernel' ? exactHmf(k, (j) => j >= k.cols - 2) : null),
  /** Only the input kernel, as LMF: stock layers suffice. */
  kernelOnly: (): Chooser => (t, k) => (t.role === 'kernel' ? exactLmf(k) : null),
};

interface Outcome {
  maxDiff: number;
  runtimeRequired: boolean;
  classes: string[];
  rewritten: Saved;
  targets: TargetMatrix[];
}

async function rewriteAndCompare(model: tf.LayersModel, choose: Chooser, inputs: tf.Tensor | tf.Tensor[], options: { portable?: boolean } = {}): Promise<Outcome> {
  const original = await saved(model);
  const graph = parseLayersTopology(original.json.modelTopology, 'test');
  const scan = scanTargets(graph, original.weights, 1, options);
  const rewrites: MatrixRewrite[] = [];
  const replaced = new Map<string, Float32Array>();
  for (const target of scan.targets) {
    const w = original.weights.find((x) => x.name === target.weight) as Weight;
    // Only the layers under test: the Embedding in front of them keeps its table.
    const result = target.layerClass === 'Embedding' ? null : choose(target, matrixOf(w));
    if (result?.kind === 'prune') replaced.set(target.weight, result.pruned.data);
    else if (result) rewrites.push({ target, result });
  }
  const out = rewriteLayers(graph, original.weights, rewrites, replaced, options);
  const rewritten: Saved = {
    json: { ...original.json, modelTopology: serializeLayersTopology(original.json.modelTopology, out.graph) },
    weights: out.weights,
  };
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(rewritten)));
  const maxDiff = compare(model.predict(inputs), loaded.predict(inputs));
  return { maxDiff, runtimeRequired: out.runtimeRequired, classes: out.graph.layers.map((l) => l.class_name), rewritten, targets: scan.targets };
}

function compare(a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]): number {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  assert.equal(bs.length, as.length, 'number of outputs');
  let worst = 0;
  for (let i = 0; i < as.length; i++) {
    assert.deepEqual(bs[i].shape, as[i].shape, `shape of output ${i}`);
    worst = Math.max(worst, tf.max(tf.abs(tf.sub(as[i], bs[i]))).dataSync()[0]);
  }
  return worst;
}

type Cell = 'lstm' | 'gru' | 'simpleRNN';
type RnnArgs = { units: number; returnSequences?: boolean; returnState?: boolean; goBackwards?: boolean; stateful?: boolean; inputShape?: number[]; batchInputShape?: number[] };

function rnn(cell: Cell, args: RnnArgs): tf.layers.Layer {
  return cell === 'lstm' ? tf.layers.lstm(args) : cell === 'gru' ? tf.layers.gru(args) : tf.layers.simpleRNN(args);
}

/** A functional model around one recurrent layer (return_state gives several outputs). */
function single(cell: Cell, args: Omit<RnnArgs, 'units'>, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [T, N] });
  const out = rnn(cell, { units: UNITS, ...args }).apply(input) as tf.SymbolicTensor | tf.SymbolicTensor[];
  const model = tf.model({ inputs: input, outputs: out });
  randomize(model, seed);
  return model;
}

function sequences(seed: number, batch = BATCH): tf.Tensor {
  return tf.randomNormal([batch, T, N], 0, 1, 'float32', seed);
}

const TOL = 1e-5;
const CELLS: Cell[] = ['lstm', 'gru', 'simpleRNN'];
const CONFIGS: [string, Omit<RnnArgs, 'units'>][] = [
  ['last output', {}],
  ['return_sequences', { returnSequences: true }],
  ['return_state', { returnState: true }],
  ['return_sequences + return_state', { returnSequences: true, returnState: true }],
  ['go_backwards', { goBackwards: true, returnSequences: true }],
];

before(async () => {
  await initBackend();
  registerHmfLayers(tf);
});

describe('scan', () => {
  test('kernel and recurrent kernel are separate targets; Bidirectional has four; TimeDistributed(Dense) one', async () => {
    const input = tf.input({ shape: [T, N] });
    const b = tf.layers.bidirectional({ layer: tf.layers.gru({ units: UNITS, returnSequences: true }) as tf.RNN }).apply(input);
    const td = tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 4 }) }).apply(b);
    const l = tf.layers.lstm({ units: UNITS }).apply(td) as tf.SymbolicTensor;
    const s = await saved(tf.model({ inputs: input, outputs: l }));
    const scan = scanTargets(parseLayersTopology(s.json.modelTopology, 'test'), s.weights, 1);
    const rows = scan.targets.map((t) => `${t.layerClass} ${t.role} ${t.rows}x${t.cols} ${t.orderAbsorbers}`);
    assert.equal(rows.filter((r) => r === `Bidirectional kernel ${N}x${3 * UNITS} null`).length, 2);
    assert.equal(rows.filter((r) => r === `Bidirectional recurrent_kernel ${UNITS}x${3 * UNITS} null`).length, 2);
    assert.ok(rows.includes(`TimeDistributed kernel ${2 * UNITS}x4 null`));
    assert.ok(rows.includes(`LSTM kernel 4x${4 * UNITS} null`));
    assert.ok(rows.includes(`LSTM recurrent_kernel ${UNITS}x${4 * UNITS} null`));
    assert.equal(scan.targets.length, 7);
  });

  test('--portable: recurrent kernels and Bidirectional kernels are skipped with the reason, input kernels are LMF-only', async () => {
    const input = tf.input({ shape: [T, N] });
    const b = tf.layers.bidirectional({ layer: tf.layers.lstm({ units: UNITS, returnSequences: true }) as tf.RNN }).apply(input);
    const l = tf.layers.gru({ units: UNITS }).apply(b) as tf.SymbolicTensor;
    const s = await saved(tf.model({ inputs: input, outputs: l }));
    const scan = scanTargets(parseLayersTopology(s.json.modelTopology, 'test'), s.weights, 1, { portable: true });
    assert.deepEqual(scan.targets.map((t) => `${t.layerClass} ${t.role}`), ['GRU kernel']);
    assert.match(scan.targets[0].lowRankOnly ?? '', /--portable/);
    assert.equal(scan.skipped.filter((x) => x.reason === PORTABLE_REASON).length, 3);
    assert.equal(scan.skipped.filter((x) => /Bidirectional input kernel/.test(x.reason)).length, 2);
  });

  test('min-params and shared layers are skipped with reasons; GRU reset_after is refused', () => {
    const w = (name: string, shape: number[]): Weight => ({ name, shape, dtype: 'float32', values: new Float32Array(shape[0] * shape[1]) });
    const weights = [w('g/kernel', [4, 9]), w('g/recurrent_kernel', [3, 9])];
    const layer: LayerJson = { class_name: 'GRU', config: { name: 'g', units: 3 } };
    const small = recurrentTargets(layer, weights, 30);
    assert.deepEqual(small?.targets.map((t) => t.role), ['kernel']);
    assert.match(small?.skipped[0].reason ?? '', /below --min-params 30/);
    const resetAfter = recurrentTargets({ ...layer, config: { ...layer.config, reset_after: true } }, weights, 1);
    assert.equal(resetAfter?.targets.length, 0);
    assert.match(resetAfter?.skipped[0].reason ?? '', /reset_after/);
    assert.equal(recurrentTargets({ class_name: 'Dense', config: { name: 'd' } }, weights, 1), null);
  });

  test('weights saved with the Keras cell scope are found', () => {
    const w: Weight = { name: 'bidirectional/forward_lstm/lstm_cell/kernel', shape: [2, 8], dtype: 'float32', values: new Float32Array(16) };
    assert.equal(findWeight([w], 'bidirectional/forward_lstm', 'kernel'), w);
    assert.equal(findWeight([w], 'bidirectional/forward_lstm', 'recurrent_kernel'), undefined);
  });
});

describe('exact factors reproduce the original layer (runtime)', () => {
  for (const cell of CELLS) {
    for (const [label, args] of CONFIGS) {
      for (const [form, choose] of Object.entries({ lmf: exact.lmf(), hmfScattered: exact.hmfScattered(), mixed: exact.mixed() })) {
        test(`${cell}, ${label}, ${form}`, async () => {
          const model = single(cell, args, 11);
          const out = await rewriteAndCompare(model, choose, sequences(3));
          assert.ok(out.maxDiff < TOL, `max difference ${out.maxDiff}`);
          assert.equal(out.runtimeRequired, true);
          assert.ok(out.classes.some((c) => c.startsWith('Hmf')), out.classes.join(','));
        });
      }
    }
    test(`${cell}: leading dense outputs, and only the recurrent kernel factored`, async () => {
      for (const choose of [exact.hmfLeading(), exact.recurrentOnly()]) {
        const out = await rewriteAndCompare(single(cell, { returnSequences: true }, 5), choose, sequences(4));
        assert.ok(out.maxDiff < TOL, `max difference ${out.maxDiff}`);
      }
    });

    test(`${cell}: masking from an Embedding with mask_zero`, async () => {
      const model = tf.sequential({
        layers: [
          tf.layers.embedding({ inputDim: 20, outputDim: N, maskZero: true, inputLength: T }),
          rnn(cell, { units: UNITS, returnSequences: true }),
          tf.layers.globalAveragePooling1d(),
        ],
      });
      randomize(model, 21);
      // Padding at the end and in the middle: masked steps must keep the previous state.
      const ids = tf.tensor2d([[3, 7, 1, 0, 0, 0, 0], [5, 0, 9, 12, 4, 0, 0], [1, 2, 3, 4, 5, 6, 7]], [3, T], 'int32');
      for (const choose of [exact.hmfScattered(), exact.mixed()]) {
        const out = await rewriteAndCompare(model, choose, ids);
        assert.ok(out.maxDiff < TOL, `max difference ${out.maxDiff}`);
        assert.equal(out.runtimeRequired, true);
      }
    });
  }

  test('stateful LSTM carries its state across calls like the original', async () => {
    const make = () => {
      const m = tf.sequential({ layers: [tf.layers.lstm({ units: UNITS, stateful: true, returnSequences: true, batchInputShape: [2, T, N] })] });
      randomize(m, 31);
      return m;
    };
    const model = make();
    const original = await saved(model);
    const graph = parseLayersTopology(original.json.modelTopology, 'test');
    const scan = scanTargets(graph, original.weights, 1);
    const rewrites = scan.targets.map((target) => ({ target, result: exact.mixed()(target, matrixOf(original.weights.find((w) => w.name === target.weight) as Weight)) as Compressed }));
    const out = rewriteLayers(graph, original.weights, rewrites, new Map());
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory(toArtifacts({ json: { ...original.json, modelTopology: serializeLayersTopology(original.json.modelTopology, out.graph) }, weights: out.weights })),
    );
    const x1 = sequences(41, 2);
    const x2 = sequences(42, 2);
    const first = compare(model.predict(x1), loaded.predict(x1));
    const second = compare(model.predict(x2), loaded.predict(x2));
    assert.ok(first < TOL && second < TOL, `${first} ${second}`);
    // The second call really depends on the carried state.
    model.resetStates();
    const fresh = compare(model.predict(x2), loaded.predict(x2));
    assert.ok(fresh > 1e-3, 'state was not carried');
  });
});

describe('initial states passed as inputs', () => {
  for (const cell of CELLS) {
    test(`${cell}: runtime layer and stock projection keep the initial-state inputs`, async () => {
      const x = tf.input({ shape: [T, N] });
      const h0 = tf.input({ shape: [UNITS] });
      const c0 = tf.input({ shape: [UNITS] });
      const initialState = cell === 'lstm' ? [h0, c0] : [h0];
      const out = rnn(cell, { units: UNITS, returnSequences: true }).apply(x, { initialState }) as tf.SymbolicTensor;
      const model = tf.model({ inputs: [x, ...initialState], outputs: out });
      randomize(model, 111);
      const values = [sequences(12), tf.randomNormal([BATCH, UNITS], 0, 1, 'float32', 13), tf.randomNormal([BATCH, UNITS], 0, 1, 'float32', 14)];
      const feed = values.slice(0, 1 + initialState.length);
      for (const choose of [exact.mixed(), exact.kernelOnly()]) {
        const r = await rewriteAndCompare(model, choose, feed);
        assert.ok(r.maxDiff < TOL, `max difference ${r.maxDiff}`);
      }
    });
  }
});

describe('Bidirectional', () => {
  const modes: MergeMode[] = ['concat', 'sum', 'mul', 'ave', null];
  for (const cell of CELLS) {
    for (const mergeMode of modes) {
      for (const returnSequences of [true, false]) {
        test(`${cell}, merge ${mergeMode}, return_sequences ${returnSequences}`, async () => {
          const input = tf.input({ shape: [T, N] });
          const layer = rnn(cell, { units: UNITS, returnSequences }) as tf.RNN;
          const out = tf.layers.bidirectional({ layer, mergeMode: mergeMode as 'concat' }).apply(input);
          const model = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor | tf.SymbolicTensor[] });
          randomize(model, 51);
          const r = await rewriteAndCompare(model, exact.mixed(), sequences(6));
          assert.ok(r.maxDiff < TOL, `max difference ${r.maxDiff}`);
          assert.ok(r.classes.includes('HmfBidirectional'));
        });
      }
    }
  }

  test('return_state, go_backwards inner layer, Embedding mask, Sequential', async () => {
    const input = tf.input({ shape: [T, N] });
    const layer = tf.layers.lstm({ units: UNITS, returnSequences: true, returnState: true, goBackwards: true }) as tf.RNN;
    const out = tf.layers.bidirectional({ layer, mergeMode: 'concat' }).apply(input) as tf.SymbolicTensor[];
    const model = tf.model({ inputs: input, outputs: out });
    randomize(model, 61);
    const r = await rewriteAndCompare(model, exact.hmfScattered(), sequences(7));
    assert.ok(r.maxDiff < TOL, `max difference ${r.maxDiff}`);

    const seq = tf.sequential({
      layers: [
        tf.layers.embedding({ inputDim: 20, outputDim: N, maskZero: true, inputLength: T }),
        tf.layers.bidirectional({ layer: tf.layers.gru({ units: UNITS }) as tf.RNN, mergeMode: 'sum' }),
      ],
    });
    randomize(seq, 62);
    const ids = tf.tensor2d([[3, 7, 1, 0, 0, 0, 0], [5, 0, 9, 12, 4, 0, 0]], [2, T], 'int32');
    const s = await rewriteAndCompare(seq, exact.mixed(), ids);
    assert.ok(s.maxDiff < TOL, `max difference ${s.maxDiff}`);
  });
});

describe('stock rewrites (no runtime)', () => {
  for (const cell of CELLS) {
    test(`${cell}: an LMF input kernel becomes Dense(n -> r) in front of the stock layer, with and without --portable`, async () => {
      for (const portable of [false, true]) {
        const model = tf.sequential({ layers: [rnn(cell, { units: UNITS, returnSequences: true, inputShape: [T, N] })] });
        randomize(model, 71);
        const choose: Chooser = (t, k) => (t.role === 'kernel' ? exactLmf(k) : exactHmf(k, (j) => j % 2 === 0));
        const r = await rewriteAndCompare(model, choose, sequences(8), { portable });
        assert.ok(r.maxDiff < TOL, `max difference ${r.maxDiff}`);
        if (portable) {
          assert.equal(r.runtimeRequired, false);
          assert.deepEqual(r.classes, ['Dense', cell === 'lstm' ? 'LSTM' : cell === 'gru' ? 'GRU' : 'SimpleRNN']);
          assert.ok(!JSON.stringify(r.rewritten.json).includes('Hmf'));
        } else {
          assert.equal(r.runtimeRequired, true);
        }
      }
    });
  }

  test('input kernel LMF only: stock layers even without --portable, masking kept', async () => {
    const model = tf.sequential({
      layers: [tf.layers.embedding({ inputDim: 20, outputDim: N, maskZero: true, inputLength: T }), tf.layers.lstm({ units: UNITS })],
    });
    randomize(model, 81);
    const ids = tf.tensor2d([[3, 7, 1, 0, 0, 0, 0], [5, 0, 9, 12, 4, 0, 0]], [2, T], 'int32');
    const r = await rewriteAndCompare(model, exact.kernelOnly(), ids);
    assert.ok(r.maxDiff < TOL, `max difference ${r.maxDiff}`);
    assert.equal(r.runtimeRequired, false);
    assert.deepEqual(r.classes, ['Embedding', 'Dense', 'LSTM']);
  });

  test('--portable leaves an HMF input kernel dense and says so', async () => {
    const model = single('gru', {}, 91);
    const original = await saved(model);
    const graph = parseLayersTopology(original.json.modelTopology, 'test');
    const kernel = original.weights.find((w) => w.name.endsWith('/kernel') && !w.name.endsWith('recurrent_kernel')) as Weight;
    const target = recurrentTargets(graph.layers[1], original.weights, 1, { portable: true })?.targets[0] as TargetMatrix;
    const out = rewriteLayers(graph, original.weights, [{ target, result: exactHmf(matrixOf(kernel), (j) => j < 2) }], new Map(), { portable: true });
    assert.equal(out.runtimeRequired, false);
    assert.equal(out.leftDense.length, 1);
    assert.match(out.leftDense[0].reason, /--portable/);
    assert.deepEqual(out.weights.map((w) => w.name), original.weights.map((w) => w.name));
  });

  test('TimeDistributed(Dense): LMF, HMF and pruning become stock layers', async () => {
    // Nothing absorbs a new output order here, so HMF keeps the leading outputs dense (as compress does).
    const prune: Chooser = (_t, k) => {
      const pruned = Float32Array.from(k.data, (v) => (Math.abs(v) < 0.3 ? 0 : v));
      return { kind: 'prune', pruned: { ...k, data: pruned }, params: pruned.filter((v) => v !== 0).length, error: 0 };
    };
    for (const [form, choose] of Object.entries({ lmf: exact.lmf(), hmf: exact.hmfLeading(), prune })) {
      const model = tf.sequential({
        layers: [
          tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 8, activation: 'relu' }), inputShape: [T, N] }),
          tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'softmax' }) }),
        ],
      });
      randomize(model, 101);
      const r = await rewriteAndCompare(model, (t, k) => (t.layerClass === 'TimeDistributed' && t.cols === 8 ? choose(t, k) : null), sequences(9));
      assert.equal(r.runtimeRequired, false);
      if (form === 'prune') {
        // Pruning keeps the wrapper and changes only the kernel's values.
        assert.deepEqual(r.classes, ['TimeDistributed', 'TimeDistributed']);
        const kernel = r.rewritten.weights.find((w) => w.shape[1] === 8 && w.shape.length === 2) as Weight;
        assert.ok((kernel.values as Float32Array).some((v) => v === 0));
        continue;
      }
      assert.ok(r.maxDiff < TOL, `${form}: max difference ${r.maxDiff}`);
      assert.ok(r.classes.filter((c) => c === 'Dense').length >= 2, r.classes.join(','));
      assert.ok(!r.classes.some((c) => c.startsWith('Hmf')));
    }
  });
});

/** A rank-4 matrix plus a little noise: compressible, as trained weights tend to be. */
function nearlyLowRank(shape: number[], seed: number): tf.Tensor {
  const a = tf.randomNormal([shape[0], 4], 0, 1, 'float32', seed);
  const b = tf.randomNormal([4, shape[1]], 0, 0.3, 'float32', seed + 1);
  return tf.add(tf.matMul(a, b), tf.randomNormal(shape, 0, 0.01, 'float32', seed + 2));
}

describe('real factors', () => {
  test('LMF and HMF from the methods run; the output error is small at factor 2 and grows at factor 8', async () => {
    const units = 32;
    const input = tf.input({ shape: [T, 16] });
    const out = tf.layers.lstm({ units, returnSequences: true }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.setWeights(model.getWeights().map((w, i) => (w.rank === 2 ? nearlyLowRank(w.shape, 7 * i) : tf.randomNormal(w.shape, 0, 0.1, 'float32', i))));
    const x = tf.randomNormal([4, T, 16], 0, 1, 'float32', 5);
    const reference = model.predict(x) as tf.Tensor;
    const errors: Record<string, number> = {};
    for (const factor of [2, 8]) {
      for (const method of ['lmf', 'hmf'] as const) {
        const choose: Chooser = (t, k) => {
          const budget = Math.floor((t.rows * t.cols) / factor);
          return method === 'lmf' ? lmf(k, budget, { seed: 1 }) : hmf(k, budget, { seed: 1, selection: 'residual' });
        };
        const r = await rewriteAndCompare(model, choose, x);
        assert.ok(r.runtimeRequired);
        const loaded = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(r.rewritten)));
        const y = loaded.predict(x) as tf.Tensor;
        errors[`${method}${factor}`] = tf.norm(tf.sub(y, reference)).dataSync()[0] / tf.norm(reference).dataSync()[0];
      }
    }
    // Factor 2 keeps the rank-4 structure (small error); factor 8 cannot (rank 1 for the input kernel).
    assert.ok(errors.lmf2 < 0.05 && errors.hmf2 < 0.05, JSON.stringify(errors));
    assert.ok(errors.lmf8 > errors.lmf2 && errors.hmf8 > errors.hmf2, JSON.stringify(errors));
  });
});
