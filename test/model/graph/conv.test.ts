/**
 * Convolutions in graph models: Conv2D (with its own BiasAdd / Add and activation nodes)
 * and _FusedConv2D (bias, activation, Prelu) with every geometry (strides, SAME, VALID,
 * EXPLICIT, dilation): with exact factors, LMF, HMF (gathered back to the original channel
 * order) and pruning compute the original function through stock tf.loadGraphModel.
 */
import { tf } from '../../../src/tf.js';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend.js';
import type { ModelFile, Weight } from '../../../src/io/index.js';
import { matrix, type Matrix } from '../../../src/linalg/matrix.js';
import { gaussianArray } from '../../../src/linalg/random.js';
import type { Compressed } from '../../../src/methods/types.js';
import { encodeString, type AttrValue, type NodeDef } from '../../../src/model/graph/graphdef.js';
import { graphKernel, rewriteGraph, scanGraph } from '../../../src/model/graph/index.js';
import { constNode, encodeFusedOps } from '../../../src/model/graph/nodes.js';
import { graphTargetInputShapes, oneNodeGraph } from '../../../src/model/graph/bench.js';
import { toArtifacts } from '../../../src/io/index.js';
import { exactHmf, exactLmf, maxAbs, maxAbsDiff, nodesOf, pruneHalf, runGraph } from './support.js';

interface ConvOptions {
  op?: 'Conv2D' | '_FusedConv2D';
  /** _FusedConv2D's fused_ops. @default ['BiasAdd', 'Relu'] */
  fusedOps?: string[];
  /** After a plain Conv2D: its own bias and activation nodes. */
  tail?: 'BiasAdd+Relu' | 'Add' | 'none';
  kernel?: [number, number];
  cin?: number;
  cout?: number;
  strides?: [number, number];
  dilations?: [number, number];
  padding?: 'SAME' | 'VALID' | 'EXPLICIT';
  explicit?: number[];
  dataFormat?: 'NHWC' | 'NCHW';
  /** The filter reaches the node through an Identity. */
  identity?: boolean;
}

const SIZE = [9, 8];
const LAYER = 'conv/op';

/** x [-1, 9, 8, cin] -> the convolution `conv/op` on Const `conv/filter` -> (tail) -> Identity `out`. */
function convGraph(o: ConvOptions = {}): { model: ModelFile; kernel: Matrix } {
  const [kh, kw] = o.kernel ?? [3, 3];
  const cin = o.cin ?? 4;
  const cout = o.cout ?? 7;
  const filter = gaussianArray(kh * kw * cin * cout, 3);
  const weights: Weight[] = [
    { name: 'conv/filter', shape: [kh, kw, cin, cout], dtype: 'float32', values: filter },
    { name: 'conv/bias', shape: [cout], dtype: 'float32', values: gaussianArray(cout, 4) },
    { name: 'conv/alpha', shape: [cout], dtype: 'float32', values: gaussianArray(cout, 5).map((v) => Math.abs(v) / 4) },
  ];
  const ints = (v: number[]): AttrValue => ({ list: { i: v.map(String) } });
  const [sh, sw] = o.strides ?? [1, 1];
  const [dh, dw] = o.dilations ?? [1, 1];
  const attr: Record<string, AttrValue> = {
    T: { type: 'DT_FLOAT' },
    strides: ints([1, sh, sw, 1]),
    dilations: ints([1, dh, dw, 1]),
    padding: { s: encodeString(o.padding ?? 'SAME') },
    data_format: { s: encodeString(o.dataFormat ?? 'NHWC') },
    explicit_paddings: o.explicit ? ints(o.explicit) : { list: {} },
    use_cudnn_on_gpu: { b: true },
  };
  const filterRef = o.identity ? 'conv/filter/read' : 'conv/filter';
  const nodes: NodeDef[] = [
    constNode('conv/filter', [kh, kw, cin, cout], 'DT_FLOAT'),
    constNode('conv/bias', [cout], 'DT_FLOAT'),
    constNode('conv/alpha', [cout], 'DT_FLOAT'),
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, ...SIZE, cin].map((d) => ({ size: String(d) })) } } } },
  ];
  if (o.identity) nodes.push({ name: 'conv/filter/read', op: 'Identity', input: ['conv/filter'], attr: { T: { type: 'DT_FLOAT' } } });
  let last = LAYER;
  if (o.op === '_FusedConv2D') {
    const ops = o.fusedOps ?? ['BiasAdd', 'Relu'];
    const args = ops[1] === 'Prelu' ? ['conv/bias', 'conv/alpha'] : ops.length ? ['conv/bias'] : [];
    nodes.push({
      name: LAYER,
      op: '_FusedConv2D',
      input: ['x', filterRef, ...args],
      attr: { ...attr, fused_ops: encodeFusedOps(ops), num_args: { i: String(args.length) }, epsilon: { f: 0 }, leakyrelu_alpha: { f: 0.2 } },
    });
  } else {
    nodes.push({ name: LAYER, op: 'Conv2D', input: ['x', filterRef], attr });
    if (o.tail === 'BiasAdd+Relu' || o.tail === undefined) {
      nodes.push({ name: 'conv/bias_add', op: 'BiasAdd', input: [LAYER, 'conv/bias'], attr: { T: { type: 'DT_FLOAT' }, data_format: { s: encodeString('NHWC') } } });
      nodes.push({ name: 'conv/relu', op: 'Relu', input: ['conv/bias_add'], attr: { T: { type: 'DT_FLOAT' } } });
      last = 'conv/relu';
    } else if (o.tail === 'Add') {
      nodes.push({ name: 'conv/add', op: 'Add', input: [LAYER, 'conv/bias'], attr: { T: { type: 'DT_FLOAT' } } });
      last = 'conv/add';
    }
  }
  nodes.push({ name: 'out', op: 'Identity', input: [last], attr: { T: { type: 'DT_FLOAT' } } });
  const json: Record<string, unknown> = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'test',
    signature: { inputs: { x: { name: 'x:0', dtype: 'DT_FLOAT' } }, outputs: { y: { name: 'out:0', dtype: 'DT_FLOAT' } } },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
  };
  return { model: { json, format: 'graph-model', weights, path: '/synthetic/model.json' }, kernel: matrix(kh * kw * cin, cout, filter) };
}

