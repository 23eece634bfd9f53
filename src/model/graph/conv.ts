import type { Weight } from '../../io/index.js';
import type { Compressed, HybridFactors } from '../../methods/types.js';
import type { ConvGeometry } from '../conv.js';
import { constShape, parseFused, resolveConst, type Context, type FusedTail } from './context.js';
import { decodeString, encodeString, isControlInput, type AttrValue, type NodeDef } from './graphdef.js';
import { joinParts, type ReplacementTools } from './join.js';

/**
 * Convolutions of graph models (DESIGN.md §2): Conv2D and _FusedConv2D nodes whose filter
 * (input 1) is a Const [kh, kw, cin, cout], in NHWC, as the (kh·kw·cin) x cout matrix.
 * A Conv2D followed by its own BiasAdd / activation nodes is rewritten alone: those nodes
 * read the rewritten output under the original name.
 */

export const CONV_OPS: ReadonlySet<string> = new Set(['Conv2D', '_FusedConv2D']);

/** Convolution ops with a Const filter that pass through, with the reason the report gives. */
const PASS_THROUGH: Readonly<Record<string, string>> = {
  DepthwiseConv2dNative: 'depthwise convolution: one kh x kw filter per channel, no matrix to factorize',
  FusedDepthwiseConv2dNative: 'depthwise convolution: one kh x kw filter per channel, no matrix to factorize',
  DepthwiseConv2d: 'depthwise convolution: one kh x kw filter per channel, no matrix to factorize',
  Conv2DBackpropInput: 'transposed convolution is not rewritten',
  Conv3D: '3-D convolution is not rewritten',
  Conv1D: 'Conv1D nodes are not rewritten (converted Keras Conv1D layers are Conv2D nodes, which are)',
};

/** How a convolution node uses its Const filter. */
export interface ConvSite {
  kind: 'conv';
  node: NodeDef;
  weight: Weight;
  constName: string;
  /** Identity nodes between the Const and the node, Const side first. */
  chain: string[];
  /** The input operand (input 0) as referenced. */
  x: string;
  geometry: ConvGeometry;
  /** Non-null for _FusedConv2D. */
  fused: FusedTail | null;
  /** The fused bias as a Const weight, when it is one (its parts can then be fused into each branch). */
  fusedBias: Weight | null;
  control: string[];
}

export type ConvAnalysis = { site: ConvSite } | { skip: { weight: string; layer: string; shape: number[]; reason: string } } | null;

function intList(node: NodeDef, name: string): number[] | null {
  const list = node.attr?.[name]?.list?.i;
  return list ? list.map(Number) : null;
}

function stringAttr(node: NodeDef, name: string): string | null {
  const s = node.attr?.[name]?.s;
  return s === undefined ? null : decodeString(s);
}

