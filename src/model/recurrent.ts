import type { Weight } from '../io/index.js';
import type { Matrix } from '../linalg/matrix.js';
import type { Compressed } from '../methods/types.js';
import { toRanges } from '../runtime/factors.js';
import { sparseMatrixWeights, type SparseMatrix } from './sparseEncode.js';
import type { SkippedMatrix, TargetMatrix } from './targets.js';
import { denseConfig, inputShapeOf, weightOf } from './layerJson.js';
import { layerName, type InboundRef, type LayerJson, type LayersGraph } from './topology.js';

/** Stock recurrent layers hmf compresses, with their number of gate blocks. */
const GATES: Readonly<Record<string, number>> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };

/** The runtime class replacing each stock recurrent class. */
const RUNTIME_CLASS: Readonly<Record<string, string>> = { LSTM: 'HmfLSTM', GRU: 'HmfGRU', SimpleRNN: 'HmfSimpleRNN' };

export const PORTABLE_REASON = 'needs the hmf runtime (--portable)';
const PORTABLE_BIDIRECTIONAL = 'a compressed Bidirectional input kernel needs the hmf runtime (--portable)';
const PORTABLE_LOW_RANK_ONLY =
  'HMF keeps dense outputs, which stock layers cannot join in front of a recurrent layer (--portable): use LMF';

export interface RecurrentOptions {
  /** No runtime layers in the output (`--portable`). @default false */
  portable?: boolean;
  /** Pruned matrices to store compactly (`--sparse`), by weight name. */
  sparse?: ReadonlyMap<string, SparseMatrix>;
}

/** A matrix result as the rewrite receives it (structurally `MatrixRewrite`). */
export interface RecurrentResult {
  target: TargetMatrix;
  result: Compressed;
}

export interface RecurrentRewrite {
  /** Layers replacing the original one, in order; the last keeps its name, so consumers stay wired. */
  layers: LayerJson[];
  /** Every weight of the rewritten layer(s). */
  weights: Weight[];
  /** The original weights that `weights` replace. */
  replaces: string[];
  /** True when `layers` holds hmf runtime layers. */
  runtimeRequired: boolean;
  /** Compressed matrices that had to stay dense, with the reason (normally empty: the scan avoids them). */
  leftDense: SkippedMatrix[];
}

/** One recurrent layer inside a model layer: the layer itself, or one direction of a Bidirectional. */
interface Direction {
  /** Weight-name prefix, e.g. `lstm_1` or `bidirectional_1/forward_lstm_1`. */
  prefix: string;
  className: string;
  config: Record<string, unknown>;
}

/** True for targets whose layer is rewritten here rather than by the Dense/Embedding rewrite. */
export function isRecurrentTarget(t: TargetMatrix): boolean {
  return t.layerClass in GATES || t.layerClass === 'Bidirectional';
}

/** True for layers `recurrentTargets` knows: LSTM, GRU, SimpleRNN, Bidirectional of one, TimeDistributed(Dense). */
export function isSequenceLayer(layer: LayerJson): boolean {
  return directionsOf(layer) !== null || timeDistributedDense(layer) !== null;
}

/**
 * The target matrices of a recurrent layer (kernel and recurrent kernel, each its own
 * matrix; both directions of a Bidirectional) or of the Dense inside a TimeDistributed,
 * and the 2-D weights left alone with the reason. Null when the layer is none of those.
 */
