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
  let diff = 0;
  let norm = 0;
  for (let i = from * width; i < to * width; i++) {
    diff += (x[i] - y[i]) ** 2;
    norm += x[i] ** 2;
  }
  let distribution = width > 1;
  let agree = 0;
  let kl = 0;
  for (let r = from; r < to; r++) {
    const o = r * width;
    let ia = 0;
    let ib = 0;
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const p = x[o + j];
      if (p < 0) distribution = false;
      sum += p;
      if (j > 0 && p > x[o + ia]) ia = j;
      if (j > 0 && y[o + j] > y[o + ib]) ib = j;
      if (p > 0) kl += p * Math.log(p / Math.max(y[o + j], 1e-12));
    }
    if (Math.abs(sum - 1) > 1e-3) distribution = false;
    if (ia === ib) agree++;
  }
  return { diff, norm, rows: to - from, agree, kl, distribution };
}