/** Decides whether a Conv2D / _FusedConv2D node's filter is a target (null: not a convolution with a Const filter). */
export function analyseConv(node: NodeDef, ctx: Context, minParams: number): ConvAnalysis {
  const passReason = PASS_THROUGH[node.op];
  if (!CONV_OPS.has(node.op) && passReason === undefined) return null;
  const inputs = (node.input ?? []).filter((r) => !isControlInput(r));
  if (inputs.length < 2) return null;
  const filter = resolveConst(inputs[1], ctx.byName);
  if (!filter) return null;
  const weight = ctx.weights.get(filter.node.name);
  const skip = (reason: string): ConvAnalysis => ({
    skip: { weight: filter.node.name, layer: node.name, shape: weight?.shape ?? constShape(filter.node), reason },
  });
  if (passReason !== undefined) return skip(passReason);
  if (!weight) return skip('the Const has no entry in the weights manifest');
  if (weight.shape.length !== 4) return skip(`expected a 4-D filter, found shape [${weight.shape.join(', ')}]`);
  if (weight.dtype !== 'float32') return skip(`${weight.dtype} weights are not compressed`);
  const dataFormat = stringAttr(node, 'data_format') ?? 'NHWC';
  if (dataFormat !== 'NHWC') return skip(`data format ${dataFormat} is not rewritten (only NHWC)`);
  const readers = [filter.node.name, ...filter.chain].map((n) => ctx.consumers.get(n) ?? []);
  const shared = readers.find((r) => r.length !== 1);
  if (shared) return skip(`the Const is shared by ${shared.length} nodes (${shared.slice(0, 3).join(', ')}); rewriting one use would change the others`);
  const strides = intList(node, 'strides') ?? [1, 1, 1, 1];
  const dilations = intList(node, 'dilations') ?? [1, 1, 1, 1];
  if (strides.length !== 4 || strides[0] !== 1 || strides[3] !== 1 || dilations.length !== 4 || dilations[0] !== 1 || dilations[3] !== 1) {
    return skip(`strides [${strides.join(', ')}] or dilations [${dilations.join(', ')}] act on the batch or channel axis`);
  }
  const paddingName = stringAttr(node, 'padding') ?? '';
  let padding: ConvGeometry['padding'];
  if (paddingName === 'SAME' || paddingName === 'VALID') {
    padding = paddingName === 'SAME' ? 'same' : 'valid';
  } else if (paddingName === 'EXPLICIT') {
    const e = intList(node, 'explicit_paddings') ?? [];
    if (e.length !== 8 || e[0] !== 0 || e[1] !== 0 || e[6] !== 0 || e[7] !== 0) return skip(`explicit paddings [${e.join(', ')}] pad the batch or channel axis`);
    padding = { explicit: [[e[2], e[3]], [e[4], e[5]]] };
  } else {
    return skip(`padding "${paddingName}" is not rewritten (SAME, VALID, EXPLICIT)`);
  }
  let fused: FusedTail | null = null;
  let fusedBias: Weight | null = null;
  if (node.op === '_FusedConv2D') {
    const parsed = parseFused(node, inputs.slice(2));
    if (typeof parsed === 'string') return skip(parsed);
    fused = parsed;
    const biasConst = parsed.bias ? resolveConst(parsed.bias, ctx.byName) : null;
    fusedBias = biasConst ? (ctx.weights.get(biasConst.node.name) ?? null) : null;
  }
  const [kh, kw, cin, cout] = weight.shape;
  if (kh * kw * cin * cout < minParams) return skip(`${kh * kw * cin * cout} parameters, below --min-params ${minParams}`);
  return {
    site: {
      kind: 'conv',
      node,
      weight,
      constName: filter.node.name,
      chain: filter.chain,
      x: inputs[0],
      geometry: { kernel: [kh, kw], inChannels: cin, strides: [strides[1], strides[2]], padding, dilation: [dilations[1], dilations[2]], dataFormat: 'channels_last' },
      fused,
      fusedBias,
      control: (node.input ?? []).filter(isControlInput),
    },
  };
}

/** The attributes that say how a convolution is applied. */
const GEOMETRY_ATTRS = ['strides', 'padding', 'explicit_paddings', 'dilations', 'data_format'];

/** A 1x1 convolution's geometry attributes: stride 1, VALID, no dilation. */
function pointwiseAttrs(): Record<string, AttrValue> {
  return {
    strides: { list: { i: ['1', '1', '1', '1'] } },
    padding: { s: encodeString('VALID') },
    explicit_paddings: { list: {} },
    dilations: { list: { i: ['1', '1', '1', '1'] } },
    data_format: { s: encodeString('NHWC') },
  };
}

/**
 * The nodes replacing one convolution (stock ops only):
 * - LMF: `Conv2D(x, P)` with the original geometry, then the original node (name, op, fused
 *   bias and activation) as a 1x1 convolution of that by Q;
 * - HMF: `Conv2D(x, D)` and the low-rank pair, joined by ConcatV2 on the channel axis, a
 *   GatherV2 of the channels when [dense | low-rank] is not the original order. A fused
 *   bias that is a Const is split between the two branches, which stay _FusedConv2D nodes
 *   with the activation (elementwise, so it commutes with the join); otherwise the bias and
 *   activation follow the join as their own nodes.
 */
