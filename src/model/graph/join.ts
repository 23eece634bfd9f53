import type { Weight } from '../../io/index.js';
import type { Matrix } from '../../linalg/matrix.js';
import type { HybridFactors } from '../../methods/types.js';
import type { FusedTail } from './context.js';
import type { NodeDef } from './graphdef.js';
import { activationNode, biasAddNode, concatNode, gatherNode } from './nodes.js';

/** What the rewrite of one target may add to the graph (src/model/graph/rewrite.ts makes them). */
export interface ReplacementTools {
  /** A node name under the target node's name (`<node>/<suffix>`), not used yet. */
  take(suffix: string): string;
  /** A float Const holding `m`'s values in `shape`, stored like the target's weight (or like `like`, e.g. a bias). */
  addFloat(suffix: string, m: Matrix, shape: number[], like?: Weight): string;
  addInt32(suffix: string, values: Int32Array, shape: number[]): string;
  /** Appends a compute node (in order, where the original node was). */
  emit(node: NodeDef): void;
}

/**
 * The end of an HMF replacement: the dense part and the low-rank part `parts` joined by
 * ConcatV2 on the last axis, a GatherV2 with an int32 Const permutation when [dense |
 * low-rank] is not the original order, then `fused`'s bias (BiasAdd) and activation as their
 * own nodes. The last node takes the original node's name (and device), so consumers and
 * signature outputs still find it.
 */
export function joinParts(tools: ReplacementTools, node: NodeDef, parts: [string, string], f: HybridFactors, fused: FusedTail | null): void {
  const t = node.attr?.T;
  const axis = tools.addInt32('hmf/axis', Int32Array.of(-1), []);
  const positions = emittedPositions(f);
  const perm = positions ? tools.addInt32('hmf/order', positions, [positions.length]) : null;
  const tail: ((name: string, prev: string) => NodeDef)[] = [(name) => concatNode(name, parts, axis, t)];
  const suffixes = ['hmf/concat'];
  if (perm) {
    tail.push((name, prev) => gatherNode(name, prev, perm, axis, t));
    suffixes.push('hmf/gather');
  }
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
    const name = i === tail.length - 1 ? node.name : tools.take(suffixes[i]);
    const n = make(name, prev);
    if (i === tail.length - 1 && node.device !== undefined) n.device = node.device;
    tools.emit(n);
    prev = name;
  }
}

/** For each original output j, its position in [dense | low-rank]; null when that is already the original order. */
export function emittedPositions(f: HybridFactors): Int32Array | null {
  const emitted = [...f.denseOutputs, ...f.lowRankOutputs];
  const positions = new Int32Array(emitted.length);
  let identity = true;
  for (const [i, j] of emitted.entries()) {
    positions[j] = i;
    if (i !== j) identity = false;
  }
  return identity ? null : positions;
}
