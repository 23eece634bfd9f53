import type { Weight } from '../io/index.js';
import type { PartBuilder } from './layerJson.js';
import { layerName, type LayerJson } from './topology.js';

/**
 * Convolutions as matrices (docs/ARCHITECTURE.md §2): a kernel (kh, kw, cin, cout), or (k, cin, cout)
 * for Conv1D, stored row-major, is the (kh·kw·cin) x cout matrix K of its im2col product:
 * row (a·kw + b)·cin + c of K weights input channel c at kernel offset (a, b).
 */

/** Padding as the rewrite must reproduce it: Keras names, or TF's explicit [before, after] per spatial axis. */
export type ConvPadding = 'same' | 'valid' | { explicit: [number, number][] };

/**
 * Where and how a convolution kernel is applied: what a factorized form must keep. The size
 * of its input in the model is read when the model is loaded (a layer's input shape;
 * graphTargetInputShapes for graph nodes), for latency micro-benchmarks at that size.
 */
export interface ConvGeometry {
  /** Spatial kernel size: [kh, kw], or [k] for a 1-D convolution. */
  kernel: number[];
  inChannels: number;
  strides: number[];
  padding: ConvPadding;
  dilation: number[];
  /** Only channels-last (NHWC) convolutions are targets. */
  dataFormat: 'channels_last';
}

/** Stock layers whose kernel is a target (also inside TimeDistributed). */
const CONV_CLASSES = new Set(['Conv1D', 'Conv2D']);

/** Why a SeparableConv2D's depthwise kernel stays as it is while its pointwise kernel is a target. */
export const SEPARABLE_DEPTHWISE_REASON = "a separable convolution's depthwise part: one kh x kw filter per channel, no matrix to factorize (its pointwise part is compressed)";

/**
 * Convolution-like layers that pass through, with the reason the report gives. Kept in
 * one place so the reasons stay consistent between `compress` and `inspect`.
 */
const PASS_THROUGH: Readonly<Record<string, string>> = {
  DepthwiseConv2D: 'depthwise convolution: one kh x kw filter per channel, no matrix to factorize',
  SeparableConv1D: 'separable 1-D convolution is not rewritten',
  Conv2DTranspose: 'transposed convolution is not rewritten',
  Conv3D: '3-D convolution is not rewritten',
  Conv3DTranspose: 'transposed 3-D convolution is not rewritten',
};

/**
 * A layers-model convolution as scanned: a target, or weights that pass through with the
 * reason. A SeparableConv2D's target is its pointwise kernel, a 1x1 convolution of the
 * depthwise part's cin·multiplier channels; `depthwise` is what passes through beside it.
 */
export type LayersConvScan =
  | { kind: 'target'; kernel: Weight; geometry: ConvGeometry; outChannels: number; timeDistributed: boolean; depthwise?: Weight }
  | { kind: 'skip'; weights: Weight[]; reason: string };

/** The convolution inside `layer` (itself or wrapped in TimeDistributed), or null if it holds none. */
function innerConv(layer: LayerJson): { className: string; config: Record<string, unknown>; timeDistributed: boolean } | null {
  if (layer.class_name !== 'TimeDistributed') return { className: layer.class_name, config: layer.config, timeDistributed: false };
  const inner = layer.config.layer as { class_name?: unknown; config?: Record<string, unknown> } | undefined;
  if (!inner || typeof inner.class_name !== 'string' || !inner.config) return null;
  return { className: inner.class_name, config: inner.config, timeDistributed: true };
}

/** True for the layers `scanConvLayer` decides on: Conv1D, Conv2D, SeparableConv2D and the convolutions that pass through. */
export function isConvLayer(layer: LayerJson): boolean {
  const inner = innerConv(layer);
  return inner !== null && (CONV_CLASSES.has(inner.className) || inner.className === 'SeparableConv2D' || inner.className in PASS_THROUGH);
}

/**
 * Decides whether a convolution layer's kernel is a target. `kernelOf` finds a weight of
 * the layer by role (`kernel`, `depthwise_kernel`, ...). Null when the layer is no convolution.
 */