export function convReplacement(site: ConvSite, result: Exclude<Compressed, { kind: 'prune' }>, tools: ReplacementTools): void {
  const node = site.node;
  const base = node.name;
  const t = node.attr?.T;
  const args = (node.input ?? []).filter((r) => !isControlInput(r)).slice(2);
  const g = site.geometry;
  const fullShape = (units: number) => [g.kernel[0], g.kernel[1], g.inChannels, units];
  const originalGeometry = Object.fromEntries(GEOMETRY_ATTRS.flatMap((k) => (node.attr?.[k] ? [[k, node.attr[k]]] : [])));
  const plain = (name: string, x: string, filter: string, attrs: Record<string, AttrValue>, extra: readonly string[] = []): NodeDef => ({
    name,
    op: 'Conv2D',
    input: [x, filter, ...extra],
    attr: { T: t ?? { type: 'DT_FLOAT' }, use_cudnn_on_gpu: { b: true }, ...attrs },
  });
  /** The original node (its op and fused tail) on `x` and `filter`, with `attrs` as its geometry. */
  const original = (name: string, x: string, filter: string, attrs: Record<string, AttrValue>, fusedArgs: readonly string[], extra: readonly string[] = []): NodeDef => {
    const n: NodeDef = { ...node, name, input: [x, filter, ...fusedArgs, ...extra], attr: { ...node.attr, ...attrs } };
    if (name !== base) delete n.device;
    return n;
  };

  const lowRank = result.kind === 'lmf' || (result.rank > 0 && result.lowRankOutputs.length > 0);
  const dense = result.kind === 'hmf' && result.k > 0;
  if (!dense || !lowRank) {
    if (lowRank) {
      const p = tools.addFloat('lmf/p', result.p, fullShape(result.rank));
      const q = tools.addFloat('lmf/q', result.q, [1, 1, result.rank, result.q.cols]);
      const xp = tools.take('lmf/xp');
      tools.emit(plain(xp, site.x, p, originalGeometry, site.control));
      tools.emit(original(base, xp, q, pointwiseAttrs(), args));
    } else {
      const f = result as HybridFactors;
      const d = tools.addFloat('hmf/dense', f.dense, fullShape(f.k));
      tools.emit(original(base, site.x, d, originalGeometry, args, site.control));
    }
    return;
  }

  const f = result as HybridFactors;
  const m = f.lowRankOutputs.length;
  const d = tools.addFloat('hmf/dense', f.dense, fullShape(f.k));
  const p = tools.addFloat('hmf/p', f.p, fullShape(f.rank));
  const q = tools.addFloat('hmf/q', f.q, [1, 1, f.rank, m]);
  const fused = site.fused;
  const split = fused !== null && site.fusedBias !== null && fused.activation !== 'prelu';
  const xd = tools.take('hmf/xd');
  const xp = tools.take('hmf/xp');
  const xpq = tools.take('hmf/xpq');
  tools.emit(plain(xp, site.x, p, originalGeometry, site.control));
  if (split) {
    const bias = site.fusedBias!;
    const values = bias.values as Float32Array;
    const biasOf = (suffix: string, idx: Int32Array) => tools.addFloat(suffix, { rows: 1, cols: idx.length, data: Float32Array.from(idx, (j) => values[j]) }, [idx.length], bias);
    tools.emit(original(xd, site.x, d, originalGeometry, [biasOf('hmf/dense_bias', f.denseOutputs)], site.control));
    tools.emit(original(xpq, xp, q, pointwiseAttrs(), [biasOf('hmf/q_bias', f.lowRankOutputs)]));
  } else {
    tools.emit(plain(xd, site.x, d, originalGeometry, site.control));
    tools.emit(plain(xpq, xp, q, pointwiseAttrs()));
  }
  joinParts(tools, node, [xd, xpq], f, split ? null : fused);
}
