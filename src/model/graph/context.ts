import type { ModelFile, Weight } from '../../io/index.js';
import { consumersOf, inputNodeName, isControlInput, numberAttr, parseGraphDef, stringListAttr, type GraphDef, type NodeDef } from './graphdef.js';
import { ACTIVATION_OPS } from './nodes.js';

/** What the scans of graph-model targets (MatMul-like and convolution nodes) share. */

/** What a fused node (_FusedMatMul, _FusedConv2D) applies after the product, in order: bias, then activation. */
export interface FusedTail {
  /** Input reference of the bias (fused_ops[0] = BiasAdd), or null. */
  bias: string | null;
  /** Lower-cased activation name (a key of ACTIVATION_OPS), or null. */
  activation: string | null;
  /** Prelu's alpha input reference, or LeakyRelu's alpha. */
  alpha: { tensor?: string; value?: number };
}

/** A graph model's nodes, weights and readers, for scanning and rewriting. */
export interface Context {
  graph: GraphDef;
  byName: Map<string, NodeDef>;
  weights: Map<string, Weight>;
  consumers: Map<string, string[]>;
}

export function context(model: ModelFile): Context {
  const graph = parseGraphDef(model.json.modelTopology, model.path);
  const consumers = consumersOf(graph);
  for (const ref of signatureOutputs(model.json.signature)) {
    const from = inputNodeName(ref);
    consumers.set(from, [...(consumers.get(from) ?? []), '(signature output)']);
  }
  return {
    graph,
    byName: new Map(graph.node.map((n) => [n.name, n])),
    weights: new Map(model.weights.map((w) => [w.name, w])),
    consumers,
  };
}

/** The tensor references a graph model's signature names as its outputs. */
export function signatureOutputs(signature: unknown): string[] {
  const outputs = (signature as { outputs?: Record<string, { name?: unknown }> } | undefined)?.outputs;
  if (!outputs || typeof outputs !== 'object') return [];
  return Object.values(outputs).flatMap((o) => (typeof o?.name === 'string' ? [o.name] : []));
}

/** Follows Identity nodes from `ref` to a Const; null if the chain ends elsewhere. */
export function resolveConst(ref: string, byName: Map<string, NodeDef>): { node: NodeDef; chain: string[] } | null {
  const chain: string[] = [];
  let name = inputNodeName(ref);
  for (let depth = 0; depth < 16; depth++) {
    const node = byName.get(name);
    if (!node) return null;
    if (node.op === 'Const') return { node, chain: chain.reverse() };
    const inputs = (node.input ?? []).filter((r) => !isControlInput(r));
    if (node.op !== 'Identity' || inputs.length !== 1) return null;
    chain.push(node.name);
    name = inputNodeName(inputs[0]);
  }
  return null;
}

export function constShape(node: NodeDef): number[] {
  return (node.attr?.value?.tensor?.tensorShape?.dim ?? []).map((d) => Number(d.size ?? 0));
}

/** The bias and activation a fused node (_FusedMatMul, _FusedConv2D) applies, or why they are not supported. */
export function parseFused(node: NodeDef, args: string[]): FusedTail | string {
  const ops = stringListAttr(node, 'fused_ops').map((s) => s.toLowerCase());
  if (ops.length > 2) return `fused ops [${ops.join(', ')}] are not supported`;
  if (ops.length >= 1 && ops[0] !== 'biasadd') return `fused op "${ops[0]}" is not supported (expected BiasAdd)`;
  const activation = ops[1] ?? null;
  if (activation !== null && !ACTIVATION_OPS.has(activation)) return `fused activation "${activation}" is not supported`;
  const bias = ops.length >= 1 ? args[0] ?? null : null;
  if (ops.length >= 1 && bias === null) return 'fused BiasAdd without a bias input';
  const alpha: FusedTail['alpha'] = {};
  if (activation === 'prelu') {
    if (args[1] === undefined) return 'fused Prelu without an alpha input';
    alpha.tensor = args[1];
  }
  if (activation === 'leakyrelu') alpha.value = numberAttr(node, 'leakyrelu_alpha', 0.2);
  return { bias, activation, alpha };
}
