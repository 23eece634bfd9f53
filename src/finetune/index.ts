/** `--finetune`: recovery training of a compressed layers model by distillation from the original. */
import { registerTrainingKernels } from '../backend-kernels.js';
import { loadLayers, readModelData } from '../calibrate/data.js';
import { UsageError } from '../errors.js';
import type { ModelFile } from '../io/index.js';
import type { OutputFidelity } from '../measure/fidelity.js';
import { modelKind, resolveSettings, type FinetuneSettings, type ModelKind } from './defaults.js';
import type { PruneGroup } from './gradual.js';
import { DEFAULT_BATCH_SIZE, distill, type DistillResult, type EpochRecord, type LearningRateSchedule } from './train.js';

export { FINETUNE_DEFAULTS, modelKind, resolveSettings, type FinetuneSettings, type ModelKind } from './defaults.js';
export { defaultSchedule, GRADUAL_END_SHARE, GRADUAL_UPDATES, isPruningStep, keepAt, magnitudeMasks, type GradualSchedule, type PruneGroup } from './gradual.js';

export {
  createTrainer,
  DEFAULT_BATCH_SIZE,
  DEFAULT_LEARNING_RATE,
  distill,
  scheduledRate,
  shuffleDataset,
  type DistillOptions,
  type DistillResult,
  type EpochRecord,
  type LearningRateSchedule,
  type Trainer,
} from './train.js';

/** What the report says about fine-tuning. */
export interface FinetuneSummary {
  path: string;
  examples: number;
  trainExamples: number;
  validationExamples: number;
  labelled: boolean;
  /** What the defaults were chosen for: `sequence` (a distribution per step) or `classifier`. */
  kind: ModelKind;
  /** Settings not given, taken from the kind's defaults (src/finetune/defaults.ts). */
  defaulted: (keyof FinetuneSettings)[];
  epochs: number;
  /** Peak learning rate of the schedule. */
  learningRate: number;
  schedule: LearningRateSchedule;
  batchSize: number;
  labelWeight: number;
  bestEpoch: number;
  initialValidationLoss: number;
  history: EpochRecord[];
  /** Original vs compressed on the validation slice, before and after fine-tuning. */
  fidelityBefore: OutputFidelity[];
  fidelityAfter: OutputFidelity[];
  /** --prune-schedule gradual: the polynomial schedule followed, in steps (src/finetune/gradual.ts). */
  gradual?: DistillResult['gradual'];
  seconds: number;
}

export interface FinetuneModelOptions {
  data: string;
  /** @default by model kind (FINETUNE_DEFAULTS) */
  epochs?: number;
  /** @default by model kind (FINETUNE_DEFAULTS) */
  learningRate?: number;
  /** @default 'cosine' */
  schedule?: LearningRateSchedule;
  /** @default DEFAULT_BATCH_SIZE */
  batchSize?: number;
  /** Weight (0..1) of the label loss; > 0 needs labels in the data. @default by model kind where the data has labels, else 0 */
  labelWeight?: number;
  seed: number;
  /** Manifest names of pruned weights (their zeros stay). */
  masked: readonly string[];
  /** Gradual pruning of these groups (their weights restart from the original's values); not in `masked`. */
  gradual?: PruneGroup[];
  /** Gradual pruning: share of the steps over which the sparsity rises. @default GRADUAL_END_SHARE */
  gradualEnd?: number;
  onProgress?: (message: string) => void;
}

/**
 * Fine-tunes `compressed` (its factorized structure as written) towards `original`
 * on a data file and returns it with the trained weights. Layers models only.
 */
export async function finetuneModel(original: ModelFile, compressed: ModelFile, opts: FinetuneModelOptions): Promise<{ model: ModelFile; summary: FinetuneSummary }> {
  if (original.format !== 'layers-model') {
    throw new UsageError(`--finetune: ${original.path} is a graph model; fine-tuning needs a layers model (graph models have no trainable layers in TF.js)`);
  }
  if (opts.labelWeight !== undefined && !(opts.labelWeight >= 0 && opts.labelWeight <= 1)) {
    throw new UsageError(`--label-weight: expected a number between 0 and 1, found ${opts.labelWeight}`);
  }
  const started = performance.now();
  const progress = opts.onProgress ?? (() => {});
  registerTrainingKernels();
  const teacher = await loadLayers(original);
  const student = await loadLayers(compressed);
  try {
    progress(`reading ${opts.data}`);
    const data = await readModelData(opts.data, original, teacher, true);
    if ((opts.labelWeight ?? 0) > 0 && data.labels === null) {
      throw new UsageError(`--label-weight ${opts.labelWeight}: the fine-tuning data ${opts.data} has no labels (expected "labels" beside "inputs", or "label" on every JSON Lines row)`);
    }
    const kind = modelKind(teacher.outputs[0]?.shape ?? []);
    const { epochs, learningRate, labelWeight, defaulted } = resolveSettings(kind, opts, data.labels !== null);
    const schedule = opts.schedule ?? 'cosine';
    const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
    const result = await distill(teacher, student, data, {
      epochs,
      learningRate,
      schedule,
      batchSize,
      labelWeight,
      seed: opts.seed,
      masked: opts.masked,
      ...(opts.gradual ? { gradual: { groups: opts.gradual, dense: denseValues(original, opts.gradual), endShare: opts.gradualEnd } } : {}),
      onProgress: progress,
    });
    const weights = compressed.weights.map((w) => {
      const trained = result.weights.get(w.name);
      return trained && w.dtype === 'float32' ? { ...w, values: trained } : w;
    });
    const missing = [...result.weights.keys()].filter((n) => !compressed.weights.some((w) => w.name === n));
    if (missing.length) throw new Error(`internal: trained weights ${missing.join(', ')} are not in the compressed model`);
    return {
      model: { ...compressed, weights },
      summary: {
        path: data.path,
        examples: data.count,
        trainExamples: result.trainExamples,
        validationExamples: result.validationExamples,
        labelled: data.labels !== null,
        kind,
        defaulted,
        epochs,
        learningRate,
        schedule,
        batchSize,
        labelWeight,
        bestEpoch: result.bestEpoch,
        initialValidationLoss: result.initialValidationLoss,
        history: result.history,
        fidelityBefore: result.fidelityBefore,
        fidelityAfter: result.fidelityAfter,
        ...(result.gradual ? { gradual: result.gradual } : {}),
        seconds: (performance.now() - started) / 1000,
      },
    };
  } finally {
    teacher.dispose();
    student.dispose();
  }
}

/** The original's values of the gradually pruned weights, by name. */
function denseValues(original: ModelFile, groups: readonly PruneGroup[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of groups.flatMap((g) => g.weights)) {
    const w = original.weights.find((x) => x.name === name);
    if (!w || !(w.values instanceof Float32Array)) throw new Error(`internal: gradual pruning of ${name}, which the original model lacks`);
    out.set(name, w.values);
  }
  return out;
}
