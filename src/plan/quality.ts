import type { OutputFidelity } from '../measure/fidelity.js';
import type { BatchLatency } from '../measure/latency.js';

/**
 * Fidelity below which the report warns (DESIGN.md §8, quality awareness). On the fixtures,
 * a top-1 agreement under 90% on held-out data went with 3 or more points of accuracy lost
 * (and perplexity up by a quarter and more on the char LM), and a relative output error
 * above 0.3 with the same: at these the compressed model is a different model.
 */
export const MIN_TOP1_AGREEMENT = 0.9;
export const MAX_RELATIVE_ERROR = 0.3;

export interface QualityContext {
  factor: number;
  calibrated: boolean;
  finetuned: boolean;
  /** `generated` probes or `calibration` examples. */
  source: 'generated' | 'calibration';
}

/** A warning naming the next step for each output whose fidelity is poor, or none. */
export function fidelityWarnings(outputs: readonly OutputFidelity[], ctx: QualityContext): string[] {
  const poor = outputs.filter((o) => o.top1Agreement < MIN_TOP1_AGREEMENT || o.relativeError > MAX_RELATIVE_ERROR);
  if (poor.length === 0) return [];
  const what = poor
    .map((o) => `${o.output}: top-1 agreement ${(o.top1Agreement * 100).toFixed(1)}%, relative output error ${o.relativeError.toFixed(3)}`)
    .join('; ');
  return [`fidelity is poor at factor ${ctx.factor} (${what}; below ${MIN_TOP1_AGREEMENT * 100}% agreement or above ${MAX_RELATIVE_ERROR} error). Next: ${nextSteps(ctx).join(', or ')}`];
}

function nextSteps(ctx: QualityContext): string[] {
  const steps: string[] = [];
  if (!ctx.calibrated) steps.push('--calibration data.json (examples like those the model sees) so each matrix keeps what its inputs use');
  if (!ctx.finetuned) steps.push('--finetune data.json to train the compressed model back towards the original');
  steps.push(`a lower factor (--factor auto --min-agreement ${MIN_TOP1_AGREEMENT} finds the largest that passes)`);
  return steps;
}

/** A warning for each batch size at which the written model is slower than the original beyond noise. */
export function latencyWarnings(batches: readonly BatchLatency[], objective: string): string[] {
  return batches
    .filter((b) => b.verdict === 'slower')
    .map((b) => {
      const why =
        objective === 'size'
          ? 'latency was not considered (--objective size); drop it to let the planner keep slow layers dense'
          : "the planner's layer micro-benchmarks did not predict it (see plan.latency in report.json); --objective latency puts speed first, or a lower factor";
      return `the compressed model is slower than the original at batch ${b.batch}: ${(1 / b.speedup).toFixed(2)}x the time (median ${b.original.medianMs.toFixed(3)} -> ${b.compressed.medianMs.toFixed(3)} ms, beyond noise over ${b.runs} interleaved runs); ${why}`;
    });
}
