import type { Weight } from '../io/index.js';
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
  'GlobalAveragePooling1D', 'GlobalMaxPooling1D', 'AveragePooling1D', 'MaxPooling1D',
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

/**
 * The kernels that can absorb a permutation of `name`'s outputs: every path from the
 * layer must pass only through permutation-equivariant layers and end in a Dense
 * layer that takes only this input. Null if any path does not.
 */
function findAbsorbers(
  name: string,
  byName: Map<string, LayerJson>,
  consumers: Map<string, string[]>,
  outputs: Set<string>,
  weights: readonly Weight[],
): string[] | null {
  const absorbers: string[] = [];
  const next = consumers.get(name) ?? [];
  if (next.length === 0) return null;
  for (const consumerName of next) {
    const consumer = byName.get(consumerName);
    if (!consumer) return null;
    const single = (consumer.inbound_nodes ?? [[null]]).length === 1 && (consumer.inbound_nodes?.[0]?.length ?? 1) === 1;
    if (!single) return null;
    if (consumer.class_name === 'Dense') {
      const kernel = findLayerWeight(weights, consumerName, 'kernel');
      if (!kernel) return null;
      absorbers.push(kernel.name);
    } else if (PERMUTATION_EQUIVARIANT.has(consumer.class_name) && isLastAxisEquivariant(consumer)) {
      if (outputs.has(consumerName)) return null;
      const deeper = findAbsorbers(consumerName, byName, consumers, outputs, weights);
      if (deeper === null) return null;
      absorbers.push(...deeper);
    } else {
      return null;
    }
  }
  return absorbers;
}

function isLastAxisEquivariant(layer: LayerJson): boolean {
  if (layer.class_name === 'Softmax') {
    const axis = layer.config.axis;
    return axis === undefined || axis === -1;
  }
  if (layer.class_name === 'GlobalAveragePooling1D' || layer.class_name === 'GlobalMaxPooling1D') {
    return layer.config.data_format === undefined || layer.config.data_format === 'channels_last';
  }
  return true;
}
