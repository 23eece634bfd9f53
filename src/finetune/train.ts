import { tf } from '../tf.js';
import { batchLabels, batchRanges, batchTensors, type Dataset } from '../data/index.js';
import { UsageError } from '../errors.js';
import { mulberry32 } from '../linalg/random.js';
import { compareOutputs, type OutputFidelity } from '../measure/fidelity.js';
import { layersRunnable, type Runnable } from '../measure/runnable.js';
import { defaultSchedule, isPruningStep, keepAt, magnitudeMasks, type GradualSchedule, type PruneGroup } from './gradual.js';

export interface DistillOptions {
  /** @default 2 */
  epochs?: number;
  /** Peak Adam learning rate (see `schedule`). @default DEFAULT_LEARNING_RATE */
  learningRate?: number;
  /**
   * `cosine`: linear warm-up over the first `warmup` share of the steps, then cosine decay
   * to 0 at the last step; `constant`: `learningRate` throughout. @default 'cosine'
   */
  schedule?: LearningRateSchedule;
  /** Share of the steps spent warming up (cosine schedule). @default 0.1 */
  warmup?: number;
  /** @default DEFAULT_BATCH_SIZE */
  batchSize?: number;
  /** Share of the examples held out for validation (best epoch, fidelity). @default 0.1 */
  validation?: number;
  /** Weight of the label loss when the data has labels (the rest is distillation). @default 0 (pure distillation) */
  labelWeight?: number;
  /** Seed of the split and the batch order. @default 0 */
  seed?: number;
  /** Weight names (manifest names) whose zeros must stay zero: pruned matrices. */
  masked?: readonly string[];
  /**
   * Gradual pruning (src/finetune/gradual.ts): these groups' weights restart from `dense`
   * (the original values, by weight name) and are pruned by magnitude as training goes,
   * down to each group's final count; only epochs that end at the final masks (and the
   * pruned starting point) can be kept. Their names must not be in `masked`.
   */
  gradual?: { groups: PruneGroup[]; dense: ReadonlyMap<string, Float32Array>; endShare?: number; schedule?: Partial<Omit<GradualSchedule, 'groups'>> };
  onProgress?: (message: string) => void;
}

export type LearningRateSchedule = 'cosine' | 'constant';

/**
 * Peak of the warm-up + cosine schedule. Measured (2 epochs, HMF x4, calibrated): the char
 * LSTM needs it (1e-4 constant: perplexity +15%; 3e-3 cosine: +7%), while on the
 * classifiers, already at the original's accuracy after calibration, any rate from 3e-4
 * up raises the validation loss and the start is kept (best-of rule in `distill`).
 */
export const DEFAULT_LEARNING_RATE = 3e-3;
/** Smaller batches: more steps per epoch for little more time (per-step overhead dominates). */
export const DEFAULT_BATCH_SIZE = 16;

/** Learning rate at `step` (0-based) of `total` steps. */
export function scheduledRate(peak: number, step: number, total: number, schedule: LearningRateSchedule = 'cosine', warmup = 0.1): number {
  if (schedule === 'constant') return peak;
  const warm = Math.floor(total * warmup);
  if (step < warm) return (peak * (step + 1)) / (warm + 1);
  const t = (step - warm + 1) / Math.max(1, total - warm + 1);
  return peak * 0.5 * (1 + Math.cos(Math.PI * t));
}

/** Adam whose learning rate a schedule sets before each step. */
class ScheduledAdam extends tf.AdamOptimizer {
  setLearningRate(rate: number): void {
    this.learningRate = rate;
  }
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Validation loss (the training objective, on the validation slice) after the epoch. */
  validationLoss: number;
  seconds: number;
  /** Gradual pruning: share of the pruned weights that are zero after the epoch. */
  sparsity?: number;
}

export interface DistillResult {
  /** Trained values by manifest weight name (the best epoch's). */
  weights: Map<string, Float32Array>;
  /** 0 when no epoch beat the untrained model (its weights are kept). */
  bestEpoch: number;
  initialValidationLoss: number;
  history: EpochRecord[];
  trainExamples: number;
  validationExamples: number;
  /** Original vs student on the validation slice, before and after training. */
  fidelityBefore: OutputFidelity[];
  fidelityAfter: OutputFidelity[];
  /** Gradual pruning: the schedule followed, in steps. */
  gradual?: { beginStep: number; endStep: number; frequency: number; totalSteps: number };
}

