import { tf } from '../tf.js';
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

/** Running sums for one output over several probe batches. */
class OutputTally {
  diff = 0;
  norm = 0;
  rows = 0;
  agree = 0;
  kl = 0;
  probabilities = true;

  add(x: Float32Array, y: Float32Array, width: number): void {
    for (let i = 0; i < x.length; i++) {
      this.diff += (x[i] - y[i]) ** 2;
      this.norm += x[i] ** 2;
    }
    const rows = x.length / width;
    this.probabilities &&= width > 1 && isDistribution(x, width);
    for (let r = 0; r < rows; r++) {
      const o = r * width;
      let ia = 0;
      let ib = 0;
      for (let j = 1; j < width; j++) {
        if (x[o + j] > x[o + ia]) ia = j;
        if (y[o + j] > y[o + ib]) ib = j;
      }
      if (ia === ib) this.agree++;
      for (let j = 0; j < width; j++) {
        const p = x[o + j];
        if (p > 0) this.kl += p * Math.log(p / Math.max(y[o + j], 1e-12));
      }
    }
    this.rows += rows;
  }

  result(output: string): OutputFidelity {
    return {
      output,
      relativeError: this.norm > 0 ? Math.sqrt(this.diff / this.norm) : Math.sqrt(this.diff),
      top1Agreement: this.rows > 0 ? this.agree / this.rows : 1,
      klDivergence: this.probabilities && this.rows > 0 ? this.kl / this.rows : null,
    };
  }
}

/** Rows that are non-negative and sum to 1: a softmax output. */
function isDistribution(x: Float32Array, width: number): boolean {
  for (let o = 0; o < x.length; o += width) {
    let s = 0;
    for (let j = 0; j < width; j++) {
      if (x[o + j] < 0) return false;
      s += x[o + j];
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

/** Runs both models on each batch of probes (one tensor per input) and compares every output. */
export function compareOutputs(original: Runnable, compressed: Runnable, batches: readonly (readonly tf.Tensor[])[]): OutputFidelity[] {
  const tallies: OutputTally[] = [];
  for (const probes of batches) {
    const a = original.run(probes);
    const b = compressed.run(probes);
    try {
      a.forEach((ya, i) => {
        tallies[i] ??= new OutputTally();
        tallies[i].add(ya.dataSync() as Float32Array, b[i].dataSync() as Float32Array, ya.shape[ya.shape.length - 1] ?? 1);
      });
    } finally {
      tf.dispose([...a, ...b]);
    }
  }
  return tallies.map((t, i) => t.result(original.outputNames[i] ?? `output_${i}`));
}
