/**
 * Fine-tuning settings by model kind, used where --epochs, --learning-rate or --label-weight
 * are not given. Language models (a distribution per step) recover slowly and need more and
 * stronger training than classifiers, whose compressed forms are usually back at the
 * original's accuracy after calibration (measured: scripts/finetune-grid.ts; figures in the
 * README, "Calibration and fine-tuning").
 */
export type ModelKind = 'sequence' | 'classifier';

export interface FinetuneSettings {
  epochs: number;
  /** Peak Adam learning rate of the warm-up + cosine schedule. */
  learningRate: number;
  /** Weight of the label loss where the data has labels (0 without them). */
  labelWeight: number;
}

/**
 * Measured by validation KL to the original (scripts/finetune-grid.ts; 1024 char-lstm
 * examples, HMF x8, validation KL 0.568 before): 2 epochs at 3e-3 0.268 (test perplexity
 * 10.28), 8 at 3e-3 0.177 (9.20), 8 at 1e-2 0.137 (8.67), 8 at 2e-2 0.124 (8.48), 16 at 1e-2
 * 0.120 (8.43), 8 at 3e-3 with label weight 0.5 0.201 (9.10). The classifiers (HMF and prune
 * x8, 2048 examples) gained nothing from 8 epochs at 1e-2 over 2 at 3e-3 (sentiment-mlp and
 * -embed HMF, -gru HMF kept their start either way; sentiment-embed prune: held-out accuracy
 * 82.7% -> 80.2%; intent-mlp prune 98.1% -> 99.1%).
 */
export const FINETUNE_DEFAULTS: Readonly<Record<ModelKind, Readonly<FinetuneSettings>>> = {
  classifier: { epochs: 2, learningRate: 3e-3, labelWeight: 0 },
  sequence: { epochs: 8, learningRate: 2e-2, labelWeight: 0 },
};

/** `sequence` when the model's first output keeps a time axis ([batch, steps, classes]), else `classifier`. */
export function modelKind(outputShape: readonly (number | null)[]): ModelKind {
  return outputShape.length >= 3 ? 'sequence' : 'classifier';
}

/** The settings to use: what was given, the kind's defaults for the rest (no label loss without labels). */
export function resolveSettings(kind: ModelKind, given: Partial<FinetuneSettings>, labelled: boolean): FinetuneSettings & { defaulted: (keyof FinetuneSettings)[] } {
  const d = FINETUNE_DEFAULTS[kind];
  const defaulted = (['epochs', 'learningRate', 'labelWeight'] as const).filter((k) => given[k] === undefined);
  return {
    epochs: given.epochs ?? d.epochs,
    learningRate: given.learningRate ?? d.learningRate,
    labelWeight: given.labelWeight ?? (labelled ? d.labelWeight : 0),
    defaulted,
  };
}