/** Rewrites the graph's one convolution with `make(K)` and checks stock TF.js computes the original function. */
async function checkExact(o: ConvOptions, make: (k: Matrix) => Compressed): Promise<NodeDef[]> {
  const { model, kernel } = convGraph(o);
  const scan = scanGraph(model, 0);
  assert.equal(scan.targets.length, 1, JSON.stringify(scan.skipped));
  const target = scan.targets[0];
  assert.deepEqual([target.rows, target.cols], [kernel.rows, kernel.cols]);
  assert.deepEqual(graphKernel(model, target).data, kernel.data, 'the filter as the (kh·kw·cin) x cout matrix');
  const result = make(kernel);
  const rewritten = rewriteGraph(model, [{ target, result }]);
  const reference = result.kind === 'prune' ? { ...model, weights: model.weights.map((w) => (w.name === 'conv/filter' ? { ...w, values: result.pruned.data } : w)) } : model;
  const x = tf.randomNormal([2, ...SIZE, o.cin ?? 4], 0, 1, 'float32', 11);
  const expected = await runGraph(reference, { x });
  const actual = await runGraph(rewritten, { x });
  x.dispose();
  assert.ok(maxAbs(expected) > 0 && expected.every(Number.isFinite), 'the original output is finite and not all zeros');
  const tolerance = 1e-5 * Math.max(1, maxAbs(expected));
  assert.ok(maxAbsDiff(expected, actual) <= tolerance, `max difference ${maxAbsDiff(expected, actual)} > ${tolerance}`);
  return nodesOf(rewritten);
}

/** Dense channels 1, 4: not the leading ones, so the joined order must be gathered back. */
const scattered = (k: Matrix) => exactHmf(k, [1, 4]);
const ops = (nodes: NodeDef[]) => nodes.filter((n) => n.op !== 'Const').map((n) => n.op);

