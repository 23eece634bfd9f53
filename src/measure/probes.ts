import * as tf from '@tensorflow/tfjs';
import { gaussianArray, mulberry32 } from '../linalg/random.js';

/** Sequence length used for probe inputs whose time axis is not fixed. */
const DEFAULT_STEPS = 32;

/** How one model input is probed. */
export interface InputSignature {
  name: string;
  /** Shape without the batch axis; unknown axes resolved. */
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Token ids in [1, vocab) when the input feeds an Embedding layer. */
  vocab?: number;
  /** The one batch size the model accepts, when it fixes it. */
  batch?: number;
}

/** The inputs of a loaded model, as DESIGN.md §4 probes them. */
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

/** `count` probe examples per input, seeded: token ids for Embedding inputs, standard normal otherwise. */
export function makeProbes(signatures: readonly InputSignature[], count: number, seed: number): tf.Tensor[] {
  return signatures.map((sig, i) => {
    const size = count * sig.shape.reduce((a, b) => a * b, 1);
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
