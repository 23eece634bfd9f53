import type { Weight } from '../io/index.js';
import { convRows, isConvLayer, scanConvLayer, SEPARABLE_DEPTHWISE_REASON, type ConvGeometry } from './conv.js';
import { isSequenceLayer, recurrentTargets } from './recurrent.js';
import { consumersOf, layerName, outputLayerNames, type LayerJson, type LayersGraph } from './topology.js';

/** What part of a layer a target matrix is. */
export type TargetRole = 'kernel' | 'embeddings' | 'recurrent_kernel';

/** A weight matrix that the methods may compress: n inputs x m outputs. */
export interface TargetMatrix {
  /** Weight name in the manifest, e.g. `dense_1/kernel`. */
  weight: string;
  layer: string;
  layerClass: string;
  role: TargetRole;
  rows: number;
  cols: number;
  /**
   * Kernels (weight names) of the layers that consume this layer's outputs, directly
   * or through permutation-equivariant layers. When non-null the layer's outputs may
   * be emitted in any order: the rows of these kernels follow the permutation.
   * Null when the order is fixed (a model output, or a consumer that cannot absorb it).
   */
  orderAbsorbers: string[] | null;
  /**
   * Set when only LMF can be written for this matrix (HMF's dense outputs cannot be
   * expressed, e.g. a recurrent input kernel under --portable): the reason for the report.
   */
  lowRankOnly?: string;
  /** The rewrite itself restores the original output order (graph models gather it back). */
  restoresOrder?: boolean;
  /** Why HMF must keep the leading outputs dense here, when not the default reason. */
  leadingReason?: string;
  /**
   * A convolution kernel, viewed as the (kh·kw·cin) x cout matrix (rows x cols here): how it is
   * applied, which every factorized form keeps (src/model/conv.ts).
   */
  conv?: ConvGeometry;
}

export interface ScanOptions {
  /** No hmf runtime layers allowed in the output (--portable). @default false */
  portable?: boolean;
}

/** A 2-D weight that stays as it is, with the reason shown in the report. */
export interface SkippedMatrix {
  weight: string;
  layer: string;
  shape: number[];
  reason: string;
}

export interface TargetScan {
  targets: TargetMatrix[];
  skipped: SkippedMatrix[];
  /** Layer classes hmf does not know, left as they are (listed in the report). */
  unknownLayers: { layer: string; className: string }[];
}

/** Layer classes that hmf knows (compresses, or passes through knowingly). */
const KNOWN_LAYERS = new Set([
  'InputLayer', 'Dense', 'Embedding', 'Dropout', 'Activation', 'Flatten', 'Reshape', 'Permute', 'RepeatVector',
  'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D',
  'AveragePooling1D', 'MaxPooling1D', 'AveragePooling2D', 'MaxPooling2D', 'BatchNormalization', 'LayerNormalization',
  'Concatenate', 'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract', 'Dot', 'Masking',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'PReLU', 'AlphaDropout', 'GaussianDropout',
  'GaussianNoise', 'SpatialDropout1D', 'ActivityRegularization', 'Cropping1D', 'ZeroPadding1D', 'ZeroPadding2D',
  'Conv1D', 'Conv2D', 'Conv2DTranspose', 'Conv3D', 'DepthwiseConv2D', 'SeparableConv2D', 'UpSampling2D',
  'Cropping2D', 'AveragePooling3D', 'MaxPooling3D', 'GlobalAveragePooling3D', 'GlobalMaxPooling3D', 'LSTM', 'GRU', 'SimpleRNN', 'Bidirectional', 'TimeDistributed',
]);

/** Layers whose outputs are the same function of a permuted input, permuted (along the last axis). */
const PERMUTATION_EQUIVARIANT = new Set([
  'Dropout', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'AlphaDropout',
  'GaussianDropout', 'GaussianNoise', 'SpatialDropout1D', 'ActivityRegularization',
  'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'AveragePooling1D', 'MaxPooling1D', 'GlobalAveragePooling2D',
  'GlobalMaxPooling2D', 'AveragePooling2D', 'MaxPooling2D', 'ZeroPadding1D', 'ZeroPadding2D', 'Cropping1D', 'Cropping2D',
  'UpSampling1D', 'UpSampling2D', 'SpatialDropout2D',
]);

/** The weight of `layer` with the given role (`kernel`, `bias`, `embeddings`), if the manifest has it. */
export function findLayerWeight(weights: readonly Weight[], layer: string, role: string): Weight | undefined {
  const exact = `${layer}/${role}`;
  return weights.find((w) => w.name === exact) ?? weights.find((w) => w.name.endsWith(`/${exact}`));
}

