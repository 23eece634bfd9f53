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

/** An output whose fidelity could not be measured, and why. */
export interface UnmeasuredOutput {
  output: string;
  reason: string;
}

export interface FidelityResult {
  /** Outputs compared value by value. */
  outputs: OutputFidelity[];
  /** Outputs that could not be compared (a shape that depends on the data, strings). */
  unmeasured: UnmeasuredOutput[];
}

/** Values of a numeric tensor as float32, for the tally. */
function floats(t: tf.Tensor): Float32Array {
  const v = t.dataSync();
  return v instanceof Float32Array ? v : Float32Array.from(v as ArrayLike<number>);
}

/**
 * Runs both models on each batch of probes (one tensor per input) and compares every
 * output: numeric outputs of equal shapes value by value; an output whose shape differs
 * between the models on some batch (detections after non-max suppression, say) or that
 * holds strings is listed as unmeasured with the reason.
 */
export async function compareOutputs(original: Runnable, compressed: Runnable, batches: readonly (readonly tf.Tensor[])[]): Promise<FidelityResult> {
  const tallies: OutputTally[] = [];
  const reasons = new Map<number, string>();
  const strings = new Map<number, { equal: number; total: number }>();
  for (const probes of batches) {
    const a = await original.run(probes);
    const b = await compressed.run(probes);
    try {
      a.forEach((ya, i) => {
        tallies[i] ??= new OutputTally();
        const yb = b[i];
        if (reasons.has(i)) return;
        if (!yb || ya.shape.join(',') !== yb.shape.join(',')) {
          reasons.set(i, `its shape depends on the data: [${ya.shape.join(', ')}] from the original, [${yb?.shape.join(', ') ?? 'none'}] from the compressed model on the same probes`);
          return;
        }
        if (ya.dtype === 'string') {
          const xs = ya.dataSync() as unknown as readonly string[];
          const ys = yb.dataSync() as unknown as readonly string[];
          const s = strings.get(i) ?? { equal: 0, total: 0 };
          for (let j = 0; j < xs.length; j++) if (xs[j] === ys[j]) s.equal++;
          s.total += xs.length;
          strings.set(i, s);
          return;
        }
        tallies[i].add(floats(ya), floats(yb), ya.shape[ya.shape.length - 1] ?? 1);
      });
    } finally {
      tf.dispose([...a, ...b]);
    }
  }
  const name = (i: number) => original.outputNames[i] ?? `output_${i}`;
  for (const [i, s] of strings) if (!reasons.has(i)) reasons.set(i, `a string output: ${s.equal} of ${s.total} values equal`);
  return {
    outputs: tallies.flatMap((t, i) => (reasons.has(i) ? [] : [t.result(name(i))])),
    unmeasured: [...reasons].sort(([p], [q]) => p - q).map(([i, reason]) => ({ output: name(i), reason })),
  };
}
