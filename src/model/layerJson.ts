import type { Weight } from '../io/index.js';
import type { Matrix } from '../linalg/matrix.js';
import type { LayerJson } from './topology.js';

// Builders for the Keras-JSON layer configs and weights that rewrites emit.

/** A stock Dense layer's config: `base` (an original layer's config) with the given shape, bias and activation. */
export function denseConfig(base: Record<string, unknown>, name: string, units: number, useBias: boolean, activation: string): Record<string, unknown> {
  const { batch_input_shape: _b, input_dim: _i, input_shape: _s, ...rest } = base;
  return {
    kernel_initializer: { class_name: 'Zeros', config: {} },
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
    trainable: true,
    ...rest,
    units,
    activation,
    use_bias: useBias,
    name,
  };
}

/**
 * How a rewrite builds the layers of a factorized kernel's parts (Dense: Dense layers;
 * convolutions: src/model/conv.ts).
 */
export interface PartBuilder {
  /** A layer that applies the original kernel's geometry to the layer's input, with `units` outputs. */
  full(name: string, units: number, useBias: boolean, activation: string): LayerJson;
  /** A layer that applies a factor Q at each position of its input (a Dense; a 1x1 convolution). */
  pointwise(name: string, units: number, useBias: boolean, activation: string): LayerJson;
  /** The stored shape of a `full` kernel with `units` outputs. */
  fullShape(units: number): number[];
  /** The stored shape of a `pointwise` kernel from `inputs` to `units`. */
  pointwiseShape(inputs: number, units: number): number[];
}

/** Parts of a factorized Dense kernel with `rows` inputs: Dense layers configured like `base`. */
export function denseParts(base: Record<string, unknown>, rows: number): PartBuilder {
  const dense = (name: string, units: number, useBias: boolean, activation: string): LayerJson => ({
    class_name: 'Dense',
    config: denseConfig(base, name, units, useBias, activation),
  });
  return { full: dense, pointwise: dense, fullShape: (units) => [rows, units], pointwiseShape: (inputs, units) => [inputs, units] };
}

/** Keeps a Sequential model's declared input on the layer that now comes first. */
export function inputShapeOf(cfg: Record<string, unknown>): Record<string, unknown> {
  const keep: Record<string, unknown> = {};
  if (cfg.batch_input_shape !== undefined) keep.batch_input_shape = cfg.batch_input_shape;
  if (cfg.dtype !== undefined) keep.dtype = cfg.dtype;
  return keep;
}

/**
 * A new weight stored the way its source was (a quantized kernel's factors stay quantized);
 * `shape` when the matrix is the view of a kernel of higher rank (a convolution's).
 */
export function weightOf(name: string, m: Matrix, source: Weight | undefined, shape: number[] = [m.rows, m.cols]): Weight {
  if (shape.reduce((a, b) => a * b, 1) !== m.data.length) throw new Error(`rewrite: ${name}: shape [${shape.join(', ')}] does not hold ${m.rows}x${m.cols}`);
  return withEncoding({ name, shape, dtype: 'float32', values: m.data }, source);
}

export function vectorOf(name: string, v: Float32Array, source: Weight | undefined): Weight {
  return withEncoding({ name, shape: [v.length], dtype: 'float32', values: v }, source);
}

function withEncoding(w: Weight, source: Weight | undefined): Weight {
  return source?.quantization ? { ...w, quantization: source.quantization } : w;
}