export function recurrentTargets(
  layer: LayerJson,
  weights: readonly Weight[],
  minParams: number,
  options: RecurrentOptions = {},
): { targets: TargetMatrix[]; skipped: SkippedMatrix[] } | null {
  const name = layerName(layer);
  const targets: TargetMatrix[] = [];
  const skipped: SkippedMatrix[] = [];
  const shared = (layer.inbound_nodes?.length ?? 1) > 1;
  const consider = (weight: Weight | undefined, role: 'kernel' | 'recurrent_kernel', layerClass: string, blocked: string | null, lowRankOnly?: string) => {
    if (!weight) return;
    const skip = (reason: string) => skipped.push({ weight: weight.name, layer: name, shape: weight.shape, reason });
    if (weight.shape.length !== 2) return skip(`expected a 2-D ${role}, found shape [${weight.shape.join(', ')}]`);
    if (weight.dtype !== 'float32') return skip(`${weight.dtype} weights are not compressed`);
    const [rows, cols] = weight.shape;
    if (rows * cols < minParams) return skip(`${rows * cols} parameters, below --min-params ${minParams}`);
    if (shared) return skip(`shared layer (called ${layer.inbound_nodes?.length} times); rewriting one call would change the others`);
    if (blocked) return skip(blocked);
    targets.push({
      weight: weight.name,
      layer: name,
      layerClass,
      role,
      rows,
      cols,
      orderAbsorbers: null,
      ...(lowRankOnly ? { lowRankOnly } : {}),
    });
  };

  const td = timeDistributedDense(layer);
  if (td) {
    consider(findWeight(weights, name, 'kernel'), 'kernel', 'TimeDistributed', null);
    return { targets, skipped };
  }
  const dirs = directionsOf(layer);
  if (!dirs) return null;
  const bidirectional = layer.class_name === 'Bidirectional';
  const extraInputs = (layer.inbound_nodes?.[0]?.length ?? 1) > 1;
  for (const dir of dirs) {
    let blocked: string | null = null;
    if (dir.className === 'GRU' && dir.config.reset_after === true) blocked = 'GRU with reset_after=true does not run in TF.js';
    if (bidirectional && extraInputs) blocked ??= 'Bidirectional called with initial states is not rewritten';
    const portable = options.portable === true;
    consider(
      findWeight(weights, dir.prefix, 'kernel'),
      'kernel',
      layer.class_name,
      blocked ?? (portable && bidirectional ? PORTABLE_BIDIRECTIONAL : null),
      portable ? PORTABLE_LOW_RANK_ONLY : undefined,
    );
    consider(findWeight(weights, dir.prefix, 'recurrent_kernel'), 'recurrent_kernel', layer.class_name, blocked ?? (portable ? PORTABLE_REASON : null));
  }
  return { targets, skipped };
}

/**
 * The graph with every TimeDistributed(Dense) that has a structural rewrite replaced by
 * the Dense itself under the wrapper's name: Dense acts on the last axis of any input,
 * so it computes the same function, and the Dense rewrite (LMF, HMF) then applies as is.
 */
export function unwrapTimeDistributed(graph: LayersGraph, rewrites: readonly RecurrentResult[]): LayersGraph {
  const names = new Set(rewrites.filter((r) => r.target.layerClass === 'TimeDistributed' && r.result.kind !== 'prune').map((r) => r.target.layer));
  if (names.size === 0) return graph;
  const layers = graph.layers.map((layer) => {
    const inner = names.has(layerName(layer)) ? timeDistributedDense(layer) : null;
    if (!inner) return layer;
    const outer = layer.config;
    const config: Record<string, unknown> = { ...inner, name: layerName(layer) };
    if (outer.batch_input_shape !== undefined) config.batch_input_shape = outer.batch_input_shape;
    if (outer.dtype !== undefined) config.dtype = outer.dtype;
    if (outer.trainable !== undefined) config.trainable = outer.trainable;
    const dense: LayerJson = { ...layer, class_name: 'Dense', config };
    return dense;
  });
  return { ...graph, layers };
}

/**
 * Rewrites one recurrent layer (or Bidirectional) given the results for its matrices.
 * - A factored recurrent kernel, or an HMF input kernel: the runtime layer (HmfLSTM, ...,
 *   HmfBidirectional) holding the factors; with `portable` those matrices stay dense.
 * - Otherwise an LMF input kernel of a plain layer: a stock Dense(n -> r, no bias) in
 *   front of the stock layer, whose kernel becomes Q (x K = (x P) Q).
 * `weights` must hold the current values (pruned or permuted ones already applied).
 */
