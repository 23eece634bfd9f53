/** Accuracy and cross-entropy of a model's outputs against labels. */
export interface LabelMetrics {
  /** `classification`: one class id per example; `sequence`: one target id per step. */
  task: 'classification' | 'sequence';
  /** Scored rows: examples, or examples x steps. */
  positions: number;
  /** Share of rows whose arg-max (width 1: p >= 0.5) is the label; next-token accuracy for sequences. */
  accuracy: number;
  /** Mean cross-entropy in nats per row. */
  crossEntropy: number;
  /** exp(crossEntropy) for sequences, null for classifiers. */
  perplexity: number | null;
  /** How the outputs were read: as probabilities (every row a distribution) or as logits. */
  outputs: 'probabilities' | 'logits';
}

/** Smallest probability a log is taken of (as the fixtures' training scripts do). */
const MIN_PROBABILITY = 1e-12;

/**
 * Running sums over batches. Whether the output holds probabilities is only known
 * at the end (every row a distribution), so both readings are summed.
 */
export class LabelScore {
  private rows = 0;
  private hits = 0;
  private hitsLogit = 0;
  private ceProbability = 0;
  private ceLogit = 0;
  private probabilities = true;

  /** @param width size of the output's last axis (1: a binary sigmoid or logit output) */
  constructor(
    private readonly task: 'classification' | 'sequence',
    private readonly width: number,
  ) {}

  /** `outputs`: rows x width values; `labels`: one id per row. */
  add(outputs: Float32Array, labels: Int32Array): void {
    const w = this.width;
    for (let r = 0; r < labels.length; r++) {
      const o = r * w;
      const label = labels[r];
      if (w === 1) {
        const p = outputs[o];
        this.probabilities &&= p >= 0 && p <= 1;
        const q = label === 1 ? p : 1 - p;
        this.ceProbability -= Math.log(Math.max(q, MIN_PROBABILITY));
        // -log sigmoid(+-z), computed stably.
        const z = label === 1 ? p : -p;
        this.ceLogit += Math.max(-z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
        if ((p >= 0.5 ? 1 : 0) === label) this.hits++;
        if ((p >= 0 ? 1 : 0) === label) this.hitsLogit++;
        continue;
      }
      let best = 0;
      let max = -Infinity;
      let sum = 0;
      let negative = false;
      for (let j = 0; j < w; j++) {
        const v = outputs[o + j];
        if (v > max) {
          max = v;
          best = j;
        }
        if (v < 0) negative = true;
        sum += v;
      }
      this.probabilities &&= !negative && Math.abs(sum - 1) <= 1e-3;
      if (best === label) this.hits++;
      this.ceProbability -= Math.log(Math.max(outputs[o + label], MIN_PROBABILITY));
      let exp = 0;
      for (let j = 0; j < w; j++) exp += Math.exp(outputs[o + j] - max);
      this.ceLogit += max + Math.log(exp) - outputs[o + label];
    }
    if (w > 1) this.hitsLogit = this.hits;
    this.rows += labels.length;
  }

  result(): LabelMetrics {
    const rows = Math.max(this.rows, 1);
    const crossEntropy = (this.probabilities ? this.ceProbability : this.ceLogit) / rows;
    return {
      task: this.task,
      positions: this.rows,
      accuracy: (this.probabilities ? this.hits : this.hitsLogit) / rows,
      crossEntropy,
      perplexity: this.task === 'sequence' ? Math.exp(crossEntropy) : null,
      outputs: this.probabilities ? 'probabilities' : 'logits',
    };
  }
}
