import type { Weight } from '../io/index.js';
import type { Compressed, HybridFactors, LowRankFactors } from '../methods/types.js';
import { isRecurrentTarget, rewriteRecurrent, unwrapTimeDistributed } from './recurrent.js';
import { convParts, splitSeparable } from './conv.js';
import { denseConfig, denseParts, inputShapeOf, vectorOf, weightOf, type PartBuilder } from './layerJson.js';
import { findLayerWeight, type SkippedMatrix, type TargetMatrix } from './targets.js';
import { layerName, toFunctional, type InboundRef, type LayerJson, type LayersGraph } from './topology.js';

/** One compressed matrix to write into the model. */
export interface MatrixRewrite {
  target: TargetMatrix;
  result: Compressed;
}

export interface RewrittenLayers {
  graph: LayersGraph;
  weights: Weight[];
  /** The output uses hmf runtime layers (factored recurrent layers). */
  runtimeRequired: boolean;
  /** Compressed matrices the rewrite had to leave dense, with the reason. */
  leftDense: SkippedMatrix[];
}

export interface RewriteOptions {
  /** No hmf runtime layers in the output (--portable). @default false */
  portable?: boolean;
}

/** Activations that act on each output on its own, so they may run on the parts before a join. */
const ELEMENTWISE_ACTIVATIONS = new Set([
  'linear', 'relu', 'relu6', 'elu', 'selu', 'sigmoid', 'hard_sigmoid', 'hardSigmoid', 'tanh', 'softplus',
  'softsign', 'swish', 'mish', 'gelu', 'gelu_new',
]);

/**
 * Rewrites a layers model so that each target uses its compressed form, with stock
 * TF.js layers only (docs/ARCHITECTURE.md §3):
 * - prune: the kernel keeps its place with the pruned values;
 * - LMF: Dense -> Dense(r, no bias) -> Dense(m); Embedding -> Embedding(r) -> Dense(m, no bias);
 * - HMF: the dense outputs and the low-rank path run side by side and a Concatenate joins
 *   them as [dense | low-rank]; when that is not the original order, the caller has already
 *   permuted the rows of the consuming kernels (`orderAbsorbers`).
 * `replaced` holds new values for weights that keep their shape (pruned kernels, permuted rows).
 */
export function rewriteLayers(
  graph: LayersGraph,
  weights: readonly Weight[],
  rewrites: readonly MatrixRewrite[],
  replaced: ReadonlyMap<string, Float32Array>,
  options: RewriteOptions = {},
): RewrittenLayers {
  const structural = rewrites.filter((r) => r.result.kind !== 'prune' && !isRecurrentTarget(r.target));
  const values = new Map(replaced);
  for (const r of rewrites) if (r.result.kind === 'prune') values.set(r.target.weight, r.result.pruned.data);
  const needsBranches = structural.some((r) => r.result.kind === 'hmf' && r.result.k > 0);
  const unwrapped = unwrapTimeDistributed(graph, rewrites);
  let g: LayersGraph = needsBranches ? toFunctional(unwrapped) : { ...unwrapped, layers: [...unwrapped.layers] };

  // A SeparableConv2D whose pointwise kernel is factorized: a DepthwiseConv2D, then a 1x1 Conv2D rewritten below.
  const renamed = new Map<string, string>();
  for (const rw of structural.filter((r) => r.target.layerClass === 'SeparableConv2D')) {
    const index = g.layers.findIndex((l) => layerName(l) === rw.target.layer);
    const depthwise = findLayerWeight(weights, rw.target.layer, 'depthwise_kernel');
    if (index < 0 || !depthwise) throw new Error(`rewrite: separable layer ${rw.target.layer} not in the model`);
    const split = splitSeparable(g.layers[index], depthwise);
    g = { ...g, layers: [...g.layers.slice(0, index), ...split.layers, ...g.layers.slice(index + 1)] };
    renamed.set(...split.renamed);
  }

  const newWeights = new Map<string, Weight[]>();
  const dropped = new Set<string>();
  for (const rw of structural) {
    const { layers, weights: ws, removed } = expandLayer(g, weights, rw);
    const index = g.layers.findIndex((l) => layerName(l) === rw.target.layer);
    g = { ...g, layers: [...g.layers.slice(0, index), ...layers, ...g.layers.slice(index + 1)] };
    newWeights.set(rw.target.weight, ws);
    for (const name of removed) dropped.add(name);
  }

  // Recurrent layers and Bidirectional: src/model/recurrent.ts, one call per layer.
  let runtimeRequired = false;
  const leftDense: SkippedMatrix[] = [];
  const recurrent = rewrites.filter((r) => r.result.kind !== 'prune' && isRecurrentTarget(r.target));
  if (recurrent.length > 0) {
    const current = weights.map((w) => (values.has(w.name) ? { ...w, values: values.get(w.name) as Float32Array } : w));
    for (const name of new Set(recurrent.map((r) => r.target.layer))) {
      const index = g.layers.findIndex((l) => layerName(l) === name);
      if (index < 0) throw new Error(`rewrite: layer ${name} not in the model`);
      const group = recurrent.filter((r) => r.target.layer === name);
      const rw = rewriteRecurrent(g.layers[index], group, current, { portable: options.portable, functional: g.kind === 'functional' });
      g = { ...g, layers: [...g.layers.slice(0, index), ...rw.layers, ...g.layers.slice(index + 1)] };
      const first = weights.find((w) => rw.replaces.includes(w.name));
      if (first) newWeights.set(first.name, rw.weights);
      for (const w of rw.replaces) if (w !== first?.name) dropped.add(w);
      runtimeRequired ||= rw.runtimeRequired;
      leftDense.push(...rw.leftDense);
    }
  }

  const out: Weight[] = [];
  for (const w of weights) {
    const expansion = newWeights.get(w.name);
    if (expansion) {
      out.push(...expansion);
      continue;
    }
    if (dropped.has(w.name)) continue;
    const changed = values.get(w.name);
    const name = renamed.get(w.name) ?? w.name;
    out.push(changed || name !== w.name ? { ...w, name, values: changed ?? w.values } : w);
  }
  return { graph: g, weights: out, runtimeRequired, leftDense };
}

