import type { ModelFile, Weight } from '../../io/index.js';
import { matrix, type Matrix } from '../../linalg/matrix.js';
import { constShape, context, parseFused, resolveConst, type Context, type FusedTail } from './context.js';
import { boolAttr, inputNodeName, isControlInput, type GraphDef, type NodeDef } from './graphdef.js';
import { transposeAttrNames } from './nodes.js';
import { TFJS_GRAPH_OPS } from './ops.js';
import { analyseConv, type ConvSite } from './conv.js';
import type { ConvGeometry } from '../conv.js';

/**
 * A Const weight the methods may compress: the 2-D weight of a MatMul-like node (y = x K,
 * K n x m) or the filter of a convolution (its im2col matrix).
 */
export interface GraphTarget {
  /** Name of the Const (and of its manifest weight). */
  weight: string;
  /** The MatMul-like node's name. */
  layer: string;
  /** The node's op: MatMul | BatchMatMul | BatchMatMulV2 | _FusedMatMul. */
  layerClass: string;
  role: 'kernel';
  /** n and m of K as used in y = x K (the stored Const may be K^T). */
  rows: number;
  cols: number;
  /** Graph rewrites restore the output order themselves. */
  orderAbsorbers: null;
  /** Convolutions: the filter [kh, kw, cin, cout] as (kh·kw·cin) x cout, applied so (src/model/graph/conv.ts). */
  conv?: ConvGeometry;
}

export interface GraphSkipped {
  weight: string;
  layer: string;
  shape: number[];
  reason: string;
}

export interface GraphScan {
  targets: GraphTarget[];
  skipped: GraphSkipped[];
  /** Nodes whose op stock TF.js does not know; passed through untouched. */
  unknownOps: { layer: string; className: string }[];
}

export const MATMUL_OPS: ReadonlySet<string> = new Set(['MatMul', 'BatchMatMul', 'BatchMatMulV2', '_FusedMatMul']);

/** How a MatMul-like node uses its Const weight (input 1). */
export interface MatMulSite {
  kind: 'matmul';
  node: NodeDef;
  weight: Weight;
  /** The Const node's name (= weight name). */
  constName: string;
  /** Identity nodes between the Const and the MatMul, Const side first. */
  chain: string[];
  /** The activation operand (input 0) as referenced. */
  x: string;
  transposeA: boolean;
  /** The Const stores K^T. */
  transposeB: boolean;
  /** Non-null for _FusedMatMul. */
  fused: FusedTail | null;
  /** `^name` inputs of the node. */
  control: string[];
}

/** Where a target's weight is used: a MatMul-like node or a convolution. */
export type GraphSite = MatMulSite | ConvSite;

type Analysis = { site: GraphSite } | { skip: GraphSkipped } | null;

function analyse(node: NodeDef, ctx: Context, minParams: number): Analysis {
  if (!MATMUL_OPS.has(node.op)) return analyseConv(node, ctx, minParams);
  const inputs = (node.input ?? []).filter((r) => !isControlInput(r));
  if (inputs.length < 2) return null;
  const right = resolveConst(inputs[1], ctx.byName);
  const left = resolveConst(inputs[0], ctx.byName);
  const skipOf = (c: { node: NodeDef }, reason: string): Analysis => ({
    skip: { weight: c.node.name, layer: node.name, shape: ctx.weights.get(c.node.name)?.shape ?? constShape(c.node), reason },
  });
  if (!right) {
    if (left && constShape(left.node).length === 2) {
      return skipOf(left, `the Const is the left operand (input 0) of ${node.op}; only x K with K on input 1 is rewritten`);
    }
    return null;
  }
  if (left) return skipOf(right, `both operands of ${node.op} are constants`);
  const weight = ctx.weights.get(right.node.name);
  if (!weight) return skipOf(right, 'the Const has no entry in the weights manifest');
  if (weight.shape.length !== 2) return skipOf(right, `expected a 2-D Const, found shape [${weight.shape.join(', ')}]`);
  if (weight.dtype !== 'float32') return skipOf(right, `${weight.dtype} weights are not compressed`);

  const readers = [right.node.name, ...right.chain].map((n) => ctx.consumers.get(n) ?? []);
  const shared = readers.find((r) => r.length !== 1);
  if (shared) {
    return skipOf(right, `the Const is shared by ${shared.length} nodes (${shared.slice(0, 3).join(', ')}); rewriting one use would change the others`);
  }
  const [ta, tb] = transposeAttrNames(node.op);
  const transposeB = boolAttr(node, tb);
  const [rows, cols] = transposeB ? [weight.shape[1], weight.shape[0]] : [weight.shape[0], weight.shape[1]];
  let fused: FusedTail | null = null;
  if (node.op === '_FusedMatMul') {
    const parsed = parseFused(node, inputs.slice(2));
    if (typeof parsed === 'string') return skipOf(right, parsed);
    fused = parsed;
  }
  if (rows * cols < minParams) return skipOf(right, `${rows * cols} parameters, below --min-params ${minParams}`);
  return {
    site: {
      kind: 'matmul',
      node,
      weight,
      constName: right.node.name,
      chain: right.chain,
      x: inputs[0],
      transposeA: boolAttr(node, ta),
      transposeB,
      fused,
      control: (node.input ?? []).filter(isControlInput),
    },
  };
}

