import { tf } from '../tf.js';
import { tallyAll } from '../helper/jobs.js';
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
    for (const part of tallyAll(x, y, width)) {
      this.diff += part.diff;
      this.norm += part.norm;
      this.rows += part.rows;
      this.agree += part.agree;
      this.kl += part.kl;
      this.probabilities &&= part.distribution;
    }
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
