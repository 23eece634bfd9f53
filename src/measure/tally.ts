/**
 * The fidelity sums over a range of output rows: plain JavaScript (no TF.js), so the
 * helper thread can run it too (helper/jobs.ts).
 */

/** Sums over some rows of the original's output x and the compressed model's y. */
export interface TallyPart {
  /** sum (x - y)^2 */
  diff: number;
  /** sum x^2 */
  norm: number;
  rows: number;
  /** Rows whose arg-max agrees. */
  agree: number;
  /** sum over rows of KL(x_row || y_row), meaningful when x's rows are distributions. */
  kl: number;
  /** Every row of x is non-negative and sums to 1 (within 1e-3): a softmax output. */
  distribution: boolean;
}

/** The TallyPart of rows [from, to) of x and y (row-major, `width` values per row). */
export function tallyRows(x: Float32Array, y: Float32Array, width: number, from: number, to: number): TallyPart {
  // The two passes in functions of their own: V8 optimizes a function while its first loop
  // runs and would deoptimize it at the second, which has no type feedback yet.
  const [diff, norm] = differenceSums(x, y, from * width, to * width);
  return { diff, norm, ...rowSums(x, y, width, from, to) };
}

/** [sum (x - y)^2, sum x^2] over [start, end). */
function differenceSums(x: Float32Array, y: Float32Array, start: number, end: number): [number, number] {
  let diff = 0;
  let norm = 0;
  for (let i = start; i < end; i++) {
    diff += (x[i] - y[i]) ** 2;
    norm += x[i] ** 2;
  }
  return [diff, norm];
}

/** Arg-max agreement, KL and the distribution check over rows [from, to). */
function rowSums(x: Float32Array, y: Float32Array, width: number, from: number, to: number): Omit<TallyPart, 'diff' | 'norm'> {
  let distribution = width > 1;
  let agree = 0;
  let kl = 0;
  const row = new Float64Array(ROW_STATS);
  for (let r = from; r < to; r++) {
    rowStats(x, y, r * width, width, kl, row);
    kl = row[0];
    if (row[1] === row[2]) agree++;
    if (row[3] !== 0 || Math.abs(row[4] - 1) > 1e-3) distribution = false;
  }
  return { rows: to - from, agree, kl, distribution };
}

const ROW_STATS = 5;

/**
 * One row's [klBefore + KL(x || y) (one running sum, as over all rows in one loop), arg-max
 * of x, arg-max of y, 1 if x has a negative entry, sum of x] into `out`: a function of its own,
 * called per row, so V8 optimizes it by its calls, not on stack halfway through its first row.
 */
function rowStats(x: Float32Array, y: Float32Array, o: number, width: number, klBefore: number, out: Float64Array): void {
  let ia = 0;
  let ib = 0;
  let sum = 0;
  let negative = 0;
  let kl = klBefore;
  for (let j = 0; j < width; j++) {
    const p = x[o + j];
    if (p < 0) negative = 1;
    sum += p;
    if (j > 0 && p > x[o + ia]) ia = j;
    if (j > 0 && y[o + j] > y[o + ib]) ib = j;
    if (p > 0) kl += p * Math.log(p / Math.max(y[o + j], 1e-12));
  }
  out[0] = kl;
  out[1] = ia;
  out[2] = ib;
  out[3] = negative;
  out[4] = sum;
}
