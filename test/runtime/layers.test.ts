import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { registerTrainingKernels } from '../../src/backend-kernels.js';
import { HMF_LAYER_CLASSES, registerHmfLayers, type FactorsConfig } from '../../src/runtime/index.js';
import { blockLayout, factorLayout, toRanges } from '../../src/runtime/factors.js';
import { repoRoot, savedArtifacts, tempDir } from '../helpers.js';

const { HmfLSTM, HmfGRU, HmfSimpleRNN, HmfBidirectional } = registerHmfLayers(tf);

const T = 6;
const N = 4;
const UNITS = 5;


function randomize(model: tf.LayersModel, seed: number): void {
  model.setWeights(model.getWeights().map((w, i) => tf.mul(tf.randomNormal(w.shape, 0, 1, 'float32', seed + i), 0.5)));
}

function maxDiff(a: tf.Tensor | tf.Tensor[], b: tf.Tensor | tf.Tensor[]): number {
  const as = Array.isArray(a) ? a : [a];
  const bs = Array.isArray(b) ? b : [b];
  assert.equal(bs.length, as.length);
  return Math.max(...as.map((t, i) => tf.max(tf.abs(tf.sub(t, bs[i]))).dataSync()[0]));
}

const KERNEL: FactorsConfig = { rank: 3, denseRanges: [[1, 4], [9, 10]] };
const RECURRENT: FactorsConfig = { rank: 2, denseRanges: [[0, 2]] };

/** One model per runtime class, with factored matrices and non-default options. */
function runtimeModels(): Record<string, tf.LayersModel> {
  const make = (layer: tf.layers.Layer) => {
    const model = tf.sequential({ layers: [layer] });
    randomize(model, 3);
    return model;
  };
  return {
    HmfLSTM: make(new HmfLSTM({ units: UNITS, inputShape: [T, N], returnSequences: true, kernelFactors: KERNEL, recurrentKernelFactors: RECURRENT, recurrentActivation: 'sigmoid' })),
    HmfGRU: make(new HmfGRU({ units: UNITS, inputShape: [T, N], goBackwards: true, kernelFactors: null, recurrentKernelFactors: { rank: 2, denseRanges: [[3, 12]] } })),
    HmfSimpleRNN: make(new HmfSimpleRNN({ units: UNITS, inputShape: [T, N], activation: 'relu', kernelFactors: { rank: 2, denseRanges: [] }, useBias: false })),
    HmfBidirectional: make(
      new HmfBidirectional({
        inputShape: [T, N],
        mergeMode: 'ave',
        forwardLayer: { className: 'HmfLSTM', config: { name: 'forward_l', units: UNITS, returnSequences: true, kernelFactors: KERNEL } },
        backwardLayer: { className: 'HmfLSTM', config: { name: 'backward_l', units: UNITS, returnSequences: true, goBackwards: true, recurrentKernelFactors: RECURRENT } },
      }),
    ),
  };
}

before(async () => {
  await initBackend();
});

describe('factor layout', () => {
  test('ranges, dense and low-rank outputs, and the gather back to output order', () => {
    assert.deepEqual(toRanges([0, 1, 2, 5, 7, 8]), [[0, 3], [5, 6], [7, 9]]);
    assert.deepEqual(toRanges([]), []);
    const layout = factorLayout({ rank: 2, denseRanges: [[1, 3], [5, 6]] }, 7, 'k');
    assert.deepEqual([...layout.dense], [1, 2, 5]);
    assert.deepEqual([...layout.lowRank], [0, 3, 4, 6]);
    // [dense 1 2 5 | low-rank 0 3 4 6]: output j sits at gather[j].
    assert.deepEqual([...(blockLayout(layout, 0, 7).gather ?? [])], [3, 0, 1, 4, 5, 2, 6]);
    const tail = blockLayout(layout, 4, 7);
    assert.deepEqual([tail.denseFrom, tail.denseTo, tail.lowFrom, tail.lowTo], [2, 3, 2, 4]);
    assert.deepEqual([...(tail.gather ?? [])], [1, 0, 2]);
    assert.equal(blockLayout(factorLayout({ rank: 1, denseRanges: [[0, 3]] }, 7, 'k'), 0, 7).gather, null);
  });

  test('bad configs are refused with the matrix named', () => {
    assert.throws(() => factorLayout({ rank: 0, denseRanges: [] }, 4, 'kernel'), /kernel: expected a rank >= 1/);
    assert.throws(() => factorLayout({ rank: 1, denseRanges: [[2, 1]] }, 4, 'kernel'), /not an ascending range/);
    assert.throws(() => factorLayout({ rank: 1, denseRanges: [[0, 4]] }, 4, 'recurrent_kernel'), /every output is dense/);
  });
});

