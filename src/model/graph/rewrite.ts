import type { ModelFile, Weight } from '../../io/index.js';
import type { Matrix } from '../../linalg/matrix.js';
import type { Compressed, HybridFactors } from '../../methods/types.js';
import { isControlInput, parseGraphDef, type NodeDef } from './graphdef.js';
import { activationNode, biasAddNode, concatNode, constNode, gatherNode, matMulNode, transposeAttrNames } from './nodes.js';
import { graphSites, transpose, type GraphTarget, type MatMulSite } from './scan.js';

/** One compressed matrix to write into a graph model. */
export interface GraphRewrite {
  target: GraphTarget;
  result: Compressed;
}

/** Hands out node / weight names not used yet. */
class Names {
  private readonly used: Set<string>;
  constructor(taken: Iterable<string>) {
    this.used = new Set(taken);
  }
  take(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }
}

/** What replaces one target: the Consts (where its Const was) and the compute nodes (where the MatMul was). */
interface Replacement {
  consts: NodeDef[];
  weights: Weight[];
  compute: NodeDef[];
}

/**
 * Rewrites a graph model so that each target uses its compressed form, with stock ops only:
 * - prune: the Const keeps its node and encoding, with the zeroed values;
 * - LMF: `x P` (MatMul) then the original node (same name, op, bias and activation) on `(x P) Q`;
 * - HMF: `x K_D` and `(x P) Q` joined by ConcatV2 on the last axis, a GatherV2 with an int32 Const
 *   permutation when [dense | low-rank] is not the original output order, then the fused bias
 *   (BiasAdd) and activation of a _FusedMatMul as their own nodes; the last node keeps the original
 *   name so that consumers and signature outputs still find it.
 * Consts (and their Identity nodes) no longer read are removed from the graph and the weights.
 * Everything else is passed through as is (the same objects).
 */
export function rewriteGraph(model: ModelFile, rewrites: readonly GraphRewrite[]): ModelFile {
  if (rewrites.length === 0) return model;
  const graph = parseGraphDef(model.json.modelTopology, model.path);
  const sites = graphSites(model, rewrites.map((r) => r.target));
  const names = new Names([...graph.node.map((n) => n.name), ...model.weights.map((w) => w.name)]);
  const byConst = new Map<string, Replacement>();
  const byNode = new Map<string, NodeDef[]>();
  const dropped = new Set<string>();
  const pruned = new Map<string, Float32Array>();

  for (const [i, rw] of rewrites.entries()) {
    const site = sites[i];
    if (byNode.has(site.node.name) || pruned.has(site.constName)) throw new Error(`graph rewrite: ${site.node.name} is rewritten twice`);
    checkShape(rw.result, rw.target);
    if (rw.result.kind === 'prune') {
      pruned.set(site.constName, (site.transposeB ? transpose(rw.result.pruned) : rw.result.pruned).data);
      continue;
    }
    const r = replacement(site, rw.result, names);
    byConst.set(site.constName, r);
    byNode.set(site.node.name, r.compute);
    for (const n of site.chain) dropped.add(n);
  }

  const nodes: NodeDef[] = [];
  for (const node of graph.node) {
    const r = byConst.get(node.name);
    const compute = byNode.get(node.name);
    if (r) nodes.push(...r.consts);
    else if (compute) nodes.push(...compute);
    else if (!dropped.has(node.name)) nodes.push(node);
  }
  const weights: Weight[] = [];
  for (const w of model.weights) {
    const r = byConst.get(w.name);
    const values = pruned.get(w.name);
    if (r) weights.push(...r.weights);
    else if (values) weights.push({ ...w, values });
    else weights.push(w);
  }
  const topology = model.json.modelTopology as Record<string, unknown>;
  return { ...model, json: { ...model.json, modelTopology: { ...topology, node: nodes } }, weights };
}

function checkShape(result: Compressed, t: GraphTarget): void {
  const fail = (what: string) => {
    throw new Error(`graph rewrite: ${t.layer} (${t.rows}x${t.cols}): ${what}`);
  };
  if (result.kind === 'prune') {
    if (result.pruned.rows !== t.rows || result.pruned.cols !== t.cols) fail(`pruned matrix is ${result.pruned.rows}x${result.pruned.cols}`);
    return;
  }
  const lowRank = result.kind === 'lmf' || hasLowRank(result);
  if (lowRank && (result.p.rows !== t.rows || result.p.cols !== result.q.rows)) fail(`P is ${result.p.rows}x${result.p.cols}, Q ${result.q.rows}x${result.q.cols}`);
  if (result.kind === 'lmf') {
    if (result.q.cols !== t.cols) fail(`Q has ${result.q.cols} columns`);
    return;
  }
  if (result.denseOutputs.length + result.lowRankOutputs.length !== t.cols) fail('dense and low-rank outputs do not cover the columns');
  if (result.k > 0 && (result.dense.rows !== t.rows || result.dense.cols !== result.denseOutputs.length)) fail(`dense part is ${result.dense.rows}x${result.dense.cols}`);
  if (lowRank && result.q.cols !== result.lowRankOutputs.length) fail(`Q has ${result.q.cols} columns for ${result.lowRankOutputs.length} low-rank outputs`);
  if (!lowRank && result.lowRankOutputs.length > 0) fail('low-rank outputs without factors');
}