function expandLayer(
  g: LayersGraph,
  weights: readonly Weight[],
  rw: MatrixRewrite,
): { layers: LayerJson[]; weights: Weight[]; removed: string[] } {
  const layer = g.layers.find((l) => layerName(l) === rw.target.layer);
  if (!layer) throw new Error(`rewrite: layer ${rw.target.layer} not in the model`);
  const name = rw.target.layer;
  const bias = rw.target.role === 'kernel' && layer.config.use_bias !== false ? findLayerWeight(weights, name, 'bias') : undefined;
  const removed = bias ? [bias.name] : [];
  const source = weights.find((w) => w.name === rw.target.weight);
  const result = rw.result;
  if (result.kind === 'lmf' || (result.kind === 'hmf' && result.k === 0)) {
    return { ...lowRankLayers(g, layer, rw.target, result, bias, source), removed };
  }
  if (result.kind === 'hmf') return { ...hybridLayers(g, layer, rw.target, result, bias, source), removed };
  throw new Error(`rewrite: ${result.kind} does not change the topology`);
}

/** The input edges of a functional layer (its only call). */
function inbound(layer: LayerJson): InboundRef[][] | undefined {
  return layer.inbound_nodes;
}

/** The stock layers that build a kernel target's parts: Dense layers, or convolutions (src/model/conv.ts). */
function partsOf(layer: LayerJson, target: TargetMatrix): PartBuilder {
  return target.conv ? convParts(layer, target.conv) : denseParts(layer.config, target.rows);
}

function lowRankLayers(
  g: LayersGraph,
  layer: LayerJson,
  target: TargetMatrix,
  f: LowRankFactors | HybridFactors,
  bias: Weight | undefined,
  source: Weight | undefined,
): { layers: LayerJson[]; weights: Weight[] } {
  const name = layerName(layer);
  const pName = `${name}_lmf_p`;
  const cfg = layer.config;
  if (target.role === 'embeddings') {
    const first: LayerJson = { class_name: 'Embedding', config: { ...cfg, name: pName, output_dim: f.rank } };
    const second: LayerJson = { class_name: 'Dense', config: denseConfig({}, name, target.cols, false, 'linear') };
    wire(g, layer, first, second);
    return { layers: [first, second], weights: [weightOf(`${pName}/embeddings`, f.p, source), weightOf(`${name}/kernel`, f.q, source)] };
  }
  const parts = partsOf(layer, target);
  const first = parts.full(pName, f.rank, false, 'linear');
  first.config = { ...first.config, ...inputShapeOf(cfg) };
  const second = parts.pointwise(name, target.cols, bias !== undefined, String(cfg.activation ?? innerActivation(layer)));
  wire(g, layer, first, second);
  const ws: Weight[] = [
    weightOf(`${pName}/kernel`, f.p, source, parts.fullShape(f.rank)),
    weightOf(`${name}/kernel`, f.q, source, parts.pointwiseShape(f.rank, target.cols)),
  ];
  if (bias) ws.push(bias.name === `${name}/bias` ? bias : { ...bias, name: `${name}/bias` });
  return { layers: [first, second], weights: ws };
}