function targetOf(site: GraphSite): GraphTarget {
  if (site.kind === 'conv') {
    const [kh, kw, cin, cout] = site.weight.shape;
    return { weight: site.weight.name, layer: site.node.name, layerClass: site.node.op, role: 'kernel', rows: kh * kw * cin, cols: cout, orderAbsorbers: null, conv: site.geometry };
  }
  const [rows, cols] = site.transposeB ? [site.weight.shape[1], site.weight.shape[0]] : [site.weight.shape[0], site.weight.shape[1]];
  return { weight: site.weight.name, layer: site.node.name, layerClass: site.node.op, role: 'kernel', rows, cols, orderAbsorbers: null };
}

/** MatMuls inside `library` functions (control-flow bodies) stay as they are; listed when they have a 2-D Const operand. */
function functionMatMuls(graph: GraphDef): GraphSkipped[] {
  const skipped: GraphSkipped[] = [];
  for (const fn of graph.library?.function ?? []) {
    const nodes = fn.nodeDef ?? [];
    const byName = new Map(nodes.map((n) => [n.name, n]));
    for (const node of nodes) {
      if (!MATMUL_OPS.has(node.op)) continue;
      const operand = byName.get(inputNodeName(node.input?.[1] ?? ''));
      if (operand?.op !== 'Const' || constShape(operand).length !== 2) continue;
      skipped.push({
        weight: operand.name,
        layer: node.name,
        shape: constShape(operand),
        reason: `inside graph function "${fn.signature?.name ?? '?'}" (control-flow bodies are not rewritten)`,
      });
    }
  }
  return skipped;
}

/** Finds the MatMul-like nodes of a graph model whose weight is a 2-D Const and decides which to compress. */
export function scanGraph(model: ModelFile, minParams: number): GraphScan {
  const ctx = context(model);
  const targets: GraphTarget[] = [];
  const skipped: GraphSkipped[] = [];
  for (const node of ctx.graph.node) {
    const a = analyse(node, ctx, minParams);
    if (a === null) continue;
    if ('site' in a) targets.push(targetOf(a.site));
    else skipped.push(a.skip);
  }
  skipped.push(...functionMatMuls(ctx.graph));
  const unknownOps: GraphScan['unknownOps'] = [];
  const all = [...ctx.graph.node, ...(ctx.graph.library?.function ?? []).flatMap((f) => f.nodeDef ?? [])];
  for (const node of all) if (!TFJS_GRAPH_OPS.has(node.op)) unknownOps.push({ layer: node.name, className: node.op });
  return { targets, skipped, unknownOps };
}

/** The sites of `targets` in the model, in the same order; throws if one is not a valid target. */
export function graphSites(model: ModelFile, targets: readonly GraphTarget[]): GraphSite[] {
  const ctx = context(model);
  return targets.map((t) => {
    const node = ctx.byName.get(t.layer);
    const a = node ? analyse(node, ctx, 0) : null;
    if (!a || !('site' in a) || a.site.constName !== t.weight) {
      const why = a && 'skip' in a ? a.skip.reason : 'no MatMul-like or convolution node of that name with that Const';
      throw new Error(`graph: ${t.layer} / ${t.weight} is not a compressible target: ${why}`);
    }
    return a.site;
  });
}

/** K (n x m) of a target: the stored Const, transposed when the node reads it transposed. */
export function graphKernel(model: ModelFile, t: GraphTarget): Matrix {
  const [site] = graphSites(model, [t]);
  return kernelOf(site);
}

export function kernelOf(site: GraphSite): Matrix {
  const values = site.weight.values as Float32Array;
  if (site.kind === 'conv') {
    const cols = site.weight.shape[3];
    return matrix(values.length / cols, cols, values.slice());
  }
  const [s0, s1] = site.weight.shape;
  return site.transposeB ? transpose(matrix(s0, s1, values)) : matrix(s0, s1, values.slice());
}

export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j];
  return matrix(m.cols, m.rows, out);
}