export function rewriteRecurrent(
  layer: LayerJson,
  results: readonly RecurrentResult[],
  weights: readonly Weight[],
  options: RecurrentOptions & { functional: boolean },
): RecurrentRewrite {
  const dirs = directionsOf(layer);
  if (!dirs) throw new Error(`rewrite: ${layerName(layer)} (${layer.class_name}) is not a recurrent layer`);
  const name = layerName(layer);
  const byWeight = new Map(results.map((r) => [r.target.weight, r.result]));
  const leftDense: SkippedMatrix[] = [];
  const portable = options.portable === true;
  const bidirectional = layer.class_name === 'Bidirectional';

  const plans = dirs.map((dir) => {
    const kernel = requireWeight(weights, dir.prefix, 'kernel');
    const recurrent = requireWeight(weights, dir.prefix, 'recurrent_kernel');
    const bias = findWeight(weights, dir.prefix, 'bias');
    let k = factorsOf(byWeight.get(kernel.name), kernel);
    let r = factorsOf(byWeight.get(recurrent.name), recurrent);
    const ks = options.sparse?.get(kernel.name) ?? null;
    const rs = options.sparse?.get(recurrent.name) ?? null;
    const leave = (w: Weight, reason: string) => leftDense.push({ weight: w.name, layer: name, shape: w.shape, reason });
    if (portable && r) {
      leave(recurrent, PORTABLE_REASON);
      r = null;
    }
    if (portable && k && (bidirectional || k.dense.length > 0)) {
      leave(kernel, bidirectional ? PORTABLE_BIDIRECTIONAL : PORTABLE_LOW_RANK_ONLY);
      k = null;
    }
    return { dir, kernel, recurrent, bias, k, r, ks, rs };
  });
  const original = plans.flatMap((p) => [p.kernel, p.recurrent, ...(p.bias ? [p.bias] : [])]);
  const unchanged = (): RecurrentRewrite => ({ layers: [layer], weights: original, replaces: original.map((w) => w.name), runtimeRequired: false, leftDense });

  const needsRuntime = plans.some((p) => p.r !== null || p.ks !== null || p.rs !== null || (p.k !== null && (p.k.dense.length > 0 || bidirectional)));
  if (!needsRuntime) {
    const plan = plans[0];
    if (plans.length !== 1 || plan.k === null) return unchanged();
    const stock = projectionLayers(layer, plan.kernel, plan.k, options.functional);
    return {
      layers: stock.layers,
      weights: [...stock.weights, plan.recurrent, ...(plan.bias ? [plan.bias] : [])],
      replaces: original.map((w) => w.name),
      runtimeRequired: false,
      leftDense,
    };
  }

  const runtimeWeights: Weight[] = [];
  const configs = plans.map((p) => {
    const cols = p.kernel.shape[1];
    runtimeWeights.push(
      ...(p.ks ? sparseMatrixWeights(p.dir.prefix, 'kernel', p.ks.parts, cols, p.kernel) : matrixWeights(p.dir.prefix, 'kernel', p.kernel, p.k)),
      ...(p.rs ? sparseMatrixWeights(p.dir.prefix, 'recurrent_kernel', p.rs.parts, cols, p.recurrent) : matrixWeights(p.dir.prefix, 'recurrent_kernel', p.recurrent, p.r)),
    );
    if (p.bias) runtimeWeights.push(p.bias);
    return {
      kernel_factors: factorsConfig(p.k),
      recurrent_kernel_factors: factorsConfig(p.r),
      ...(p.ks ? { kernel_sparse: { ...p.ks.config } } : {}),
      ...(p.rs ? { recurrent_kernel_sparse: { ...p.rs.config } } : {}),
    };
  });
  let replacement: LayerJson;
  if (!bidirectional) {
    replacement = { ...layer, class_name: RUNTIME_CLASS[layer.class_name], config: { ...layer.config, ...configs[0] } };
  } else {
    const { layer: _inner, ...outer } = layer.config;
    const inner = stripInput(dirs[0].config);
    const goBackwards = inner.go_backwards === true;
    const innerName = String(inner.name);
    const serialized = (i: number, prefix: string, backwards: boolean) => ({
      class_name: RUNTIME_CLASS[dirs[i].className],
      config: { ...inner, name: `${prefix}_${innerName}`, go_backwards: backwards, ...configs[i] },
    });
    replacement = {
      ...layer,
      class_name: 'HmfBidirectional',
      config: {
        ...outer,
        merge_mode: outer.merge_mode === undefined ? 'concat' : outer.merge_mode,
        forward_layer: serialized(0, 'forward', goBackwards),
        backward_layer: serialized(1, 'backward', !goBackwards),
      },
    };
  }
  return { layers: [replacement], weights: runtimeWeights, replaces: original.map((w) => w.name), runtimeRequired: true, leftDense };
}

/** A result as [dense outputs | P Q], or null when the matrix stays as it is. */
interface Factored {
  rank: number;
  dense: Int32Array;
  denseMatrix: Matrix | null;
  p: Matrix;
  q: Matrix;
}

function factorsOf(result: Compressed | undefined, source: Weight): Factored | null {
  if (!result || result.kind === 'prune') return null;
  if (result.kind === 'lmf') return { rank: result.rank, dense: new Int32Array(0), denseMatrix: null, p: result.p, q: result.q };
  if (result.rank < 1 || result.lowRankOutputs.length === 0) return null; // every output dense: the original matrix
  if (result.k > 0 && result.dense.rows !== source.shape[0]) throw new Error(`rewrite: HMF factors of ${source.name} do not match its shape`);
  return { rank: result.rank, dense: result.denseOutputs, denseMatrix: result.k > 0 ? result.dense : null, p: result.p, q: result.q };
}