describe('runtime layers', () => {
  test('registerHmfLayers is idempotent and registers every class', () => {
    const first = registerHmfLayers(tf);
    assert.equal(registerHmfLayers(tf), first);
    assert.deepEqual(Object.keys(first).sort(), [...HMF_LAYER_CLASSES].sort());
    const registry = tf.serialization.SerializationMap.getMap().classNameMap;
    for (const name of HMF_LAYER_CLASSES) assert.equal(registry[name]?.[0], first[name as keyof typeof first], name);
  });

  test('registerHmfLayers without TF.js says what to pass', () => {
    assert.throws(() => registerHmfLayers(), /registerHmfLayers\(tf\): pass the TF.js you load models with/);
    assert.throws(() => registerHmfLayers({} as never), /expected the TF.js module with layers .* without tf.layers.Layer/);
  });

  test('with dense matrices each layer computes exactly what the stock layer computes', () => {
    const cases: [tf.layers.Layer, tf.layers.Layer][] = [
      [tf.layers.lstm({ units: UNITS, returnSequences: true, inputShape: [T, N] }), new HmfLSTM({ units: UNITS, returnSequences: true, inputShape: [T, N] })],
      [tf.layers.gru({ units: UNITS, returnState: true, inputShape: [T, N] }), new HmfGRU({ units: UNITS, returnState: true, inputShape: [T, N] })],
      [tf.layers.simpleRNN({ units: UNITS, goBackwards: true, inputShape: [T, N] }), new HmfSimpleRNN({ units: UNITS, goBackwards: true, inputShape: [T, N] })],
    ];
    const x = tf.randomNormal([3, T, N], 0, 1, 'float32', 1);
    for (const [stock, runtime] of cases) {
      const input = tf.input({ shape: [T, N] });
      const a = tf.model({ inputs: input, outputs: stock.apply(input) as tf.SymbolicTensor[] });
      const b = tf.model({ inputs: input, outputs: runtime.apply(input) as tf.SymbolicTensor[] });
      randomize(a, 9);
      b.setWeights(a.getWeights());
      assert.ok(maxDiff(a.predict(x), b.predict(x)) < 1e-5, stock.getClassName());
    }
  });

  test('weights are created with the factor shapes and TF.js names', () => {
    const names = runtimeModels().HmfBidirectional.weights.map((w) => `${w.originalName.split('/').slice(1).join('/')} ${w.shape.join('x')}`);
    assert.deepEqual(names, [
      'forward_l/kernel_dense 4x4',
      'forward_l/kernel_p 4x3',
      'forward_l/kernel_q 3x16',
      'forward_l/recurrent_kernel 5x20',
      'forward_l/bias 20',
      'backward_l/kernel 4x20',
      'backward_l/recurrent_kernel_dense 5x2',
      'backward_l/recurrent_kernel_p 5x2',
      'backward_l/recurrent_kernel_q 2x18',
      'backward_l/bias 20',
    ]);
  });

  for (const [name, model] of Object.entries(runtimeModels())) {
    test(`${name} survives save -> load -> save unchanged and predicts the same`, async () => {
      const first = await savedArtifacts(model);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(first));
      const second = await savedArtifacts(loaded);
      assert.deepEqual(second.modelTopology, first.modelTopology);
      assert.deepEqual(second.weightSpecs, first.weightSpecs);
      assert.deepEqual(new Uint8Array(second.weightData as ArrayBuffer), new Uint8Array(first.weightData as ArrayBuffer));
      assert.match(JSON.stringify(first.modelTopology), new RegExp(`"class_name":"${name}"`));
      const x = tf.randomNormal([2, T, N], 0, 1, 'float32', 4);
      assert.ok(maxDiff(model.predict(x), loaded.predict(x)) < 1e-6);
    });
  }

  test('a hybrid input kernel with few scattered dense outputs (k <= r, order folded into the weights) equals the stock LSTM with the expanded kernel', () => {
    const factors: FactorsConfig = { rank: 4, denseRanges: [[1, 3], [9, 10]] };
    const input = tf.input({ shape: [T, N] });
    const runtime = tf.model({ inputs: input, outputs: new HmfLSTM({ units: UNITS, returnSequences: true, kernelFactors: factors }).apply(input) as tf.SymbolicTensor });
    const stock = tf.model({ inputs: input, outputs: tf.layers.lstm({ units: UNITS, returnSequences: true }).apply(input) as tf.SymbolicTensor });
    randomize(runtime, 13);
    const [dense, p, q, recurrent, bias] = runtime.getWeights();
    const { dense: denseCols, lowRank } = factorLayout(factors, 4 * UNITS, 'kernel');
    const d = dense.arraySync() as number[][];
    const pq = tf.matMul(p, q).arraySync() as number[][];
    const kernel = d.map((row, i) => {
      const full = new Array<number>(4 * UNITS).fill(0);
      denseCols.forEach((c, j) => (full[c] = row[j]));
      lowRank.forEach((c, j) => (full[c] = pq[i][j]));
      return full;
    });
    stock.setWeights([tf.tensor2d(kernel), recurrent, bias]);
    for (const batch of [1, 9]) {
      const x = tf.randomNormal([batch, T, N], 0, 1, 'float32', 14);
      assert.ok(maxDiff(stock.predict(x), runtime.predict(x)) < 1e-5, `batch ${batch}`);
    }
  });

  test('training mode applies dropout and still runs', () => {
    const layer = new HmfLSTM({ units: UNITS, dropout: 0.5, recurrentDropout: 0.5, kernelFactors: KERNEL, recurrentKernelFactors: RECURRENT });
    const x = tf.ones([2, T, N]);
    const trained = layer.apply(x, { training: true }) as tf.Tensor;
    const inference = layer.apply(x) as tf.Tensor;
    assert.deepEqual(trained.shape, [2, UNITS]);
    assert.ok(tf.all(tf.isFinite(trained)).dataSync()[0] === 1);
    assert.ok(maxDiff(trained, inference) > 0, 'dropout changed nothing');
    assert.ok(maxDiff(inference, layer.apply(x) as tf.Tensor) === 0, 'inference is deterministic');
  });

  test('HmfLSTM steps as one product below batch 8 and gate by gate from 8: both equal the stock LSTM', () => {
    const input = tf.input({ shape: [T, N] });
    const stock = tf.model({ inputs: input, outputs: tf.layers.lstm({ units: UNITS, returnSequences: true, goBackwards: true }).apply(input) as tf.SymbolicTensor });
    const runtime = tf.model({ inputs: input, outputs: new HmfLSTM({ units: UNITS, returnSequences: true, goBackwards: true }).apply(input) as tf.SymbolicTensor });
    randomize(stock, 11);
    runtime.setWeights(stock.getWeights());
    const factored = runtimeModels().HmfLSTM;
    const x = tf.randomNormal([9, T, N], 0, 1, 'float32', 12);
    const first = tf.slice(x, 0, 1);
    assert.ok(maxDiff(stock.predict(x), runtime.predict(x)) < 1e-5, 'batch 9');
    assert.ok(maxDiff(stock.predict(first), runtime.predict(first)) < 1e-5, 'batch 1');
    const rows = tf.slice(factored.predict(x) as tf.Tensor, 0, 1);
    assert.ok(maxDiff(rows, factored.predict(first)) < 1e-5, 'factored: batch 9 row 0 vs batch 1');
  });

  // Inference on wasm takes the steps out of the sequence by download and upload, which
  // a gradient tape cannot follow; under a tape the layer must unstack instead.
  for (const name of ['HmfLSTM', 'HmfBidirectional']) {
    test(`${name}: under a gradient tape the outputs are the same and gradients reach every weight`, () => {
      registerTrainingKernels(); // the gradient of the HMF gather
      const model = runtimeModels()[name];
      const x = tf.randomNormal([2, T, N], 0, 1, 'float32', 5);
      const plain = model.predict(x) as tf.Tensor;
      let taped: tf.Tensor | null = null;
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      const { grads } = tf.variableGrads(() => {
        const y = model.apply(x) as tf.Tensor;
        taped = tf.keep(y);
        return tf.sum(tf.square(y)) as tf.Scalar;
      }, vars);
      assert.ok(taped && maxDiff(taped, plain) < 1e-6);
      assert.equal(Object.keys(grads).length, vars.length);
      for (const v of vars) assert.ok(tf.max(tf.abs(grads[v.name])).dataSync()[0] > 0, `no gradient for ${v.name}`);
    });
  }
});

