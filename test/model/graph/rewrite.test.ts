import { tf } from '../../../src/tf.js';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend.js';
import { encodeModel, toArtifacts, type ModelFile } from '../../../src/io/index.js';
import { matrix, type Matrix } from '../../../src/linalg/matrix.js';
import { gaussianArray } from '../../../src/linalg/random.js';
import type { Compressed } from '../../../src/methods/types.js';
import { constNode } from '../../../src/model/graph/nodes.js';
import { graphKernel, rewriteGraph, scanGraph, type GraphTarget } from '../../../src/model/graph/index.js';
import {
  LAYER,
  exactHmf,
  exactLmf,
  maxAbs,
  maxAbsDiff,
  nodesOf,
  pruneHalf,
  runGraph,
  syntheticGraph,
  transposeOf,
  type SyntheticOptions,
} from './support.js';

const BATCH = 5;

function inputFor(o: SyntheticOptions): tf.Tensor {
  const n = o.n ?? 24;
  if (o.transposeA) return tf.tensor2d(gaussianArray(n * BATCH, 99), [n, BATCH]);
  if (o.rank3) return tf.tensor3d(gaussianArray(BATCH * 3 * n, 99), [BATCH, 3, n]);
  return tf.tensor2d(gaussianArray(BATCH * n, 99), [BATCH, n]);
}

function onlyTarget(model: ModelFile): GraphTarget {
  const scan = scanGraph(model, 0);
  assert.equal(scan.targets.length, 1, `targets: ${JSON.stringify(scan.targets)}; skipped: ${JSON.stringify(scan.skipped)}`);
  return scan.targets[0];
}

/** Rewrites the synthetic graph's target with `make(K)` and checks that stock TF.js computes what the factors say. */
async function checkExact(o: SyntheticOptions, make: (k: Matrix) => Compressed): Promise<ModelFile> {
  const { model, kernel } = syntheticGraph(o);
  const target = onlyTarget(model);
  assert.deepEqual([target.rows, target.cols], [kernel.rows, kernel.cols], 'rows x cols describe K, not the stored layout');
  assert.deepEqual(graphKernel(model, target).data, kernel.data, 'graphKernel returns K');
  const result = make(kernel);
  const rewritten = rewriteGraph(model, [{ target, result }]);
  // The reference is the same graph built around K (or the pruned K). Factors are read
  // untransposed, so their reference stores K untransposed too: TF.js 4.22's wasm fused
  // matMul adds the bias wrongly when transposeB is set. A pruned Const keeps its layout.
  const pruned = result.kind === 'prune';
  const reference = syntheticGraph({ ...o, transposeB: pruned && o.transposeB, kernel: pruned ? result.pruned : kernel }).model;
  const x = inputFor(o);
  const before = await runGraph(reference, { x });
  const after = await runGraph(rewritten, { x });
  x.dispose();
  const tolerance = 1e-5 * Math.max(1, maxAbs(before));
  assert.ok(maxAbsDiff(before, after) <= tolerance, `max difference ${maxAbsDiff(before, after)} > ${tolerance}`);
  assert.ok(maxAbs(before) > 0, 'the original output is not all zeros');
  return rewritten;
}

