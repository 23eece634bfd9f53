import * as tf from '@tensorflow/tfjs';
import type { Runnable } from './runnable.js';

/** How closely the compressed model's output follows the original's on the probes. */
export interface OutputFidelity {
  output: string;
  /** ||y' - y||_F / ||y||_F over all probes. */
  relativeError: number;
  /** Share of probe rows (and steps) whose arg-max agrees. */
  top1Agreement: number;
  /** Mean KL(original || compressed) when the output is a probability distribution, else null. */
  klDivergence: number | null;
}

/** Runs both models on the probes and compares every output. */
export function compareOutputs(original: Runnable, compressed: Runnable, probes: readonly tf.Tensor[]): OutputFidelity[] {
  const a = original.run(probes);
  const b = compressed.run(probes);
  try {
    return a.map((ya, i) => fidelityOf(original.outputNames[i] ?? `output_${i}`, ya, b[i]));
  } finally {
    tf.dispose([...a, ...b]);
  }
}

function fidelityOf(output: string, ya: tf.Tensor, yb: tf.Tensor): OutputFidelity {
  const x = ya.dataSync() as Float32Array;
  const y = yb.dataSync() as Float32Array;
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < x.length; i++) {
    diff += (x[i] - y[i]) ** 2;
    norm += x[i] ** 2;
  }
  const width = ya.shape[ya.shape.length - 1] ?? 1;
  const rows = x.length / width;
  let agree = 0;
  let kl = 0;
  let probabilities = width > 1;
  for (let r = 0; r < rows && probabilities; r++) {
    let s = 0;
    for (let j = 0; j < width; j++) {
      const v = x[r * width + j];
      if (v < 0) probabilities = false;
      s += v;
    }
    if (Math.abs(s - 1) > 1e-3) probabilities = false;
  }
  for (let r = 0; r < rows; r++) {
    let ia = 0;
    let ib = 0;
    for (let j = 1; j < width; j++) {
      if (x[r * width + j] > x[r * width + ia]) ia = j;
      if (y[r * width + j] > y[r * width + ib]) ib = j;
    }
    if (ia === ib) agree++;
    if (probabilities) {
      for (let j = 0; j < width; j++) {
        const p = x[r * width + j];
        if (p > 0) kl += p * Math.log(p / Math.max(y[r * width + j], 1e-12));
      }
    }
  }
  return {
    output,
    relativeError: norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff),
    top1Agreement: rows > 0 ? agree / rows : 1,
    klDivergence: probabilities ? kl / rows : null,
  };
}