function factorsConfig(f: Factored | null): Record<string, unknown> | null {
  return f ? { rank: f.rank, dense_ranges: toRanges(f.dense) } : null;
}

/** The weights of one matrix of a runtime layer, named as its cell creates them. */
function matrixWeights(prefix: string, role: string, source: Weight, f: Factored | null): Weight[] {
  if (!f) return [source];
  const ws: Weight[] = [];
  if (f.denseMatrix) ws.push(weightOf(`${prefix}/${role}_dense`, f.denseMatrix, source));
  ws.push(weightOf(`${prefix}/${role}_p`, f.p, source), weightOf(`${prefix}/${role}_q`, f.q, source));
  return ws;
}

/** Stock form of an LMF input kernel: Dense(n -> r, no bias) -> the recurrent layer with kernel Q. */
function projectionLayers(
  layer: LayerJson,
  kernel: Weight,
  f: Factored,
  functional: boolean,
): { layers: LayerJson[]; weights: Weight[] } {
  const name = layerName(layer);
  const pName = `${name}_lmf_p`;
  const cfg = layer.config;
  const projection: LayerJson = {
    class_name: 'Dense',
    config: { ...denseConfig({ trainable: cfg.trainable ?? true }, pName, f.rank, false, 'linear'), ...inputShapeOf(cfg) },
  };
  const recurrent: LayerJson = { ...layer, config: stripInput(cfg) };
  if (functional) {
    const node = layer.inbound_nodes?.[0] ?? [];
    const [first, ...rest] = node;
    projection.name = pName;
    projection.inbound_nodes = first ? [[first]] : [];
    recurrent.inbound_nodes = [[[pName, 0, 0, {}] as InboundRef, ...rest]];
  }
  const ws = [weightOf(`${pName}/kernel`, f.p, kernel), weightOf(kernel.name, f.q, kernel)];
  return { layers: [projection, recurrent], weights: ws };
}

function stripInput(cfg: Record<string, unknown>): Record<string, unknown> {
  const { batch_input_shape: _b, input_shape: _s, input_dim: _d, input_length: _l, ...rest } = cfg;
  return rest;
}

function directionsOf(layer: LayerJson): Direction[] | null {
  const name = layerName(layer);
  if (layer.class_name in GATES) return [{ prefix: name, className: layer.class_name, config: layer.config }];
  if (layer.class_name !== 'Bidirectional') return null;
  const inner = layer.config.layer as { class_name?: unknown; config?: Record<string, unknown> } | undefined;
  if (!inner || typeof inner.class_name !== 'string' || !(inner.class_name in GATES) || !inner.config) return null;
  const innerName = String(inner.config.name);
  return ['forward', 'backward'].map((d) => ({ prefix: `${name}/${d}_${innerName}`, className: inner.class_name as string, config: inner.config as Record<string, unknown> }));
}

function timeDistributedDense(layer: LayerJson): Record<string, unknown> | null {
  if (layer.class_name !== 'TimeDistributed') return null;
  const inner = layer.config.layer as { class_name?: unknown; config?: Record<string, unknown> } | undefined;
  return inner?.class_name === 'Dense' && inner.config ? inner.config : null;
}

/**
 * The weight `<prefix>/<role>`, also when stored with the cell scope TF 2.2+ Keras adds
 * (`lstm/lstm_cell/kernel`), which TF.js's loader accepts too.
 */
export function findWeight(weights: readonly Weight[], prefix: string, role: string): Weight | undefined {
  const exact = `${prefix}/${role}`;
  return (
    weights.find((w) => w.name === exact) ??
    weights.find((w) => {
      const tokens = w.name.split('/');
      if (tokens[tokens.length - 1] !== role) return false;
      const withoutCell = [...tokens.slice(0, -2), role].join('/');
      return withoutCell === exact || withoutCell.endsWith(`/${exact}`) || w.name.endsWith(`/${exact}`);
    })
  );
}

function requireWeight(weights: readonly Weight[], prefix: string, role: string): Weight {
  const w = findWeight(weights, prefix, role);
  if (!w) throw new Error(`rewrite: no weight ${prefix}/${role} in the model`);
  return w;
}

