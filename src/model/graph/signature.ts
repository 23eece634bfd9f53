import type * as tf from '@tensorflow/tfjs';

/** One input of a graph model, as probes for it should be made. */
export interface GraphInputSignature {
  name: string;
  /** Shape without the batch axis; unknown dimensions replaced by `unknownSize`. */
  shape: number[];
  dtype: tf.DataType;
  /** The batch size the model fixes (e.g. 1), or null when any batch size is accepted. */
  batch: number | null;
}

/**
 * The inputs of a loaded graph model with concrete shapes, so that probe inputs
 * can be generated. An input of unknown rank gets shape [].
 * @param unknownSize size used for unknown (-1) non-batch dimensions
 */
export function graphInputSignatures(model: tf.GraphModel, unknownSize = 16): GraphInputSignature[] {
  return model.inputs.map((info) => {
    const full = info.shape ?? [];
    const [first, ...rest] = full;
    const known = (d: number | undefined | null): d is number => typeof d === 'number' && d >= 0;
    return {
      name: info.name,
      shape: rest.map((d) => (known(d) ? d : unknownSize)),
      dtype: info.dtype,
      batch: full.length > 0 && known(first) ? first : null,
    };
  });
}