/**
 * Trains `student` (the compressed model, factor layers trainable) to reproduce
 * `teacher` (the original) on the dataset's inputs: cross-entropy against the
 * teacher's probabilities for softmax outputs, mean squared error otherwise; mixed
 * with cross-entropy against the labels when the data has them. Masked weights keep
 * their zeros (the mask is re-applied after every step). A validation slice picks
 * the best epoch, whose weights are returned (and left in `student`).
 */
export async function distill(teacher: tf.LayersModel, student: tf.LayersModel, data: Dataset, opts: DistillOptions = {}): Promise<DistillResult> {
  const epochs = opts.epochs ?? 2;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  const peakRate = opts.learningRate ?? DEFAULT_LEARNING_RATE;
  const progress = opts.onProgress ?? (() => {});
  const labelWeight = data.labels ? (opts.labelWeight ?? 0) : 0;
  const shuffled = shuffleDataset(data, opts.seed ?? 0);
  const holdout = data.count >= 10 ? Math.max(1, Math.round(data.count * (opts.validation ?? 0.1))) : 0;
  const trainCount = data.count - holdout;
  const validation = holdout > 0 ? { start: trainCount, end: data.count } : { start: 0, end: data.count };

  const trainer = createTrainer(teacher, student, shuffled, { ...opts, labelWeight, batchSize });
  const { variables, lossOf } = trainer;

  const validationLoss = (): number => {
    let total = 0;
    let rows = 0;
    for (const r of batchRanges(validation.end - validation.start, batchSize)) {
      const xs = batchTensors(shuffled, validation.start + r.start, validation.start + r.end);
      const labels = batchLabels(shuffled, validation.start + r.start, validation.start + r.end);
      const l = tf.tidy(() => lossOf(xs, labels, false));
      total += l.dataSync()[0] * (r.end - r.start);
      rows += r.end - r.start;
      tf.dispose([...xs, l]);
    }
    return total / Math.max(1, rows);
  };
  const fidelity = async (): Promise<OutputFidelity[]> => {
    const batches = batchRanges(validation.end - validation.start, batchSize).map((r) =>
      batchTensors(shuffled, validation.start + r.start, validation.start + r.end),
    );
    try {
      return (await compareOutputs(keep(layersRunnable(teacher)), keep(layersRunnable(student)), batches)).outputs;
    } finally {
      tf.dispose(batches.flat());
    }
  };

  const fidelityBefore = await fidelity();
  const initialValidationLoss = validationLoss();
  let best = { epoch: 0, loss: initialValidationLoss, values: snapshot(variables) };
  const history: EpochRecord[] = [];
  const ranges = batchRanges(trainCount, batchSize);
  const order = mulberry32((opts.seed ?? 0) + 1);
  const started = performance.now();
  const totalSteps = epochs * ranges.length;
  const gradual = opts.gradual ? startGradual(opts.gradual, variables, trainer, totalSteps) : null;
  let steps = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    const batches = [...ranges].sort(() => order() - 0.5);
    let sum = 0;
    for (const [b, r] of batches.entries()) {
      if (gradual && isPruningStep(steps, gradual.schedule)) gradual.prune(steps);
      const xs = batchTensors(shuffled, r.start, r.end);
      const labels = batchLabels(shuffled, r.start, r.end);
      const loss = trainer.step(xs, labels, scheduledRate(peakRate, steps, totalSteps, opts.schedule, opts.warmup));
      tf.dispose(xs);
      sum += loss;
      steps++;
      const left = ((performance.now() - started) / 1000 / steps) * (totalSteps - steps);
      progress(`fine-tune epoch ${epoch}/${epochs} batch ${b + 1}/${batches.length} loss ${loss.toFixed(4)}, ~${Math.ceil(left)}s left`);
      await tf.nextFrame();
    }
    const validationLossNow = validationLoss();
    const record: EpochRecord = { epoch, loss: sum / Math.max(1, batches.length), validationLoss: validationLossNow, seconds: (performance.now() - t0) / 1000 };
    if (gradual) record.sparsity = gradual.sparsity();
    history.push(record);
    // Under gradual pruning only an epoch that ends at the final masks is a candidate.
    const eligible = !gradual || steps - 1 >= gradual.schedule.endStep;
    if (eligible && validationLossNow < best.loss) best = { epoch, loss: validationLossNow, values: snapshot(variables) };
  }
  variables.forEach((v, i) => v.variable.assign(tf.tensor(best.values[i], v.variable.shape)));
  const fidelityAfter = await fidelity();
  trainer.dispose();
  return {
    weights: new Map(variables.map((v, i) => [v.name, best.values[i]])),
    bestEpoch: best.epoch,
    initialValidationLoss,
    history,
    trainExamples: trainCount,
    validationExamples: validation.end - validation.start,
    fidelityBefore,
    fidelityAfter,
    ...(gradual ? { gradual: { beginStep: gradual.schedule.beginStep, endStep: gradual.schedule.endStep, frequency: gradual.schedule.frequency, totalSteps } } : {}),
  };
}