function hasLowRank(f: HybridFactors): boolean {
  return f.rank > 0 && f.lowRankOutputs.length > 0;
}

function replacement(site: MatMulSite, result: Exclude<Compressed, { kind: 'prune' }>, names: Names): Replacement {
  const node = site.node;
  const base = node.name;
  const t = node.attr?.T;
  const plainOp = node.op === '_FusedMatMul' ? 'MatMul' : node.op;
  const args = (node.input ?? []).filter((r) => !isControlInput(r)).slice(2);
  const r: Replacement = { consts: [], weights: [], compute: [] };
  const addMatrix = (suffix: string, m: Matrix): string => {
    const name = names.take(`${base}/${suffix}`);
    r.consts.push(constNode(name, [m.rows, m.cols], 'DT_FLOAT'));
    const w: Weight = { name, shape: [m.rows, m.cols], dtype: 'float32', values: m.data };
    if (site.weight.quantization) w.quantization = { ...site.weight.quantization };
    r.weights.push(w);
    return name;
  };
  const addInt32 = (suffix: string, values: Int32Array, shape: number[]): string => {
    const name = names.take(`${base}/${suffix}`);
    r.consts.push(constNode(name, shape, 'DT_INT32'));
    r.weights.push({ name, shape, dtype: 'int32', values });
    return name;
  };
  /** The original node (name, op, fused bias and activation) on `a b`, b read as stored. */
  const original = (a: string, b: string, transposeA: boolean, extra: readonly string[]): NodeDef => {
    const [ta, tb] = transposeAttrNames(node.op);
    return { ...node, input: [a, b, ...args, ...extra], attr: { ...node.attr, [ta]: { b: transposeA }, [tb]: { b: false } } };
  };

  const lowRank = result.kind === 'lmf' || hasLowRank(result);
  const dense = result.kind === 'hmf' && result.k > 0;
  if (!dense || !lowRank) {
    // One part covering every output in order: the original node computes it, fused tail included.
    if (lowRank) {
      const p = addMatrix('lmf/p', result.p);
      const q = addMatrix('lmf/q', result.q);
      const xp = names.take(`${base}/lmf/xp`);
      r.compute.push(matMulNode(xp, plainOp, site.x, p, site.transposeA, t, site.control));
      r.compute.push(original(xp, q, false, []));
    } else {
      const d = addMatrix('hmf/dense', (result as HybridFactors).dense);
      r.compute.push(original(site.x, d, site.transposeA, site.control));
    }
    return r;
  }

  const f = result as HybridFactors;
  const d = addMatrix('hmf/dense', f.dense);
  const p = addMatrix('hmf/p', f.p);
  const q = addMatrix('hmf/q', f.q);
  const axis = addInt32('hmf/axis', Int32Array.of(-1), []);
  const positions = emittedPositions(f);
  const perm = positions ? addInt32('hmf/order', positions, [positions.length]) : null;

  const xd = names.take(`${base}/hmf/xd`);
  const xp = names.take(`${base}/hmf/xp`);
  const xpq = names.take(`${base}/hmf/xpq`);
  r.compute.push(matMulNode(xd, plainOp, site.x, d, site.transposeA, t, site.control));
  r.compute.push(matMulNode(xp, plainOp, site.x, p, site.transposeA, t, site.control));
  r.compute.push(matMulNode(xpq, plainOp, xp, q, false, t));

  const tail: ((name: string, prev: string) => NodeDef)[] = [(name) => concatNode(name, [xd, xpq], axis, t)];
  const suffixes = ['hmf/concat'];
  if (perm) {
    tail.push((name, prev) => gatherNode(name, prev, perm, axis, t));
    suffixes.push('hmf/gather');
  }
  const fused = site.fused;
  if (fused?.bias) {
    const bias = fused.bias;
    tail.push((name, prev) => biasAddNode(name, prev, bias, t));
    suffixes.push('hmf/bias');
  }
  if (fused?.activation) {
    const activation = fused.activation;
    tail.push((name, prev) => activationNode(name, activation, prev, t, fused.alpha));
    suffixes.push('hmf/activation');
  }
  let prev = '';
  for (const [i, make] of tail.entries()) {
    const name = i === tail.length - 1 ? base : names.take(`${base}/${suffixes[i]}`);
    const n = make(name, prev);
    if (i === tail.length - 1 && node.device !== undefined) n.device = node.device;
    r.compute.push(n);
    prev = name;
  }
  return r;
}

/**
 * For each original output j, its position in [dense | low-rank]; null when that is already
 * the original order.
 */
function emittedPositions(f: HybridFactors): Int32Array | null {
  const emitted = [...f.denseOutputs, ...f.lowRankOutputs];
  const positions = new Int32Array(emitted.length);
  let identity = true;
  for (const [i, j] of emitted.entries()) {
    positions[j] = i;
    if (i !== j) identity = false;
  }
  return identity ? null : positions;
}
