import { tf } from '../tf.js';
import { gaussianArray, mulberry32 } from '../linalg/random.js';

/** Sequence length used for probe inputs whose time axis is not fixed. */
const DEFAULT_STEPS = 32;

/** Generated probes when --probes is not given, unless the model is large (see defaultProbeCount). */
export const DEFAULT_PROBES = 128;
/** The fewest generated probes defaultProbeCount chooses. */
export const MIN_DEFAULT_PROBES = 16;
/**
 * Multiply-adds of the original model (layersMacs, graphMacs) that the default probes may
 * cost in all. The fixtures stay at DEFAULT_PROBES; a
 * 20M-parameter word LM over 35 steps gets 18 (its 128 probes took ~10 s of an 18 s run),
 * MobileNetV2 at 224x224 23.
 */
export const PROBE_WORK = 2 ** 33;

/**
 * The default number of generated probes for a model that costs `workPerExample`
 * multiply-adds per example: DEFAULT_PROBES, fewer (down to
 * MIN_DEFAULT_PROBES) when that would exceed PROBE_WORK. Depends on the model only, so
 * reports stay deterministic.
 */
export function defaultProbeCount(workPerExample: number): number {
  if (!(workPerExample > 0)) return DEFAULT_PROBES;
  return Math.max(MIN_DEFAULT_PROBES, Math.min(DEFAULT_PROBES, Math.floor(PROBE_WORK / workPerExample)));
}

/** Examples the planner's sensitivity passes run on (each matrix costs one pass over them): at most 64, at most SENSITIVITY_WORK multiply-adds a pass. */
export const MAX_SENSITIVITY_EXAMPLES = 64;
export const SENSITIVITY_WORK = 2 ** 31;

export function sensitivityExampleCount(workPerExample: number): number {
  if (!(workPerExample > 0)) return MAX_SENSITIVITY_EXAMPLES;
  return Math.max(1, Math.min(MAX_SENSITIVITY_EXAMPLES, Math.floor(SENSITIVITY_WORK / workPerExample)));
}

/**
 * Multiply-adds of one example through a layers model, estimated from its structure: each
 * layer's parameters times the positions it is applied at (the axes between batch and
 * features of its input or output, whichever has more: time steps, or pixels of a
 * convolution). Lookups (Embedding) cost nothing; nested models are walked into.
 */
export function layersMacs(model: tf.LayersModel): number {
  let total = 0;
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      total += layersMacs(layer);
      continue;
    }
    if (layer.getClassName() === 'Embedding') continue;
    const params = layer.countParams();
    if (params === 0) continue;
    const node = layer.inboundNodes[0];
    total += params * Math.max(node ? positionsOf(() => node.inputShapes) : 1, positionsOf(() => layer.outputShape));
  }
  return total;
}

/** Product of the axes between batch and features (unknown ones as DEFAULT_STEPS) of a shape or the largest of several. */
function positionsOf(shapeOf: () => tf.Shape | tf.Shape[]): number {
  let shapes: tf.Shape[];
  try {
    const s = shapeOf();
    shapes = Array.isArray(s[0]) || s.length === 0 ? (s as tf.Shape[]) : [s as tf.Shape];
  } catch {
    return 1; // a layer applied at several nodes has no single shape
  }
  return Math.max(1, ...shapes.map((shape) => shape.slice(1, -1).reduce<number>((p, d) => p * (d ?? DEFAULT_STEPS), 1)));
}

/**
 * Multiply-adds of one example through a graph model, bounded from above: every weight
 * matrix or kernel (rank >= 2) applied at every position of the input (time steps, or
 * pixels). A graph carries no layer structure to do better without shape inference; the
 * bound only lowers the default probe count (convolutional nets over images get the
 * minimum), and is exact for a stack of MatMuls over a flat input.
 */
export function graphMacs(weightShapes: readonly (readonly number[])[], signatures: readonly InputSignature[]): number {
  const params = weightShapes.filter((s) => s.length >= 2).reduce((sum, s) => sum + s.reduce((p, d) => p * d, 1), 0);
  let positions = 1;
  for (const s of signatures) {
    const axes = s.vocab !== undefined ? s.shape : s.shape.slice(0, -1);
    positions = Math.max(positions, axes.reduce((p, d) => p * d, 1));
  }
  return params * positions;
}

/** How one model input is probed. */
export interface InputSignature {
  name: string;
  /** Shape without the batch axis; unknown axes resolved. */
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string';
  /** Integers in [1, vocab): token ids when the input feeds an Embedding layer (pixel values for a uint8 graph input). */
  vocab?: number;
  /** A string input is probed with these (a graph model's own string constants, e.g. a lookup table's keys). */
  strings?: readonly string[];
  /** The one batch size the model accepts, when it fixes it. */
  batch?: number;
}

/** The inputs of a loaded model, as docs/ARCHITECTURE.md §4 probes them. */
export function inputSignatures(model: tf.LayersModel): InputSignature[] {
  return model.inputs.map((input) => {
    const shape = input.shape.slice(1).map((d) => (d == null ? DEFAULT_STEPS : d));
    const embedding = model.layers.find(
      (l) => l.getClassName() === 'Embedding' && l.inboundNodes.some((n) => n.inputTensors.some((t) => t.id === input.id)),
    );
    if (embedding) {
      const vocab = (embedding.getConfig() as { inputDim?: number }).inputDim;
      return { name: input.name, shape, dtype: 'int32', vocab: vocab ?? 2 };
    }
    return { name: input.name, shape, dtype: input.dtype === 'int32' ? 'int32' : 'float32' };
  });
}

/**
 * `count` probe examples per input, seeded: token ids for Embedding inputs, standard normal
 * for float inputs, 0/1 for bool inputs, strings drawn from `strings` for string inputs.
 */
export function makeProbes(signatures: readonly InputSignature[], count: number, seed: number): tf.Tensor[] {
  return signatures.map((sig, i) => {
    const size = count * sig.shape.reduce((a, b) => a * b, 1);
    if (sig.dtype === 'string' || sig.dtype === 'bool') {
      const u = mulberry32(seed + 7919 * i);
      if (sig.dtype === 'bool') return tf.tensor(Array.from({ length: size }, () => u() < 0.5), [count, ...sig.shape], 'bool');
      const pool = sig.strings?.length ? sig.strings : ['', 'a'];
      return tf.tensor(Array.from({ length: size }, () => pool[Math.floor(u() * pool.length)]), [count, ...sig.shape], 'string');
    }
    if (sig.vocab !== undefined) {
      const u = mulberry32(seed + 7919 * i);
      const ids = new Int32Array(size);
      const high = Math.max(sig.vocab, 2);
      for (let j = 0; j < size; j++) ids[j] = 1 + Math.floor(u() * (high - 1));
      return tf.tensor(ids, [count, ...sig.shape], 'int32');
    }
    return tf.tensor(gaussianArray(size, seed + 7919 * i), [count, ...sig.shape], sig.dtype);
  });
}