/**
 * Restores the gradual groups' weights to their dense values and returns the schedule and
 * what prunes them at a step (new magnitude masks, applied at once and after every step).
 */
function startGradual(
  g: NonNullable<DistillOptions['gradual']>,
  variables: readonly { name: string; variable: tf.Variable }[],
  trainer: Trainer,
  totalSteps: number,
): { schedule: GradualSchedule; prune: (step: number) => void; sparsity: () => number } {
  const schedule = { ...defaultSchedule(g.groups, totalSteps, g.endShare), ...g.schedule, groups: g.groups };
  const byName = new Map(variables.map((v) => [v.name, v.variable]));
  const groups = g.groups.map((group) => {
    const vars = group.weights.map((name) => {
      const v = byName.get(name);
      const dense = g.dense.get(name);
      if (!v || !dense) throw new Error(`internal: gradual pruning of ${name}, which the student or the original lacks`);
      v.assign(tf.tensor(dense, v.shape));
      return v;
    });
    return { ...group, vars, size: vars.reduce((s, v) => s + v.size, 0) };
  });
  return {
    schedule,
    prune: (step) => {
      for (const group of groups) {
        const values = group.vars.map((v) => v.dataSync() as Float32Array);
        const masks = magnitudeMasks(values, keepAt(step, group.size, group.keep, schedule));
        group.weights.forEach((name, i) => trainer.setMask(name, masks[i]));
      }
    },
    sparsity: () => {
      let zeros = 0;
      let size = 0;
      for (const group of groups) {
        for (const v of group.vars) {
          const d = v.dataSync();
          for (let i = 0; i < d.length; i++) if (d[i] === 0) zeros++;
          size += d.length;
        }
      }
      return zeros / Math.max(1, size);
    },
  };
}

/** One optimisation step at a time on a student towards a teacher (what `distill` repeats). */
export interface Trainer {
  /** The student's trainable variables by manifest weight name. */
  variables: { name: string; variable: tf.Variable }[];
  /** The objective on a batch (labels used only with a label weight > 0). */
  lossOf(xs: tf.Tensor[], labels: Int32Array | null, training: boolean): tf.Scalar;
  /** One Adam step at learning rate `rate`; pruned zeros re-masked. Returns the batch loss. */
  step(xs: tf.Tensor[], labels: Int32Array | null, rate: number): number;
  /** Replaces the mask (1 kept, 0 pruned) of a weight and applies it now; every later step re-applies it. */
  setMask(name: string, mask: Float32Array): void;
  dispose(): void;
}

/**
 * Sets up distillation of `student` towards `teacher`; `sample` (its first batch)
 * tells which outputs are probability rows.
 */