const FORMS: [string, SyntheticOptions][] = [
  ['MatMul', { op: 'MatMul' }],
  ['MatMul, transpose_b', { op: 'MatMul', transposeB: true }],
  ['MatMul, transpose_a', { op: 'MatMul', transposeA: true }],
  ['MatMul, kernel through Identity', { op: 'MatMul', identity: true }],
  ['MatMul + BiasAdd + Relu (unfused)', { op: 'MatMul', unfusedTail: true }],
  ['_FusedMatMul BiasAdd+Relu', { op: '_FusedMatMul' }],
  ['_FusedMatMul BiasAdd+Relu, transpose_b', { op: '_FusedMatMul', transposeB: true }],
  ['_FusedMatMul BiasAdd', { op: '_FusedMatMul', fusedOps: ['BiasAdd'] }],
  ['_FusedMatMul BiasAdd+Relu6', { op: '_FusedMatMul', fusedOps: ['BiasAdd', 'Relu6'] }],
  ['_FusedMatMul BiasAdd+Elu', { op: '_FusedMatMul', fusedOps: ['BiasAdd', 'Elu'] }],
  ['_FusedMatMul BiasAdd+Sigmoid', { op: '_FusedMatMul', fusedOps: ['BiasAdd', 'Sigmoid'] }],
  ['_FusedMatMul BiasAdd+LeakyRelu(0.3)', { op: '_FusedMatMul', fusedOps: ['BiasAdd', 'LeakyRelu'], leakyreluAlpha: 0.3 }],
  ['_FusedMatMul BiasAdd+Prelu', { op: '_FusedMatMul', fusedOps: ['BiasAdd', 'Prelu'] }],
  ['BatchMatMulV2, rank-3 input, adj_y', { op: 'BatchMatMulV2', rank3: true, transposeB: true }],
  ['BatchMatMul, rank-3 input', { op: 'BatchMatMul', rank3: true }],
];

