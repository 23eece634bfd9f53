/**
 * Which convolutions hmf rewrites and which pass through, by share of each published
 * convnet's parameters and multiply-accumulates (MACs) at batch 1 and the model's own input
 * size: issue 15's evidence for which pass-through kinds (depthwise, transposed, grouped)
 * deserve an issue of their own. Counts weights only (no BatchNorm, biases, PReLU alphas);
 * MACs of a convolution are its output positions x its filter size (a transposed one: its
 * input positions x its filter size), of a MatMul its rows x its matrix size. Not here:
 * faceboxes and rvm (they run through executeAsync; rvm's input size is not fixed).
 *
 *   npm run build && node dist/scripts/fetch-published.js && node dist/scripts/fetch-human-models.js
 *   node dist/scripts/conv-shares.js
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { fileLoader, readModel } from '../src/io/index.js';
import { context, constShape, resolveConst } from '../src/model/graph/context.js';
import { inputNodeName, isControlInput } from '../src/model/graph/graphdef.js';
import { tf } from '../src/tf.js';
import { humanModelPath } from './fetch-human-models.js';
import { publishedModelDir } from './fetch-published.js';
type Kind = 'conv kxk' | 'conv 1x1' | 'depthwise' | 'transposed' | 'grouped' | 'dense / MatMul';
const KINDS: Kind[] = ['conv kxk', 'conv 1x1', 'depthwise', 'transposed', 'grouped', 'dense / MatMul'];

interface Op {
  kind: Kind;
  params: number;
  macs: number;
}

const product = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);
/** Positions of an NHWC (or NWC) activation without batch and channel axes. */
const positions = (shape: readonly (number | null)[]) => product(shape.slice(1, -1).map((d) => d ?? 1));

function convKind(kernel: readonly number[], groups: number): Kind {
  if (groups > 1) return 'grouped';
  return product(kernel.slice(0, -2)) === 1 ? 'conv 1x1' : 'conv kxk';
}

async function layersOps(path: string): Promise<Op[]> {
  const model = await tf.loadLayersModel(fileLoader(path));
  const ops: Op[] = [];
  const walk = (layers: tf.layers.Layer[]) => {
    for (const layer of layers) {
      const name = layer.getClassName();
      if (name === 'Model' || name === 'Sequential' || name === 'Functional') {
        walk((layer as unknown as tf.LayersModel).layers);
        continue;
      }
      const kernel = layer.weights.find((w) => /kernel$/.test(w.originalName))?.shape as number[] | undefined;
      if (!kernel) continue;
      const out = layer.outputShape as (number | null)[];
      const params = product(kernel);
      if (name === 'Dense') ops.push({ kind: 'dense / MatMul', params, macs: params * positions([null, ...out.slice(1)]) });
      else if (name === 'DepthwiseConv2D') ops.push({ kind: 'depthwise', params, macs: params * positions(out) });
      else if (name === 'Conv2DTranspose') ops.push({ kind: 'transposed', params, macs: params * positions((layer.input as tf.SymbolicTensor).shape) });
      else if (name === 'Conv1D' || name === 'Conv2D') {
        const groups = Number((layer.getConfig() as { groups?: number }).groups ?? 1);
        ops.push({ kind: convKind(kernel, groups), params, macs: params * positions(out) });
      }
    }
  };
  walk(model.layers);
  model.dispose();
  return ops;
}

const GRAPH_KINDS: Record<string, 'conv' | 'depthwise' | 'transposed' | 'matmul'> = {
  Conv2D: 'conv',
  _FusedConv2D: 'conv',
  DepthwiseConv2dNative: 'depthwise',
  FusedDepthwiseConv2dNative: 'depthwise',
  Conv2DBackpropInput: 'transposed',
  MatMul: 'matmul',
  _FusedMatMul: 'matmul',
  BatchMatMul: 'matmul',
  BatchMatMulV2: 'matmul',
};