/** Finds the Dense kernels and Embedding tables of a layers model and decides which to compress. */
export function scanTargets(graph: LayersGraph, weights: readonly Weight[], minParams: number, options: ScanOptions = {}): TargetScan {
  const byName = new Map(graph.layers.map((l) => [layerName(l), l]));
  const consumers = consumersOf(graph);
  const outputs = outputLayerNames(graph);
  const targets: TargetMatrix[] = [];
  const skipped: SkippedMatrix[] = [];
  const unknownLayers: TargetScan['unknownLayers'] = [];

  for (const layer of graph.layers) {
    const name = layerName(layer);
    if (!KNOWN_LAYERS.has(layer.class_name)) {
      unknownLayers.push({ layer: name, className: layer.class_name });
      continue;
    }
    if (isSequenceLayer(layer)) {
      // Recurrent layers, Bidirectional, TimeDistributed(Dense): src/model/recurrent.ts.
      const found = recurrentTargets(layer, weights, minParams, options);
      if (found) {
        targets.push(...found.targets);
        skipped.push(...found.skipped);
        continue;
      }
    }
    if (isConvLayer(layer)) {
      const found = convTarget(layer, weights, minParams, byName, consumers, outputs);
      if (found) {
        targets.push(...found.targets);
        skipped.push(...found.skipped);
      }
      continue;
    }
    const role: TargetRole | null = layer.class_name === 'Dense' ? 'kernel' : layer.class_name === 'Embedding' ? 'embeddings' : null;
    if (role === null) {
      for (const w of weights) {
        if (w.shape.length === 2 && w.name.startsWith(`${name}/`)) {
          skipped.push({ weight: w.name, layer: name, shape: w.shape, reason: `${layer.class_name} layers are not compressed yet` });
        }
      }
      continue;
    }
    const weight = findLayerWeight(weights, name, role);
    if (!weight) continue;
    const skip = (reason: string) => skipped.push({ weight: weight.name, layer: name, shape: weight.shape, reason });
    if (weight.shape.length !== 2) {
      skip(`expected a 2-D ${role}, found shape [${weight.shape.join(', ')}]`);
      continue;
    }
    if (weight.dtype !== 'float32') {
      skip(`${weight.dtype} weights are not compressed`);
      continue;
    }
    const [rows, cols] = weight.shape;
    if (rows * cols < minParams) {
      skip(`${rows * cols} parameters, below --min-params ${minParams}`);
      continue;
    }
    if ((layer.inbound_nodes?.length ?? 1) > 1) {
      skip(`shared layer (called ${layer.inbound_nodes?.length} times); rewriting one call would change the others`);
      continue;
    }
    targets.push({
      weight: weight.name,
      layer: name,
      layerClass: layer.class_name,
      role,
      rows,
      cols,
      orderAbsorbers: outputs.has(name) ? null : findAbsorbers(name, byName, consumers, outputs, weights),
    });
  }
  return { targets, skipped, unknownLayers };
}

/** A convolution layer's target, or its kernels left as they are with the reason. */
function convTarget(
  layer: LayerJson,
  weights: readonly Weight[],
  minParams: number,
  byName: Map<string, LayerJson>,
  consumers: Map<string, string[]>,
  outputs: Set<string>,
): { targets: TargetMatrix[]; skipped: SkippedMatrix[] } | null {
  const name = layerName(layer);
  const scan = scanConvLayer(layer, (role) => findLayerWeight(weights, name, role));
  if (scan === null) return null;
  const skip = (ws: readonly Weight[], reason: string) => ({ targets: [], skipped: ws.map((w) => ({ weight: w.name, layer: name, shape: w.shape, reason })) });
  if (scan.kind === 'skip') return skip(scan.weights, scan.reason);
  const beside = scan.depthwise ? skip([scan.depthwise], SEPARABLE_DEPTHWISE_REASON).skipped : [];
  const { kernel, geometry } = scan;
  const alone = (reason: string) => ({ targets: [], skipped: [...beside, ...skip([kernel], reason).skipped] });
  if (kernel.dtype !== 'float32') return alone(`${kernel.dtype} weights are not compressed`);
  const rows = convRows(geometry);
  const cols = scan.outChannels;
  if (rows * cols < minParams) return alone(`${rows * cols} parameters, below --min-params ${minParams}`);
  if ((layer.inbound_nodes?.length ?? 1) > 1) {
    return alone(`shared layer (called ${layer.inbound_nodes?.length} times); rewriting one call would change the others`);
  }
  const channelAxis = scan.timeDistributed ? null : geometry.kernel.length + 1;
  return {
    skipped: beside,
    targets: [{
      weight: kernel.name,
      layer: name,
      layerClass: layer.class_name,
      role: 'kernel',
      rows,
      cols,
      orderAbsorbers: outputs.has(name) || scan.timeDistributed ? null : findAbsorbers(name, byName, consumers, outputs, weights, channelAxis),
      conv: geometry,
    }],
  };
}

