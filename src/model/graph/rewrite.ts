import type { ModelFile, Weight } from '../../io/index.js';
import type { Matrix } from '../../linalg/matrix.js';
import type { Compressed, HybridFactors } from '../../methods/types.js';
import { signatureOutputs } from './context.js';
import { inputNodeName, isControlInput, parseGraphDef, type NodeDef } from './graphdef.js';
import { convReplacement } from './conv.js';
import { joinParts, type ReplacementTools } from './join.js';
import { constNode, matMulNode, transposeAttrNames } from './nodes.js';
import { graphSites, transpose, type GraphSite, type GraphTarget, type MatMulSite } from './scan.js';

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
      pruned.set(site.constName, (site.kind === 'matmul' && site.transposeB ? transpose(rw.result.pruned) : rw.result.pruned).data);
      continue;
    }
    const r = replacement(site, rw.result, names);
    byConst.set(site.constName, r);
    byNode.set(site.node.name, r.compute);
    for (const n of site.chain) dropped.add(n);
  }

  const assembled: NodeDef[] = [];
  for (const node of graph.node) {
    const r = byConst.get(node.name);
    const compute = byNode.get(node.name);
    if (r) assembled.push(...r.consts);
    else if (compute) assembled.push(...compute);
    else if (!dropped.has(node.name)) assembled.push(node);
  }
  const unread = unreadOperands(graph.node, assembled, [...byNode.keys()], signatureOutputs(model.json.signature));
  const nodes = assembled.filter((n) => !unread.has(n.name));
  const weights: Weight[] = [];
  for (const w of model.weights) {
    if (unread.has(w.name)) continue;
    const r = byConst.get(w.name);
    const values = pruned.get(w.name);
    if (r) weights.push(...r.weights);
    else if (values) weights.push({ ...w, values });
    else weights.push(w);
  }
  const topology = model.json.modelTopology as Record<string, unknown>;
  return { ...model, json: { ...model.json, modelTopology: { ...topology, node: nodes } }, weights };
}

/**
 * Consts (and Identity nodes on them) that only the replaced nodes read and that nothing
 * reads any more — a fused bias split into one Const per branch: removed too, or TF.js would
 * take a dangling Const of a model without a signature for an output.
 */
function unreadOperands(original: readonly NodeDef[], nodes: readonly NodeDef[], replaced: readonly string[], outputs: readonly string[]): Set<string> {
  const byName = new Map(original.map((n) => [n.name, n]));
  const candidates = new Set<string>();
  const visit = (ref: string) => {
    const node = byName.get(inputNodeName(ref));
    if (!node || (node.op !== 'Const' && node.op !== 'Identity') || candidates.has(node.name)) return;
    candidates.add(node.name);
    if (node.op === 'Identity') for (const r of node.input ?? []) visit(r);
  };
  for (const name of replaced) for (const ref of byName.get(name)?.input ?? []) visit(ref);
  const unread = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    const read = new Set([...outputs, ...nodes.filter((n) => !unread.has(n.name)).flatMap((n) => n.input ?? [])].map(inputNodeName));
    for (const name of candidates) {
      if (!unread.has(name) && !read.has(name) && nodes.some((n) => n.name === name)) {
        unread.add(name);
        changed = true;
      }
    }
  }
  return unread;
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

/** The Consts and compute nodes replacing one target, built through ReplacementTools. */
function replacement(site: GraphSite, result: Exclude<Compressed, { kind: 'prune' }>, names: Names): Replacement {
  const base = site.node.name;
  const r: Replacement = { consts: [], weights: [], compute: [] };
  const tools: ReplacementTools = {
    take: (suffix) => names.take(`${base}/${suffix}`),
    addFloat(suffix, m, shape, like = site.weight) {
      const name = names.take(`${base}/${suffix}`);
      r.consts.push(constNode(name, shape, 'DT_FLOAT'));
      const w: Weight = { name, shape, dtype: 'float32', values: m.data };
      if (like.quantization) w.quantization = { ...like.quantization };
      r.weights.push(w);
      return name;
    },
    addInt32(suffix, values, shape) {
      const name = names.take(`${base}/${suffix}`);
      r.consts.push(constNode(name, shape, 'DT_INT32'));
      r.weights.push({ name, shape, dtype: 'int32', values });
      return name;
    },
    emit: (node) => r.compute.push(node),
  };
  if (site.kind === 'conv') convReplacement(site, result, tools);
  else matMulReplacement(site, result, tools);
  return r;
}

function matMulReplacement(site: MatMulSite, result: Exclude<Compressed, { kind: 'prune' }>, tools: ReplacementTools): void {
  const node = site.node;
  const t = node.attr?.T;
  const plainOp = node.op === '_FusedMatMul' ? 'MatMul' : node.op;
  const args = (node.input ?? []).filter((r) => !isControlInput(r)).slice(2);
  const addMatrix = (suffix: string, m: Matrix) => tools.addFloat(suffix, m, [m.rows, m.cols]);
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
      const xp = tools.take('lmf/xp');
      tools.emit(matMulNode(xp, plainOp, site.x, p, site.transposeA, t, site.control));
      tools.emit(original(xp, q, false, []));
    } else {
      const d = addMatrix('hmf/dense', (result as HybridFactors).dense);
      tools.emit(original(site.x, d, site.transposeA, site.control));
    }
    return;
  }

  const f = result as HybridFactors;
  const d = addMatrix('hmf/dense', f.dense);
  const p = addMatrix('hmf/p', f.p);
  const q = addMatrix('hmf/q', f.q);
  const xd = tools.take('hmf/xd');
  const xp = tools.take('hmf/xp');
  const xpq = tools.take('hmf/xpq');
  tools.emit(matMulNode(xd, plainOp, site.x, d, site.transposeA, t, site.control));
  tools.emit(matMulNode(xp, plainOp, site.x, p, site.transposeA, t, site.control));
  tools.emit(matMulNode(xpq, plainOp, xp, q, false, t));
  joinParts(tools, node, [xd, xpq], f, site.fused);
}