describe('a separate Node process', () => {
  test('loads the models with only @tensorflow/tfjs and the built runtime entry, and predicts the same', async () => {
    const dir = tempDir();
    try {
      const x = tf.randomNormal([2, T, N], 0, 1, 'float32', 8);
      const expected: Record<string, number[]> = {};
      for (const [name, model] of Object.entries(runtimeModels())) {
        const a = await savedArtifacts(model);
        writeFileSync(join(dir, `${name}.json`), JSON.stringify({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs }));
        writeFileSync(join(dir, `${name}.bin`), new Uint8Array(a.weightData as ArrayBuffer));
        expected[name] = Array.from((model.predict(x) as tf.Tensor).dataSync());
      }
      writeFileSync(join(dir, 'input.json'), JSON.stringify({ shape: x.shape, values: Array.from(x.dataSync()) }));
      const runtime = pathToFileURL(join(repoRoot, 'dist', 'src', 'runtime', 'index.js')).href;
      const script = `
        import * as tf from '@tensorflow/tfjs';
        import { registerHmfLayers } from ${JSON.stringify(runtime)};
        import { readFileSync } from 'node:fs';
        registerHmfLayers(tf);
        const dir = ${JSON.stringify(dir)};
        const input = JSON.parse(readFileSync(dir + '/input.json', 'utf8'));
        const out = {};
        for (const name of ${JSON.stringify(Object.keys(expected))}) {
          const { modelTopology, weightSpecs } = JSON.parse(readFileSync(dir + '/' + name + '.json', 'utf8'));
          const bytes = readFileSync(dir + '/' + name + '.bin');
          const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
          const model = await tf.loadLayersModel({ load: async () => ({ modelTopology, weightSpecs, weightData }) });
          out[name] = Array.from(model.predict(tf.tensor(input.values, input.shape)).dataSync());
        }
        process.stdout.write(JSON.stringify(out));
      `;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, maxBuffer: 1 << 24 });
      const got = JSON.parse(stdout) as Record<string, number[]>;
      for (const [name, values] of Object.entries(expected)) {
        assert.equal(got[name].length, values.length, name);
        const worst = Math.max(...values.map((v, i) => Math.abs(v - got[name][i])));
        assert.ok(worst < 1e-5, `${name}: max difference ${worst}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
