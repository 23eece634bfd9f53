/**
 * Gradual magnitude pruning during fine-tuning (`--prune-schedule gradual`): Zhu & Gupta,
 * "To prune, or not to prune" (2017), as tfmot's PolynomialDecay schedule. Training starts
 * from the original (dense) weights; every `frequency` steps from `beginStep` to `endStep`
 * each group keeps its largest |w|, the count falling as
 *   keep(t) = final + (initial - final) * (1 - (t - begin) / (end - begin))^3,
 * (the sparsity s(t) = 1 - keep / size rises by the same cubic from 0), reaching the
 * group's final count exactly at `endStep`; the mask then stays and pruned weights stay zero.
 */
import { pruneGlobal } from '../methods/prune.js';

/** Weights pruned together: one matrix (`--scope layer`), or every target (`--scope global`). */
export interface PruneGroup {
  /** Manifest weight names. */
  weights: string[];
  /** Non-zeros kept at the end (what one-shot pruning keeps). */
  keep: number;
}

export interface GradualSchedule {
  groups: PruneGroup[];
  /** First step that prunes (0-based). */
  beginStep: number;
  /** Step at which the final counts are reached (0-based); later steps keep the mask. */
  endStep: number;
  /** Steps between mask updates. */
  frequency: number;
}

/** Share of the fine-tuning steps over which the sparsity rises; the rest retrain at the final mask. */
export const GRADUAL_END_SHARE = 0.3;
/** Mask updates over the rising part of the schedule. */
export const GRADUAL_UPDATES = 20;

/** The schedule for `totalSteps` steps: begin at step 0, end at `endShare` of the steps, GRADUAL_UPDATES updates. */
export function defaultSchedule(groups: PruneGroup[], totalSteps: number, endShare = GRADUAL_END_SHARE): GradualSchedule {
  const endStep = Math.max(0, Math.min(totalSteps - 1, Math.round(totalSteps * endShare)));
  return { groups, beginStep: 0, endStep, frequency: Math.max(1, Math.floor(endStep / GRADUAL_UPDATES)) };
}

/** Whether the masks are recomputed before step `step`. */
export function isPruningStep(step: number, s: GradualSchedule): boolean {
  if (step < s.beginStep || step > s.endStep) return false;
  return step === s.endStep || (step - s.beginStep) % s.frequency === 0;
}

/** Weights a group of `size` entries keeps at `step`: the cubic from `size` down to `keep`. */
export function keepAt(step: number, size: number, keep: number, s: GradualSchedule): number {
  if (step >= s.endStep) return keep;
  if (step <= s.beginStep) return size;
  const left = 1 - (step - s.beginStep) / (s.endStep - s.beginStep);
  return keep + Math.round((size - keep) * left ** 3);
}

/**
 * Masks (1 kept, 0 pruned) keeping the `keep` largest |w| across `values` (one group),
 * ties broken as pruneGlobal breaks them; zeros are never kept.
 */
export function magnitudeMasks(values: readonly Float32Array[], keep: number): Float32Array[] {
  const pruned = pruneGlobal(
    values.map((data) => ({ rows: 1, cols: data.length, data })),
    keep,
  );
  return pruned.map((p) => Float32Array.from(p.pruned.data, (v) => (v === 0 ? 0 : 1)));
}