describe('graph convolutions', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('Conv2D + BiasAdd + Relu, stride 2, SAME: LMF, scattered HMF and pruning are exact', async () => {
    const o: ConvOptions = { strides: [2, 2] };
    assert.deepEqual(ops(await checkExact(o, exactLmf)), ['Placeholder', 'Conv2D', 'Conv2D', 'BiasAdd', 'Relu', 'Identity']);
    assert.deepEqual(ops(await checkExact(o, scattered)), ['Placeholder', 'Conv2D', 'Conv2D', 'Conv2D', 'ConcatV2', 'GatherV2', 'BiasAdd', 'Relu', 'Identity']);
    await checkExact(o, pruneHalf);
  });

  it('Conv2D + Add (a bias as its own Add), VALID with dilation 2, through an Identity', async () => {
    const o: ConvOptions = { tail: 'Add', padding: 'VALID', dilations: [2, 2], identity: true };
    await checkExact(o, exactLmf);
    const nodes = await checkExact(o, (k) => exactHmf(k, [0, 1, 2]));
    assert.ok(!nodes.some((n) => n.op === 'GatherV2'), 'leading dense channels: no gather');
    assert.ok(!nodes.some((n) => n.name === 'conv/filter/read'), 'the Identity of the replaced filter is gone');
  });

  it('_FusedConv2D BiasAdd+Relu: LMF keeps the fused node; HMF splits the bias between two fused branches', async () => {
    const o: ConvOptions = { op: '_FusedConv2D', kernel: [3, 2], strides: [1, 2] };
    const lmf = await checkExact(o, exactLmf);
    assert.deepEqual(ops(lmf), ['Placeholder', 'Conv2D', '_FusedConv2D', 'Identity']);
    const hmf = await checkExact(o, scattered);
    assert.deepEqual(ops(hmf), ['Placeholder', 'Conv2D', '_FusedConv2D', '_FusedConv2D', 'ConcatV2', 'GatherV2', 'Identity']);
    assert.ok(!hmf.some((n) => n.name === 'conv/bias'), 'the split bias Const is gone (no dangling output)');
  });

  it('_FusedConv2D with BiasAdd alone, with Relu6, LeakyRelu, and Prelu (joined first, then bias and Prelu)', async () => {
    for (const fusedOps of [['BiasAdd'], ['BiasAdd', 'Relu6'], ['BiasAdd', 'LeakyRelu']]) await checkExact({ op: '_FusedConv2D', fusedOps }, scattered);
    const prelu = await checkExact({ op: '_FusedConv2D', fusedOps: ['BiasAdd', 'Prelu'] }, scattered);
    assert.deepEqual(ops(prelu).slice(-4), ['GatherV2', 'BiasAdd', 'Prelu', 'Identity']);
  });

  it('EXPLICIT padding and a 1x1 convolution', async () => {
    await checkExact({ padding: 'EXPLICIT', explicit: [0, 0, 1, 2, 0, 1, 0, 0] }, scattered);
    await checkExact({ kernel: [1, 1], cin: 6, cout: 9, strides: [2, 1] }, scattered);
  });

  it('an NCHW convolution passes through, listed with the reason', () => {
    const { model } = convGraph({ dataFormat: 'NCHW' });
    const scan = scanGraph(model, 0);
    assert.deepEqual(scan.targets, []);
    assert.deepEqual(scan.skipped.map((s) => `${s.weight} [${s.shape.join('x')}]: ${s.reason}`), ['conv/filter [3x3x4x7]: data format NCHW is not rewritten (only NHWC)']);
  });

  it('a latency micro-benchmark of one convolution: its input shape in the model, the node alone in each structure', async () => {
    const { model, kernel } = convGraph({ op: '_FusedConv2D', strides: [2, 1] });
    const target = scanGraph(model, 0).targets[0];
    const loaded = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(model)));
    const shapes = await graphTargetInputShapes(model, loaded, [target]);
    loaded.dispose();
    assert.deepEqual(shapes.get('conv/filter'), [...SIZE, 4]);
    const dense = oneNodeGraph(model, target, [...SIZE, 4], null);
    assert.deepEqual(ops(nodesOf(dense)), ['Placeholder', '_FusedConv2D', 'Identity']);
    const x = tf.randomNormal([3, ...SIZE, 4], 0, 1, 'float32', 12);
    const reference = await runGraph(model, { x });
    for (const m of [dense, oneNodeGraph(model, target, [...SIZE, 4], scattered(kernel))]) {
      const g = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(m)));
      const y = g.execute(x) as tf.Tensor;
      assert.ok(maxAbsDiff(reference, y.dataSync()) <= 1e-5 * Math.max(1, maxAbs(reference)));
      tf.dispose(y);
      g.dispose();
    }
    x.dispose();
  });
});