/** A functional model's edges for a layer replaced by `first` -> `second` (which keeps its name). */
function wire(g: LayersGraph, layer: LayerJson, first: LayerJson, second: LayerJson): void {
  if (g.kind !== 'functional') return;
  first.name = String(first.config.name);
  first.inbound_nodes = inbound(layer);
  second.name = layerName(layer);
  second.inbound_nodes = [[[first.name, 0, 0, {}]]];
}

/** The activation of the layer a TimeDistributed wraps (the wrapper itself has none). */
function innerActivation(layer: LayerJson): string {
  const inner = layer.config.layer as { config?: { activation?: unknown } } | undefined;
  return String(inner?.config?.activation ?? 'linear');
}

function hybridLayers(
  g: LayersGraph,
  layer: LayerJson,
  target: TargetMatrix,
  f: HybridFactors,
  bias: Weight | undefined,
  source: Weight | undefined,
): { layers: LayerJson[]; weights: Weight[] } {
  if (g.kind !== 'functional') throw new Error('rewrite: HMF needs a functional graph');
  const name = layerName(layer);
  const cfg = layer.config;
  const activation = target.role === 'kernel' ? String(cfg.activation ?? innerActivation(layer)) : 'linear';
  const partsActivation = ELEMENTWISE_ACTIVATIONS.has(activation) ? activation : 'linear';
  const names = { dense: `${name}_hmf_dense`, p: `${name}_hmf_p`, q: `${name}_hmf_q`, join: `${name}_hmf_join` };
  const from = inbound(layer);
  const hasLowRank = f.rank > 0 && f.lowRankOutputs.length > 0;
  const layers: LayerJson[] = [];
  const ws: Weight[] = [];
  const biasValues = bias?.values as Float32Array | undefined;

  if (target.role === 'embeddings') {
    layers.push({ name: names.dense, class_name: 'Embedding', config: { ...cfg, name: names.dense, output_dim: f.k }, inbound_nodes: from });
    ws.push(weightOf(`${names.dense}/embeddings`, f.dense, source));
    if (hasLowRank) {
      layers.push({ name: names.p, class_name: 'Embedding', config: { ...cfg, name: names.p, output_dim: f.rank }, inbound_nodes: from });
      ws.push(weightOf(`${names.p}/embeddings`, f.p, source));
      layers.push({ ...denseLayer({}, names.q, f.lowRankOutputs.length, false, partsActivation), name: names.q, inbound_nodes: [[[names.p, 0, 0, {}]]] });
      ws.push(weightOf(`${names.q}/kernel`, f.q, source));
    }
  } else {
    const parts = partsOf(layer, target);
    layers.push({ ...parts.full(names.dense, f.k, biasValues !== undefined, partsActivation), name: names.dense, inbound_nodes: from });
    ws.push(weightOf(`${names.dense}/kernel`, f.dense, source, parts.fullShape(f.k)));
    if (biasValues) ws.push(vectorOf(`${names.dense}/bias`, pick(biasValues, f.denseOutputs), bias));
    if (hasLowRank) {
      const m = f.lowRankOutputs.length;
      layers.push({ ...parts.full(names.p, f.rank, false, 'linear'), name: names.p, inbound_nodes: from });
      ws.push(weightOf(`${names.p}/kernel`, f.p, source, parts.fullShape(f.rank)));
      layers.push({ ...parts.pointwise(names.q, m, biasValues !== undefined, partsActivation), name: names.q, inbound_nodes: [[[names.p, 0, 0, {}]]] });
      ws.push(weightOf(`${names.q}/kernel`, f.q, source, parts.pointwiseShape(f.rank, m)));
      if (biasValues) ws.push(vectorOf(`${names.q}/bias`, pick(biasValues, f.lowRankOutputs), bias));
    }
  }
  const joined = partsActivation === activation ? name : names.join;
  if (hasLowRank) {
    layers.push({
      name: joined,
      class_name: 'Concatenate',
      config: { axis: -1, name: joined, trainable: true },
      inbound_nodes: [[[names.dense, 0, 0, {}], [names.q, 0, 0, {}]]],
    });
  } else {
    // Everything dense: rename the dense part's output through a linear Activation.
    layers.push({ name: joined, class_name: 'Activation', config: { activation: 'linear', name: joined, trainable: true }, inbound_nodes: [[[names.dense, 0, 0, {}]]] });
  }
  if (joined !== name) {
    layers.push({ name, class_name: 'Activation', config: { activation, name, trainable: true }, inbound_nodes: [[[joined, 0, 0, {}]]] });
  }
  return { layers, weights: ws };
}

function denseLayer(base: Record<string, unknown>, name: string, units: number, useBias: boolean, activation: string): LayerJson {
  return { class_name: 'Dense', config: denseConfig(base, name, units, useBias, activation) };
}

function pick(v: Float32Array, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) out[i] = v[idx[i]];
  return out;
}
