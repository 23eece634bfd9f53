import { tf } from '../tf.js';
import type { Matrix } from '../linalg/matrix.js';
import type { LoadedModel } from '../model/adapter.js';
import type { TargetMatrix } from '../model/targets.js';

/**
 * How much the model's output moves per unit of a matrix's own error: the output's
 * relative error² when that matrix alone is replaced by a reference approximation,
 * divided by the matrix's relative error² (in the cost's metric). Costs of different
 * matrices become comparable as sensitivity x error², the predicted output error²
 * (errors of different matrices add up to first order when they are independent).
 *
 * Chosen over a Fisher/gradient estimate because it needs only forward passes, so it
 * works for graph models (no gradients in TF.js) and for every layer hmf rewrites, and
 * it measures the same quantity as the report's fidelity.
 */
export interface Sensitivity {
  readonly weight: string;
  /** Output relative error² per unit of the matrix's relative error². */
  readonly value: number;
  /** The reference approximation's relative error² (the matrix's own). */
  readonly referenceError2: number;
  /** The output's relative error² with only this matrix replaced. */
  readonly outputError2: number;
}

export interface Probe {
  readonly target: TargetMatrix;
  /** K' (n x m, as adapter.matrix gives it): the reference approximation. */
  readonly approximation: Matrix;
  /** Its relative error² in the cost's metric. */
  readonly error2: number;
}

/**
 * How far towards its reference approximation a matrix is moved to measure its sensitivity:
 * a quarter of the way, error² 1/16 of the reference's. At the whole way, single convolutions
 * of MobileNetV2 at x4 each moved its output by a relative error² of up to 0.99 on their own,
 * where the output saturates and a linear sensitivity says little.
 */
export const PROBE_STEP = 0.25;

/** The probe of `target`: K moved PROBE_STEP of the way to `approximation` (relative error² `error2` when moved all the way). */
export function referenceProbe(target: TargetMatrix, k: Matrix, approximation: Matrix, error2: number): Probe {
  const data = new Float32Array(k.data.length);
  for (let i = 0; i < data.length; i++) data[i] = k.data[i] + PROBE_STEP * (approximation.data[i] - k.data[i]);
  return { target, approximation: { rows: k.rows, cols: k.cols, data }, error2: PROBE_STEP * PROBE_STEP * error2 };
}

/**
 * Runs `loaded` on `batches` once as it is and once per probe with that target's matrix
 * replaced, and returns each target's sensitivity. The model is restored after each.
 */
export async function measureSensitivity(loaded: LoadedModel, probes: readonly Probe[], batches: readonly (readonly tf.Tensor[])[]): Promise<Sensitivity[]> {
  const reference = await outputsOfAll(loaded, batches);
  const out: Sensitivity[] = [];
  for (const p of probes) {
    loaded.setMatrix(p.target, p.approximation);
    let outputError2: number;
    try {
      outputError2 = meanRelativeError2(reference, await outputsOfAll(loaded, batches));
    } finally {
      loaded.setMatrix(p.target, null);
    }
    out.push({ weight: p.target.weight, value: p.error2 > 0 ? outputError2 / p.error2 : 0, referenceError2: p.error2, outputError2 });
  }
  return out;
}

/** The output's relative error² (mean over outputs, logits for probability outputs) with every probe's matrix replaced at once. */
export async function measureJointError(loaded: LoadedModel, probes: readonly Probe[], batches: readonly (readonly tf.Tensor[])[]): Promise<number> {
  const reference = await outputsOfAll(loaded, batches);
  for (const p of probes) loaded.setMatrix(p.target, p.approximation);
  try {
    return meanRelativeError2(reference, await outputsOfAll(loaded, batches));
  } finally {
    for (const p of probes) loaded.setMatrix(p.target, null);
  }
}

async function outputsOfAll(loaded: LoadedModel, batches: readonly (readonly tf.Tensor[])[]): Promise<Float32Array[][]> {
  const out: Float32Array[][] = [];
  for (const b of batches) out.push(await outputsOf(loaded, b));
  return out;
}

async function outputsOf(loaded: LoadedModel, inputs: readonly tf.Tensor[]): Promise<Float32Array[]> {
  const ys = await loaded.runnable.run(inputs);
  try {
    return ys.map((y) => logitsOf(y.dataSync() as Float32Array, y.shape[y.shape.length - 1] ?? 1));
  } finally {
    tf.dispose(ys);
  }
}

/**
 * A probability output (rows of non-negative values summing to 1) as centred log-probabilities,
 * i.e. logits up to a constant per row; any other output as it is. A saturated softmax hides a
 * perturbation that its logits show: on generated probes of the bag-of-words fixture, the
 * sensitivities of its two matrices measured on probabilities moved by up to 500x between
 * probe seeds, their ratio from 2 to 8000; on logits, see the comment in sensitivity tests.
 */
export function logitsOf(y: Float32Array, width: number): Float32Array {
  if (width < 2 || y.length % width !== 0) return y;
  for (let r = 0; r < y.length; r += width) {
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const v = y[r + j];
      if (!(v >= 0)) return y;
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) return y;
  }
  const out = new Float32Array(y.length);
  for (let r = 0; r < y.length; r += width) {
    let mean = 0;
    for (let j = 0; j < width; j++) mean += (out[r + j] = Math.log(Math.max(y[r + j], 1e-30)));
    mean /= width;
    for (let j = 0; j < width; j++) out[r + j] -= mean;
  }
  return out;
}

/** Mean over outputs of ||y' - y||² / ||y||², summed over all batches. */
function meanRelativeError2(reference: readonly Float32Array[][], perturbed: readonly Float32Array[][]): number {
  const outputs = reference[0]?.length ?? 0;
  let total = 0;
  for (let o = 0; o < outputs; o++) {
    let diff = 0;
    let norm = 0;
    reference.forEach((batch, b) => {
      const y = batch[o];
      const z = perturbed[b][o];
      for (let i = 0; i < y.length; i++) {
        const d = z[i] - y[i];
        diff += d * d;
        norm += y[i] * y[i];
      }
    });
    total += norm > 0 ? diff / norm : diff;
  }
  return outputs > 0 ? total / outputs : 0;
}