async function graphOps(path: string): Promise<Op[]> {
  const file = await readModel(path);
  const ctx = context(file);
  const nodes = ctx.graph.node.filter((n) => GRAPH_KINDS[n.op]);
  // The operand each node's MACs are counted over: the data input (out_backprop for a transposed conv).
  const operand = (n: (typeof nodes)[number]) => {
    const inputs = (n.input ?? []).filter((r) => !isControlInput(r));
    return GRAPH_KINDS[n.op] === 'transposed' ? inputs[2] : inputs[0];
  };
  const model = await tf.loadGraphModel(fileLoader(path));
  const feed: Record<string, tf.Tensor> = {};
  for (const input of model.inputs) feed[input.name] = tf.zeros((input.shape ?? []).map((d) => (d === -1 ? 1 : d)), input.dtype);
  const refs = [...new Set(nodes.flatMap((n) => [n.name, operand(n)]))].map((r) => (r.includes(':') ? r : `${r}:0`));
  const outs = model.execute(feed, refs) as tf.Tensor[];
  const shapes = new Map(refs.map((r, i) => [inputNodeName(r), outs[i].shape]));
  tf.dispose([...outs, ...Object.values(feed)]);
  model.dispose();
  const ops: Op[] = [];
  for (const n of nodes) {
    const filter = resolveConst((n.input ?? [])[1], ctx.byName);
    if (!filter) continue; // a product of two activations: no weights
    const kernel = constShape(filter.node);
    const params = product(kernel);
    const out = shapes.get(n.name)!;
    const x = shapes.get(inputNodeName(operand(n)))!;
    const kind = GRAPH_KINDS[n.op];
    if (kind === 'matmul') ops.push({ kind: 'dense / MatMul', params, macs: params * product(x.slice(0, -1)) });
    else if (kind === 'depthwise') ops.push({ kind: 'depthwise', params, macs: params * positions(out) });
    else if (kind === 'transposed') ops.push({ kind: 'transposed', params, macs: params * positions(x) });
    else ops.push({ kind: convKind(kernel, x[x.length - 1] / kernel[2]), params, macs: params * positions(out) });
  }
  return ops;
}

const models: [string, string, 'layers' | 'graph'][] = [
  ['MobileNetV2 (nsfwjs)', join(publishedModelDir(), 'model.json'), 'layers'],
  ['faceres-deep', humanModelPath('faceres-deep'), 'graph'],
  ['faceres', humanModelPath('faceres'), 'graph'],
  ['gear', humanModelPath('gear'), 'graph'],
  ['meet', humanModelPath('meet'), 'graph'],
];

await initBackend('wasm');
const pct = (x: number, total: number) => (x === 0 ? '-' : x / total < 0.001 ? '<0.1%' : `${((100 * x) / total).toFixed(1)}%`);
const rows = [
  `| model | weights / MACs (batch 1) | ${KINDS.join(' | ')} |`,
  `|---|--:|${KINDS.map(() => '--:').join('|')}|`,
];
for (const [name, path, format] of models) {
  if (!existsSync(path)) throw new Error(`${path} is missing: fetch it first (see the header of this script)`);
  const ops = format === 'layers' ? await layersOps(path) : await graphOps(path);
  const params = ops.reduce((a, o) => a + o.params, 0);
  const macs = ops.reduce((a, o) => a + o.macs, 0);
  const sum = (kind: Kind, key: 'params' | 'macs') => ops.filter((o) => o.kind === kind).reduce((a, o) => a + o[key], 0);
  rows.push(`| ${name} | ${(params / 1e6).toFixed(2)} M weights | ${KINDS.map((k) => pct(sum(k, 'params'), params)).join(' | ')} |`);
  rows.push(`| | ${(macs / 1e6).toFixed(0)} M MACs | ${KINDS.map((k) => pct(sum(k, 'macs'), macs)).join(' | ')} |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
