import type { Weight } from '../io/index.js';
import type { Matrix } from '../linalg/matrix.js';

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

/** Keeps a Sequential model's declared input on the layer that now comes first. */
export function inputShapeOf(cfg: Record<string, unknown>): Record<string, unknown> {
  const keep: Record<string, unknown> = {};
  if (cfg.batch_input_shape !== undefined) keep.batch_input_shape = cfg.batch_input_shape;
  if (cfg.dtype !== undefined) keep.dtype = cfg.dtype;
  return keep;
}

/** A new weight stored the way its source was (a quantized kernel's factors stay quantized). */
export function weightOf(name: string, m: Matrix, source: Weight | undefined): Weight {
  return withEncoding({ name, shape: [m.rows, m.cols], dtype: 'float32', values: m.data }, source);
}

export function vectorOf(name: string, v: Float32Array, source: Weight | undefined): Weight {
  return withEncoding({ name, shape: [v.length], dtype: 'float32', values: v }, source);
}

function withEncoding(w: Weight, source: Weight | undefined): Weight {
  return source?.quantization ? { ...w, quantization: source.quantization } : w;
}
