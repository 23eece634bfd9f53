import { toArtifacts, type ModelFile } from '../io/index.js';
import { stats, verdictOf, type LatencyVerdict } from '../measure/latency.js';
import type { InputSpec, TimingWorker } from '../measure/timing.js';
import { structureKey, type Structure } from '../model/bench.js';
import type { LatencyCache } from './latencyCache.js';
import type { WholeModel } from '../model/adapter.js';
import type { TargetMatrix } from '../model/targets.js';

/**
 * What a latency micro-benchmark times: one layer (or graph node) of the model, with its
 * targets in given structures, at the model's own input size. Made by the model adapter.
 */
export interface LatencySubject {
  /** The layer (or node) name, as the report's rows name it. */
  readonly layer: string;
  readonly targets: readonly TargetMatrix[];
  /** Identifies the layer's shapes and configuration: equal keys time alike (cached by it). */
  readonly key: string;
  /** The one-layer model with each target in its structure (dense when absent). */
  build(structures: ReadonlyMap<string, Structure>): ModelFile;
  /** The one-layer model's inputs without the batch axis (the time axis may be shortened, see `scale`). */
  readonly inputs: readonly InputSpec[];
  readonly format: ModelFile['format'];
  /**
   * Factor from the timed model to the layer as the model runs it: sequences longer than
   * the micro-benchmark's are timed on a prefix and scaled by length.
   */
  readonly scale: number;
  /**
   * Timed at batch 1 only: a larger batch's times are batch 1's times the batch. For layers
   * whose single example already costs a micro-benchmark's worth (a convolution at the
   * model's image size), where batch 32 would take seconds per run.
   */
  readonly batchOne?: boolean;
  /** Multiply-accumulates of the layer's targets per example, dense: the planner times the biggest first. */
  readonly macs: number;
}

/** A layer in some structures against the same layer dense, at one batch size. */
export interface LayerTiming {
  readonly batch: number;
  /** Scaled to the layer as the model runs it (see LatencySubject.scale). */
  readonly denseMs: number;
  readonly candidateMs: number;
  readonly verdict: LatencyVerdict;
  /** Not measured: the planning budget (PLAN_BENCH_SECONDS) was spent; both times are 0. */
  readonly untimed?: boolean;
}

/**
 * Seconds of micro-benchmarks one compression may spend. A convnet with a hundred convolutions
 * at its image size would otherwise plan for minutes; the layers left untimed (the smallest:
 * subjects are timed biggest first) are planned without latency and the report says so.
 */
export const PLAN_BENCH_SECONDS = 30;

/**
 * Timed runs per micro-benchmark pair: 30, fewer once MAX_PAIR_SECONDS have gone by, but at
 * least MIN_PAIRS, the fewest with which the sign test (verdictOf) can call a difference
 * significant at all (11 of 12 pairs one way: p = 0.006).
 */
const RUNS = 30;
const MIN_PAIRS = 12;
const MAX_PAIR_SECONDS = 0.25;

/** Runs of the whole model timed for the planner's yardstick: a few, or a second's worth. */
const MODEL_RUNS = 10;
const MODEL_MIN_RUNS = 3;
const MAX_MODEL_SECONDS = 1;

/**
 * Times layers in candidate structures against their dense form, interleaved, on the
 * backend as it is (the caller limits its threads to what latency is reported on), and
 * remembers every answer by the layer's key and the structures: a model with repeated
 * layer shapes (stacked LSTMs, say) times each once per run.
 */
export class LayerTimer {
  private readonly cache = new Map<string, LayerTiming>();

  constructor(
    private readonly worker: TimingWorker,
    private readonly saved?: LatencyCache,
    private readonly budgetSeconds = PLAN_BENCH_SECONDS,
  ) {}

  /** Micro-benchmarks actually run, their wall time (seconds), and those left out when the budget was spent, for the report. */
  count = 0;
  seconds = 0;
  untimed = 0;

  /** Median time of the whole model at `batch` (the yardstick that says how much a layer's change matters). */
  async timeModel(model: WholeModel, batch: number): Promise<number> {
    const key = `${model.key}|b${batch}`;
    const cached = this.cache.get(key) ?? this.saved?.get(key);
    if (cached) return cached.denseMs;
    const started = performance.now();
    try {
      const { a } = await this.worker.time({
        format: model.format,
        a: model.artifacts,
        inputs: model.inputs,
        batch,
        options: { runs: MODEL_RUNS, minRuns: MODEL_MIN_RUNS, warmup: 2, maxSeconds: MAX_MODEL_SECONDS },
      });
      const timing: LayerTiming = { batch, denseMs: stats(a).medianMs, candidateMs: stats(a).medianMs, verdict: 'within noise' };
      this.cache.set(key, timing);
      this.saved?.set(key, timing);
      return timing.denseMs;
    } finally {
      this.count++;
      this.seconds += (performance.now() - started) / 1000;
    }
  }

  async time(subject: LatencySubject, structures: ReadonlyMap<string, Structure>, batch: number): Promise<LayerTiming> {
    if (subject.batchOne && batch > 1) {
      const one = await this.time(subject, structures, 1);
      return { ...one, batch, denseMs: one.denseMs * batch, candidateMs: one.candidateMs * batch };
    }
    const key = `${subject.key}|b${batch}|${subject.targets.map((t) => structureKey(structures.get(t.weight) ?? { kind: 'dense' })).join(',')}`;
    const cached = this.cache.get(key) ?? this.saved?.get(key);
    if (cached) return cached;
    if (this.seconds >= this.budgetSeconds) {
      this.untimed++;
      return { batch, denseMs: 0, candidateMs: 0, verdict: 'within noise', untimed: true };
    }
    const started = performance.now();
    try {
      const { a, b } = await this.worker.time({
        format: subject.format,
        a: toArtifacts(subject.build(new Map())),
        b: toArtifacts(subject.build(structures)),
        inputs: [...subject.inputs],
        batch,
        options: { runs: RUNS, minRuns: MIN_PAIRS, warmup: 3, maxSeconds: MAX_PAIR_SECONDS },
      });
      const timing: LayerTiming = {
        batch,
        denseMs: stats(a).medianMs * subject.scale,
        candidateMs: stats(b).medianMs * subject.scale,
        verdict: verdictOf(a, b),
      };
      this.cache.set(key, timing);
      this.saved?.set(key, timing);
      return timing;
    } finally {
      this.count++;
      this.seconds += (performance.now() - started) / 1000;
    }
  }
}