export function scanConvLayer(layer: LayerJson, kernelOf: (role: string) => Weight | undefined): LayersConvScan | null {
  const inner = innerConv(layer);
  if (!inner) return null;
  const cfg = inner.config;
  if (inner.className === 'SeparableConv2D') return scanSeparable(cfg, inner.timeDistributed, kernelOf);
  const reason = PASS_THROUGH[inner.className];
  if (reason !== undefined) {
    const weights = ['depthwise_kernel', 'pointwise_kernel', 'kernel'].map(kernelOf).filter((w): w is Weight => w !== undefined);
    return { kind: 'skip', weights, reason };
  }
  if (!CONV_CLASSES.has(inner.className)) return null;
  const kernel = kernelOf('kernel');
  if (!kernel) return null;
  const skip = (why: string): LayersConvScan => ({ kind: 'skip', weights: [kernel], reason: why });
  const spatial = inner.className === 'Conv1D' ? 1 : 2;
  if (kernel.shape.length !== spatial + 2) return skip(`expected a ${spatial + 2}-D ${inner.className} kernel, found shape [${kernel.shape.join(', ')}]`);
  const dataFormat = cfg.data_format ?? 'channels_last';
  if (dataFormat !== 'channels_last') return skip(`data format ${String(dataFormat)} is not rewritten (only channels_last)`);
  const groups = cfg.groups ?? 1;
  if (groups !== 1) return skip(`grouped convolution (groups = ${String(groups)}) is not rewritten`);
  const padding = cfg.padding ?? 'valid';
  // TF.js 4.22 runs no causal Conv1D either ("not implemented yet" at predict time).
  if (padding !== 'same' && padding !== 'valid') return skip(`padding "${String(padding)}" is not rewritten (only same and valid)`);
  const sizes = kernel.shape.slice(0, spatial);
  const strides = tuple(cfg.strides, spatial, 1);
  const dilation = tuple(cfg.dilation_rate, spatial, 1);
  if (strides === null || dilation === null) return skip('strides or dilation_rate are not positive integers');
  if (strides.some((s) => s > 1) && dilation.some((d) => d > 1)) return skip('strides and dilation both above 1 (TF.js runs neither form)');
  return {
    kind: 'target',
    kernel,
    geometry: {
      kernel: sizes,
      inChannels: kernel.shape[spatial],
      strides,
      padding: padding as ConvPadding,
      dilation,
      dataFormat: 'channels_last',
    },
    outChannels: kernel.shape[spatial + 1],
    timeDistributed: inner.timeDistributed,
  };
}

/** A SeparableConv2D: its pointwise kernel (1, 1, cin·multiplier, cout) is the target. */
function scanSeparable(cfg: Record<string, unknown>, timeDistributed: boolean, kernelOf: (role: string) => Weight | undefined): LayersConvScan | null {
  const depthwise = kernelOf('depthwise_kernel');
  const pointwise = kernelOf('pointwise_kernel');
  if (!depthwise || !pointwise) return null;
  const skip = (why: string): LayersConvScan => ({ kind: 'skip', weights: [depthwise, pointwise], reason: why });
  if (timeDistributed) return skip('a separable convolution inside TimeDistributed is not rewritten');
  if ((cfg.data_format ?? 'channels_last') !== 'channels_last') return skip(`data format ${String(cfg.data_format)} is not rewritten (only channels_last)`);
  if (pointwise.shape.length !== 4 || pointwise.shape[0] !== 1 || pointwise.shape[1] !== 1) return skip(`expected a 1x1 pointwise kernel, found shape [${pointwise.shape.join(', ')}]`);
  const padding = cfg.padding ?? 'valid';
  if (padding !== 'same' && padding !== 'valid') return skip(`padding "${String(padding)}" is not rewritten (only same and valid)`);
  return {
    kind: 'target',
    kernel: pointwise,
    geometry: { kernel: [1, 1], inChannels: pointwise.shape[2], strides: [1, 1], padding: 'valid', dilation: [1, 1], dataFormat: 'channels_last' },
    outChannels: pointwise.shape[3],
    timeDistributed: false,
    depthwise,
  };
}

/**
 * A SeparableConv2D as the two stock layers it computes: a DepthwiseConv2D (`<name>_depthwise`,
 * its kernel size, strides, padding, dilation and multiplier, no bias) and a 1x1 Conv2D with
 * the pointwise kernel, bias and activation, which keeps the layer's name, so that the
 * pointwise part is rewritten as any 1x1 convolution. `renamed` maps the depthwise kernel's
 * weight name to its new one.
 */