describe('rewriteGraph', () => {
  before(async () => {
    await initBackend('wasm');
  });

  for (const [label, o] of FORMS) {
    it(`${label}: exact LMF, HMF (permuted and in order) and pruning reproduce the outputs`, async () => {
      await checkExact(o, exactLmf);
      await checkExact(o, (k) => exactHmf(k, [1, 4, 5]));
      await checkExact(o, (k) => exactHmf(k, [0, 1, 2]));
      await checkExact(o, (k) => exactHmf(k, Array.from({ length: k.cols }, (_, j) => j)));
      await checkExact(o, (k) => exactHmf(k, []));
      await checkExact(o, pruneHalf);
    });
  }

  it('LMF: x P as a MatMul, then the original node (name, op, fused bias and activation) on (x P) Q', async () => {
    const out = await checkExact({ op: '_FusedMatMul', transposeB: true, identity: true }, exactLmf);
    const nodes = nodesOf(out);
    const names = nodes.map((n) => n.name);
    assert.ok(!names.includes('dense/kernel') && !names.includes('dense/kernel/read'), 'the old Const and its Identity are gone');
    assert.ok(!out.weights.some((w) => w.name === 'dense/kernel'), 'the old weight is gone from the manifest');
    const xp = nodes.find((n) => n.name === `${LAYER}/lmf/xp`);
    assert.deepEqual(xp?.op, 'MatMul');
    assert.deepEqual(xp?.input, ['x', `${LAYER}/lmf/p`]);
    const last = nodes.find((n) => n.name === LAYER);
    assert.equal(last?.op, '_FusedMatMul');
    assert.deepEqual(last?.input, [`${LAYER}/lmf/xp`, `${LAYER}/lmf/q`, 'dense/bias']);
    assert.equal(last?.attr?.transpose_b?.b, false);
    assert.deepEqual(last?.attr?.fused_ops, nodes.find((n) => n.name === LAYER)?.attr?.fused_ops);
    for (const c of [`${LAYER}/lmf/p`, `${LAYER}/lmf/q`]) {
      assert.equal(nodes.find((n) => n.name === c)?.op, 'Const');
      assert.ok(out.weights.some((w) => w.name === c), `${c} is in the manifest`);
    }
  });

  it('HMF: dense and low-rank MatMuls joined by ConcatV2, reordered by GatherV2, then BiasAdd and the activation under the original name', async () => {
    const out = await checkExact({ op: '_FusedMatMul' }, (k) => exactHmf(k, [1, 4, 5]));
    const nodes = nodesOf(out);
    const byName = new Map(nodes.map((n) => [n.name, n]));
    const concat = byName.get(`${LAYER}/hmf/concat`);
    assert.equal(concat?.op, 'ConcatV2');
    assert.deepEqual(concat?.input, [`${LAYER}/hmf/xd`, `${LAYER}/hmf/xpq`, `${LAYER}/hmf/axis`]);
    assert.equal(concat?.attr?.N?.i, '2');
    const gather = byName.get(`${LAYER}/hmf/gather`);
    assert.equal(gather?.op, 'GatherV2');
    assert.deepEqual(gather?.input, [`${LAYER}/hmf/concat`, `${LAYER}/hmf/order`, `${LAYER}/hmf/axis`]);
    const order = out.weights.find((w) => w.name === `${LAYER}/hmf/order`);
    assert.equal(order?.dtype, 'int32');
    // emitted [1, 4, 5, 0, 2, 3, 6, 7, 8, 9]: original output j sits at position order[j]
    assert.deepEqual(Array.from(order?.values as Int32Array), [3, 0, 4, 5, 1, 2, 6, 7, 8, 9]);
    assert.equal(byName.get(`${LAYER}/hmf/bias`)?.op, 'BiasAdd');
    assert.deepEqual(byName.get(`${LAYER}/hmf/bias`)?.input, [`${LAYER}/hmf/gather`, 'dense/bias']);
    assert.equal(byName.get(LAYER)?.op, 'Relu');
    assert.deepEqual(byName.get(LAYER)?.input, [`${LAYER}/hmf/bias`]);
  });

  it('HMF with the dense outputs first needs no GatherV2; a plain MatMul ends in the ConcatV2', async () => {
    const out = await checkExact({ op: 'MatMul' }, (k) => exactHmf(k, [0, 1, 2]));
    const nodes = nodesOf(out);
    assert.ok(!nodes.some((n) => n.op === 'GatherV2'));
    assert.equal(nodes.find((n) => n.name === LAYER)?.op, 'ConcatV2');
  });

  it('pruning keeps the graph and writes the zeroed Const in its stored (transposed) layout', async () => {
    const { model, kernel } = syntheticGraph({ op: 'MatMul', transposeB: true });
    const target = onlyTarget(model);
    const result = pruneHalf(kernel);
    const out = rewriteGraph(model, [{ target, result }]);
    assert.deepEqual(nodesOf(out), nodesOf(model));
    const w = out.weights.find((x) => x.name === 'dense/kernel');
    assert.deepEqual(w?.shape, [kernel.cols, kernel.rows]);
    assert.deepEqual(w?.values, transposeOf(result.pruned).data);
    assert.equal(out.weights.length, model.weights.length);
  });

  it('passes everything else through: other weights (string, int32), signature, metadata, library, versions', async () => {
    const { model, kernel } = syntheticGraph({ op: '_FusedMatMul' });
    const out = rewriteGraph(model, [{ target: onlyTarget(model), result: exactHmf(kernel, [2, 3]) }]);
    for (const name of ['dense/bias', 'dense/alpha', 'labels', 'steps']) {
      assert.equal(out.weights.find((w) => w.name === name), model.weights.find((w) => w.name === name), `${name} is the same object`);
    }
    assert.equal(out.json.signature, model.json.signature);
    assert.equal(out.json.userDefinedMetadata, model.json.userDefinedMetadata);
    assert.deepEqual(Object.keys(out.json), Object.keys(model.json));
    const topo = out.json.modelTopology as Record<string, unknown>;
    const orig = model.json.modelTopology as Record<string, unknown>;
    assert.equal(topo.library, orig.library);
    assert.equal(topo.versions, orig.versions);
    for (const n of nodesOf(model)) {
      if (n.name !== LAYER && n.name !== 'dense/kernel') assert.ok(nodesOf(out).includes(n), `${n.name} passes through`);
    }
    const names = nodesOf(out).map((n) => n.name);
    assert.equal(new Set(names).size, names.length, 'node names are unique');
    for (const n of nodesOf(out)) {
      if (n.op === 'Const') assert.ok(out.weights.some((w) => w.name === n.name), `Const ${n.name} has a weight`);
    }
  });

  it('new names avoid names already in the graph', async () => {
    const { model, kernel } = syntheticGraph({ op: 'MatMul' });
    nodesOf(model).push(constNode(`${LAYER}/lmf/p`, [1], 'DT_FLOAT'));
    model.weights.push({ name: `${LAYER}/lmf/p`, shape: [1], dtype: 'float32', values: Float32Array.of(7) });
    const out = rewriteGraph(model, [{ target: onlyTarget(model), result: exactLmf(kernel) }]);
    const names = nodesOf(out).map((n) => n.name);
    assert.ok(names.includes(`${LAYER}/lmf/p_1`));
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual(out.weights.find((w) => w.name === `${LAYER}/lmf/p`)?.values, Float32Array.of(7));
    const x = inputFor({});
    assert.ok(maxAbsDiff(await runGraph(model, { x }), await runGraph(out, { x })) < 1e-4);
    x.dispose();
  });

  it('float16 weights stay float16: the factors are written in the kernel encoding', async () => {
    const out = await checkExact({ op: '_FusedMatMul', quantization: { dtype: 'float16' } }, (k) => exactHmf(k, [1, 4, 5]));
    for (const name of [`${LAYER}/hmf/dense`, `${LAYER}/hmf/p`, `${LAYER}/hmf/q`]) {
      assert.deepEqual(out.weights.find((w) => w.name === name)?.quantization, { dtype: 'float16' }, name);
    }
    assert.equal(out.weights.find((w) => w.name === `${LAYER}/hmf/order`)?.quantization, undefined);
    const specs = toArtifacts(out).weightSpecs ?? [];
    assert.equal(specs.find((s) => s.name === `${LAYER}/hmf/p`)?.quantization?.dtype, 'float16');
    assert.equal(specs.find((s) => s.name === 'dense/bias')?.quantization?.dtype, 'float16');
  });

  it('uint8 weights stay uint8 (with their own range) and stay close', async () => {
    const { model, kernel } = syntheticGraph({ op: 'MatMul', quantization: { dtype: 'uint8', scale: 0.02, min: -2.5 } });
    // values as if decoded from the uint8 encoding
    const out = rewriteGraph(model, [{ target: onlyTarget(model), result: exactLmf(kernel) }]);
    const specs = toArtifacts(out).weightSpecs ?? [];
    assert.equal(specs.find((s) => s.name === `${LAYER}/lmf/p`)?.quantization?.dtype, 'uint8');
    assert.equal(specs.find((s) => s.name === `${LAYER}/lmf/q`)?.quantization?.dtype, 'uint8');
    const x = inputFor({});
    const before = await runGraph(model, { x });
    const after = await runGraph(out, { x });
    x.dispose();
    assert.ok(maxAbsDiff(before, after) < 0.05 * maxAbs(before), `uint8 rewrite differs by ${maxAbsDiff(before, after)}`);
  });

  it('no rewrites: the same model, byte for byte', () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    const out = rewriteGraph(model, []);
    assert.deepEqual(encodeModel(out), encodeModel(model));
  });

  it('refuses a target that scanGraph skipped, and a target rewritten twice', () => {
    const { model, kernel } = syntheticGraph({ op: 'MatMul' });
    const target = onlyTarget(model);
    const bogus: GraphTarget = { ...target, weight: 'dense/bias' };
    assert.throws(() => rewriteGraph(model, [{ target: bogus, result: exactLmf(kernel) }]), /not a compressible target/);
    assert.throws(
      () => rewriteGraph(model, [{ target, result: exactLmf(kernel) }, { target, result: pruneHalf(kernel) }]),
      /rewritten twice/,
    );
    const wrong = exactLmf(matrix(kernel.rows + 1, kernel.cols));
    assert.throws(() => rewriteGraph(model, [{ target, result: wrong }]), /dense\/mm \(24x10\)/);
  });
});