/**
 * The weights that can absorb a permutation of `name`'s outputs (its last, channel axis):
 * every path from the layer must pass only through layers that act on each channel alike
 * and end in a layer that mixes channels through a kernel taking only this input (Dense,
 * Conv1D, Conv2D: their input rows are permuted). BatchNormalization and DepthwiseConv2D
 * on the way act per channel: their per-channel weights are permuted too. Null if any path
 * does not end so. `channelAxis` is the index of the channel axis of `name`'s output when
 * known (BatchNormalization must normalise that axis).
 *
 * A weight with rows = t·m for the layer's m outputs takes the permutation in each of its t
 * blocks of m rows (a convolution kernel's kh·kw offsets, a Dense after Flatten's positions):
 * see `tileOrder` in src/model/order.ts.
 */
function findAbsorbers(
  name: string,
  byName: Map<string, LayerJson>,
  consumers: Map<string, string[]>,
  outputs: Set<string>,
  weights: readonly Weight[],
  channelAxis: number | null = null,
): string[] | null {
  const absorbers: string[] = [];
  const next = consumers.get(name) ?? [];
  if (next.length === 0) return null;
  for (const consumerName of next) {
    const consumer = byName.get(consumerName);
    if (!consumer) return null;
    const single = (consumer.inbound_nodes ?? [[null]]).length === 1 && (consumer.inbound_nodes?.[0]?.length ?? 1) === 1;
    if (!single) return null;
    const cfg = consumer.config;
    const own = (role: string) => findLayerWeight(weights, consumerName, role);
    if (consumer.class_name === 'Dense' || ((consumer.class_name === 'Conv1D' || consumer.class_name === 'Conv2D') && isChannelsLast(cfg) && (cfg.groups ?? 1) === 1)) {
      const kernel = own('kernel');
      if (!kernel) return null;
      absorbers.push(kernel.name);
      continue;
    }
    // Per-channel layers: their own weights follow the order, and so do their outputs.
    let perChannel: string[] = [];
    let axis = channelAxis;
    if (consumer.class_name === 'BatchNormalization') {
      const a = Array.isArray(cfg.axis) && cfg.axis.length === 1 ? cfg.axis[0] : (cfg.axis ?? -1);
      if (!(a === -1 || (channelAxis !== null && a === channelAxis))) return null;
      perChannel = ['gamma', 'beta', 'moving_mean', 'moving_variance'].flatMap((role) => own(role)?.name ?? []);
    } else if (consumer.class_name === 'SeparableConv2D') {
      // Its depthwise part acts per channel, its pointwise kernel mixes them (multiplier 1: one row per channel;
      // read from the kernel, as TF.js's own config leaves depth_multiplier out).
      const parts = ['depthwise_kernel', 'pointwise_kernel'].map(own);
      if (!isChannelsLast(cfg) || parts.some((w) => !w) || parts[0]!.shape[3] !== 1) return null;
      absorbers.push(...parts.map((w) => w!.name));
      continue;
    } else if (consumer.class_name === 'DepthwiseConv2D') {
      if (!isChannelsLast(cfg) || own('depthwise_kernel')?.shape[3] !== 1) return null;
      perChannel = ['depthwise_kernel', 'bias'].flatMap((role) => own(role)?.name ?? []);
    } else if (consumer.class_name === 'Flatten') {
      if (!isChannelsLast(cfg)) return null;
      axis = 1;
    } else if (PERMUTATION_EQUIVARIANT.has(consumer.class_name) && isLastAxisEquivariant(consumer)) {
      if (consumer.class_name.startsWith('Global')) axis = 1;
    } else {
      return null;
    }
    if (outputs.has(consumerName)) return null;
    const deeper = findAbsorbers(consumerName, byName, consumers, outputs, weights, axis);
    if (deeper === null) return null;
    absorbers.push(...perChannel, ...deeper);
  }
  return absorbers;
}

function isChannelsLast(cfg: Record<string, unknown>): boolean {
  return cfg.data_format === undefined || cfg.data_format === null || cfg.data_format === 'channels_last';
}

function isLastAxisEquivariant(layer: LayerJson): boolean {
  if (layer.class_name === 'Softmax') {
    const axis = layer.config.axis;
    return axis === undefined || axis === -1;
  }
  return isChannelsLast(layer.config);
}