export function splitSeparable(layer: LayerJson, depthwiseWeight: Weight): { layers: LayerJson[]; renamed: [string, string] } {
  const name = layerName(layer);
  const cfg = layer.config;
  const depthwiseName = `${name}_depthwise`;
  const { batch_input_shape: _b, input_shape: _s, dtype: _d, ...base } = cfg;
  const shared = { trainable: cfg.trainable ?? true, data_format: 'channels_last' };
  const depthwise: LayerJson = {
    class_name: 'DepthwiseConv2D',
    config: {
      ...shared,
      ...(cfg.batch_input_shape !== undefined ? { batch_input_shape: cfg.batch_input_shape } : {}),
      ...(cfg.dtype !== undefined ? { dtype: cfg.dtype } : {}),
      name: depthwiseName,
      kernel_size: cfg.kernel_size,
      strides: cfg.strides,
      padding: cfg.padding,
      dilation_rate: cfg.dilation_rate,
      // From the kernel: TF.js's own SeparableConv2D config leaves depth_multiplier out.
      depth_multiplier: depthwiseWeight.shape[3],
      activation: 'linear',
      use_bias: false,
      depthwise_initializer: cfg.depthwise_initializer ?? { class_name: 'Zeros', config: {} },
      depthwise_regularizer: null,
      depthwise_constraint: null,
      activity_regularizer: null,
    },
  };
  const pointwise: LayerJson = {
    class_name: 'Conv2D',
    config: {
      ...shared,
      name,
      filters: base.filters,
      kernel_size: [1, 1],
      strides: [1, 1],
      padding: 'valid',
      dilation_rate: [1, 1],
      activation: base.activation ?? 'linear',
      use_bias: base.use_bias ?? true,
      kernel_initializer: base.pointwise_initializer ?? { class_name: 'Zeros', config: {} },
      bias_initializer: base.bias_initializer ?? { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    },
  };
  if (layer.inbound_nodes !== undefined) {
    depthwise.name = depthwiseName;
    depthwise.inbound_nodes = layer.inbound_nodes;
    pointwise.name = name;
    pointwise.inbound_nodes = [[[depthwiseName, 0, 0, {}]]];
  }
  return { layers: [depthwise, pointwise], renamed: [depthwiseWeight.name, `${depthwiseName}/depthwise_kernel`] };
}

/** A Keras size argument (an integer or a list) as `n` positive integers; null if it is not one. */
function tuple(value: unknown, n: number, fallback: number): number[] | null {
  const list = value === undefined || value === null ? Array(n).fill(fallback) : Array.isArray(value) ? value : Array(n).fill(value);
  if (list.length !== n || !list.every((v) => Number.isInteger(v) && v >= 1)) return null;
  return list as number[];
}

/** Rows of the matrix view of a kernel: kh·kw·cin. */
export function convRows(g: ConvGeometry): number {
  return g.kernel.reduce((a, b) => a * b, 1) * g.inChannels;
}

/**
 * The stock layers for the parts of a factorized convolution (see PartBuilder): `full` keeps
 * the kernel size, strides, padding and dilation; `pointwise` is a 1x1 convolution with
 * stride 1 and valid padding, which applies Q at every output position. Each is wrapped in
 * TimeDistributed when the original was.
 */
export function convParts(layer: LayerJson, g: ConvGeometry): PartBuilder {
  const inner = innerConv(layer);
  if (!inner || !CONV_CLASSES.has(inner.className)) throw new Error(`rewrite: ${layerName(layer)} is not a Conv1D/Conv2D layer`);
  const spatial = g.kernel.length;
  const ones = Array(spatial).fill(1);
  const { batch_input_shape: _b, input_shape: _s, input_dim: _d, dtype: _t, ...base } = inner.config;
  const make = (name: string, filters: number, geometry: Record<string, unknown>, useBias: boolean, activation: string): LayerJson => {
    const config: Record<string, unknown> = {
      kernel_initializer: { class_name: 'Zeros', config: {} },
      bias_initializer: { class_name: 'Zeros', config: {} },
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
      trainable: true,
      ...base,
      ...geometry,
      filters,
      use_bias: useBias,
      activation,
      name: inner.timeDistributed ? `${name}_conv` : name,
    };
    if (!inner.timeDistributed) return { class_name: inner.className, config };
    const { layer: _l, batch_input_shape: _bi, dtype: _dt, ...outer } = layer.config;
    return { class_name: 'TimeDistributed', config: { ...outer, name, layer: { class_name: inner.className, config } } };
  };
  const original = { kernel_size: g.kernel, strides: g.strides, padding: g.padding, dilation_rate: g.dilation };
  const pointwise = { kernel_size: ones, strides: ones, padding: 'valid', dilation_rate: ones };
  return {
    full: (name, units, useBias, activation) => make(name, units, original, useBias, activation),
    pointwise: (name, units, useBias, activation) => make(name, units, pointwise, useBias, activation),
    fullShape: (units) => [...g.kernel, g.inChannels, units],
    pointwiseShape: (inputs, units) => [...ones, inputs, units],
  };
}