export function createTrainer(
  teacher: tf.LayersModel,
  student: tf.LayersModel,
  sample: Dataset,
  opts: Pick<DistillOptions, 'learningRate' | 'labelWeight' | 'masked' | 'batchSize'> = {},
): Trainer {
  const labelWeight = opts.labelWeight ?? 0;
  student.trainable = true;
  const variables = student.trainableWeights.map((w) => ({ name: w.originalName, variable: w.read() as tf.Variable }));
  const maskedNames = new Set(opts.masked ?? []);
  const masks = new Map(
    variables.filter((v) => maskedNames.has(v.name)).map((v) => [v.name, { variable: v.variable, mask: tf.tidy(() => tf.notEqual(v.variable, 0).cast('float32')) }]),
  );
  const optimizer = new ScheduledAdam(opts.learningRate ?? DEFAULT_LEARNING_RATE, 0.9, 0.999);
  const softmax = detectDistributions(teacher, sample, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  if (labelWeight > 0 && !softmax[0]) {
    throw new UsageError(`--label-weight ${labelWeight}: the label loss needs a softmax first output (class probabilities); ${teacher.outputNames[0] ?? 'the output'} is not one`);
  }

  const lossOf = (xs: tf.Tensor[], labels: Int32Array | null, training: boolean): tf.Scalar => {
    const targets = asList(teacher.predict(unwrap(xs)));
    const outputs = asList(student.apply(unwrap(xs), { training }) as tf.Tensor | tf.Tensor[]);
    let loss = tf.scalar(0);
    outputs.forEach((y, i) => {
      const t = targets[i];
      const term = softmax[i] ? tf.neg(tf.mean(tf.sum(tf.mul(t, tf.log(tf.add(y, 1e-7))), -1))) : tf.mean(tf.square(tf.sub(y, t)));
      loss = tf.add(loss, term);
    });
    if (labels && labelWeight > 0) {
      const y = outputs[0];
      const width = y.shape[y.shape.length - 1]!;
      const onehot = tf.oneHot(tf.tensor(labels, y.shape.slice(0, -1), 'int32'), width);
      const ce = tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.log(tf.add(y, 1e-7))), -1)));
      loss = tf.add(tf.mul(loss, 1 - labelWeight), tf.mul(ce, labelWeight));
    }
    return loss as tf.Scalar;
  };

  return {
    variables,
    lossOf,
    step: (xs, labels, rate) => {
      optimizer.setLearningRate(rate);
      const cost = optimizer.minimize(() => lossOf(xs, labels, true), true, variables.map((v) => v.variable));
      for (const { variable, mask } of masks.values()) tf.tidy(() => variable.assign(tf.mul(variable, mask)));
      const loss = cost ? cost.dataSync()[0] : NaN;
      if (cost) cost.dispose();
      return loss;
    },
    setMask: (name, values) => {
      const v = variables.find((x) => x.name === name);
      if (!v) throw new Error(`internal: no trainable weight ${name} to mask`);
      masks.get(name)?.mask.dispose();
      const mask = tf.tensor(values, v.variable.shape);
      masks.set(name, { variable: v.variable, mask });
      tf.tidy(() => v.variable.assign(tf.mul(v.variable, mask)));
    },
    dispose: () => {
      optimizer.dispose();
      tf.dispose([...masks.values()].map((m) => m.mask));
    },
  };
}

/** A Runnable that does not dispose its model (distill does not own the models). */
function keep(r: Runnable): Runnable {
  return { ...r, dispose: () => {} };
}

function snapshot(vs: readonly { variable: tf.Variable }[]): Float32Array[] {
  return vs.map((v) => Float32Array.from(v.variable.dataSync() as Float32Array));
}

function unwrap(xs: tf.Tensor[]): tf.Tensor | tf.Tensor[] {
  return xs.length === 1 ? xs[0] : xs;
}

function asList(y: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
  return Array.isArray(y) ? y : [y];
}

/** Per output: does the teacher emit probability rows (a softmax)? Checked on the first batch. */
function detectDistributions(teacher: tf.LayersModel, data: Dataset, batchSize: number): boolean[] {
  const xs = batchTensors(data, 0, Math.min(batchSize, data.count));
  try {
    return tf.tidy(() =>
      asList(teacher.predict(unwrap(xs))).map((y) => {
        if (y.shape[y.shape.length - 1]! < 2) return false;
        const min = y.min().dataSync()[0];
        const sums = y.sum(-1);
        const off = tf.abs(tf.sub(sums, 1)).max().dataSync()[0];
        return min >= 0 && off < 1e-3;
      }),
    );
  } finally {
    tf.dispose(xs);
  }
}

/** The dataset with its examples in a seeded random order. */
export function shuffleDataset(data: Dataset, seed: number): Dataset {
  const u = mulberry32(seed + 7);
  const order = Array.from({ length: data.count }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const permute = <T extends Float32Array | Int32Array>(values: T, size: number): T => {
    const out = new (values.constructor as new (n: number) => T)(values.length);
    order.forEach((from, to) => out.set(values.subarray(from * size, (from + 1) * size), to * size));
    return out;
  };
  const labelSize = data.labelShape.reduce((a, b) => a * b, 1);
  return {
    ...data,
    inputs: data.inputs.map((i) => ({ ...i, values: permute(i.values, i.shape.reduce((a, b) => a * b, 1)) })),
    labels: data.labels ? permute(data.labels, labelSize) : null,
  };
}
