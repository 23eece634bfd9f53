import { tf } from '../../tf.js';
import type { ModelFile, Weight } from '../../io/index.js';
import type { Compressed } from '../../methods/types.js';
import { context, resolveConst } from './context.js';
import { isControlInput, type NodeDef } from './graphdef.js';
import { constNode } from './nodes.js';
import { rewriteGraph } from './rewrite.js';
import { graphSites, type GraphTarget } from './scan.js';

/**
 * What a latency micro-benchmark of one graph target runs: the target's node alone, fed by
 * a Placeholder of `inputShape` (without the batch axis; for a convolution the model's own
 * [h, w, cin] at that node, see `graphTargetInputShapes`), its weight and fused arguments
 * as Consts, written in `result`'s structure by the real rewrite (dense when null).
 * Fused arguments that the model computes (not Consts) become zero Consts of the output
 * width: timing depends on shapes, not values.
 */
export function oneNodeGraph(model: ModelFile, target: GraphTarget, inputShape: readonly number[], result: Compressed | null): ModelFile {
  const [site] = graphSites(model, [target]);
  const ctx = context(model);
  const inputName = `${site.node.name}__bench_input`;
  const nodes: NodeDef[] = [
    { name: inputName, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [-1, ...inputShape].map((d) => ({ size: String(d) })) } } } },
  ];
  const weights: Weight[] = [];
  const addConst = (name: string, w: Weight) => {
    if (weights.some((x) => x.name === name)) return;
    nodes.push(constNode(name, w.shape, 'DT_FLOAT'));
    weights.push({ ...w, name });
  };
  addConst(site.constName, site.weight);
  const args = (site.node.input ?? []).filter((r) => !isControlInput(r)).slice(2);
  const argNames = args.map((ref, i) => {
    const c = resolveConst(ref, ctx.byName);
    const w = c ? ctx.weights.get(c.node.name) : undefined;
    if (c && w && w.dtype === 'float32') {
      addConst(c.node.name, w);
      return c.node.name;
    }
    const name = `${site.node.name}__bench_arg${i}`;
    addConst(name, { name, shape: [target.cols], dtype: 'float32', values: new Float32Array(target.cols) });
    return name;
  });
  const { device: _d, ...node } = site.node;
  nodes.push({ ...node, input: [inputName, site.constName, ...argNames] });
  nodes.push({ name: `${site.node.name}__bench_output`, op: 'Identity', input: [site.node.name], attr: { T: { type: 'DT_FLOAT' } } });
  const json = {
    format: 'graph-model',
    generatedBy: 'hmf latency micro-benchmark',
    modelTopology: { node: nodes, library: {}, versions: {} },
  };
  const single: ModelFile = { json, format: 'graph-model', weights: weights.map(({ quantization: _q, ...w }) => w), path: model.path };
  return result ? rewriteGraph(single, [{ target, result }]) : single;
}

/**
 * The shape (without the batch axis) of each target's input operand when the model runs on
 * one example of its signature's shape — a convolution's [h, w, cin] at the model's own
 * input size. Targets whose operand shape cannot be found this way are missing from the map.
 */
export async function graphTargetInputShapes(model: ModelFile, loaded: tf.GraphModel, targets: readonly GraphTarget[], async = false): Promise<Map<string, number[]>> {
  const sites = graphSites(model, targets);
  const refs = sites.map((s) => (s.x.includes(':') ? s.x : `${s.x}:0`));
  const feed: Record<string, tf.Tensor> = {};
  for (const input of loaded.inputs) {
    const shape = (input.shape ?? []).map((d, i) => (d === -1 || d === null ? (i === 0 ? 1 : 16) : d));
    feed[input.name] = tf.zeros(shape, input.dtype);
  }
  try {
    const outputs = async ? await loaded.executeAsync(feed, [...new Set(refs)]) : loaded.execute(feed, [...new Set(refs)]);
    const list = Array.isArray(outputs) ? outputs : [outputs];
    const unique = [...new Set(refs)];
    const shapes = new Map(unique.map((r, i) => [r, list[i].shape.slice(1)]));
    tf.dispose(list);
    return new Map(targets.map((t, i) => [t.weight, shapes.get(refs[i])!]));
  } finally {
    tf.dispose(Object.values(feed));
  }
}
