/**
 * Budget allocation across matrices (DESIGN.md §8): data in, decision out. Each matrix
 * offers options (a structure with its parameters, predicted cost to the model's output
 * and predicted latency); the allocation picks one option per matrix so that the total
 * parameters stay within the budget and the objective is best. Greedy on each matrix's
 * lower convex hull, by gain per parameter: exact for the LMF cost curves (their gains
 * per rank step only shrink), and within one step of the budget otherwise.
 */

/** One structure a matrix can take. */
export interface AllocationOption {
  /** Parameters stored. */
  readonly params: number;
  /** Predicted cost to the model's output (sensitivity x relative error², or the error² alone). */
  readonly cost: number;
  /**
   * Predicted latency of the layer in this structure minus the dense layer's, summed over
   * the timed batch sizes and relative to the whole model's time at each (0 when unknown).
   */
  readonly latency: number;
}

export interface MatrixOptions {
  /** Options in ascending parameters; the first is the smallest allowed. */
  readonly options: readonly AllocationOption[];
}

/**
 * `size`: least cost within the budget (latency is not considered);
 * `latency`: least latency within the budget, cost breaking ties;
 * `balanced`: least cost within the budget (the options are already limited to those
 * that do not slow the model down; see plan/index.ts).
 */
export type AllocationObjective = 'balanced' | 'size' | 'latency';

export interface Allocation {
  /** Index of the chosen option per matrix. */
  readonly chosen: number[];
  readonly params: number;
  readonly cost: number;
}

/** Weight of cost against latency in the `latency` objective: a tie-breaker only. */
const LATENCY_COST_WEIGHT = 1e-3;

/**
 * Chooses one option per matrix with total parameters <= budget. Returns null when even
 * the smallest options exceed the budget.
 */
export function allocate(matrices: readonly MatrixOptions[], budget: number, objective: AllocationObjective): Allocation | null {
  const key = (o: AllocationOption): number => (objective === 'latency' ? o.latency + LATENCY_COST_WEIGHT * o.cost : o.cost);
  const chosen = matrices.map(() => 0);
  let params = matrices.reduce((s, m) => s + first(m).params, 0);
  if (params > budget) return null;

  interface Segment {
    matrix: number;
    from: number;
    to: number;
    params: number;
    gain: number;
  }
  const segments: Segment[] = [];
  matrices.forEach((m, t) => {
    const hull = lowerHull(m.options, key);
    for (let i = 0; i + 1 < hull.length; i++) {
      const a = m.options[hull[i]];
      const b = m.options[hull[i + 1]];
      segments.push({ matrix: t, from: hull[i], to: hull[i + 1], params: b.params - a.params, gain: (key(a) - key(b)) / (b.params - a.params) });
    }
  });
  // Largest gain per parameter first; ties to the earlier matrix and the smaller step, so the result is deterministic.
  segments.sort((x, y) => y.gain - x.gain || x.matrix - y.matrix || x.from - y.from);
  for (const s of segments) {
    if (s.gain <= 0) break;
    if (chosen[s.matrix] !== s.from || params + s.params > budget) continue;
    chosen[s.matrix] = s.to;
    params += s.params;
  }
  // What the hull's steps left unspent (a step too large for the rest of the budget skips
  // the options inside it, e.g. ranks on the way to dense): the best move per parameter that
  // still fits, to any larger option, until none does. The factor is a target, not a
  // ceiling: where every move costs (the latency objective, whose time grows with rank),
  // the budget is still spent, on the moves that cost least per parameter.
  for (;;) {
    let best: { matrix: number; to: number; gain: number; params: number } | null = null;
    matrices.forEach((m, t) => {
      const from = m.options[chosen[t]];
      for (let j = chosen[t] + 1; j < m.options.length; j++) {
        const dp = m.options[j].params - from.params;
        if (dp <= 0 || params + dp > budget) continue;
        const gain = (key(from) - key(m.options[j])) / dp;
        if (!best || gain > best.gain || (gain === best.gain && dp < best.params)) best = { matrix: t, to: j, gain, params: dp };
      }
    });
    if (!best) break;
    const move: { matrix: number; to: number; params: number } = best;
    chosen[move.matrix] = move.to;
    params += move.params;
  }
  const cost = matrices.reduce((sum, m, t) => sum + m.options[chosen[t]].cost, 0);
  return { chosen, params, cost };
}

function first(m: MatrixOptions): AllocationOption {
  if (m.options.length === 0) throw new RangeError('allocate: a matrix with no options');
  return m.options[0];
}

/**
 * Indices of the lower convex hull of (params, key), starting at option 0 and keeping
 * only points that lower the key: the options worth moving through, with gains per
 * parameter that shrink along the hull.
 */
export function lowerHull(options: readonly AllocationOption[], key: (o: AllocationOption) => number): number[] {
  const hull: number[] = [0];
  let best = key(options[0]);
  for (let i = 1; i < options.length; i++) {
    const k = key(options[i]);
    if (k >= best || options[i].params <= options[hull[hull.length - 1]].params) continue;
    // Drop the last hull point while it lies on or above the line from its predecessor to this one.
    while (hull.length >= 2) {
      const a = options[hull[hull.length - 2]];
      const b = options[hull[hull.length - 1]];
      const cross = (b.params - a.params) * (k - key(a)) - (key(b) - key(a)) * (options[i].params - a.params);
      if (cross > 0) break;
      hull.pop();
    }
    hull.push(i);
    best = k;
  }
  return hull;
}
