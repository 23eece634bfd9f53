/**
 * The job kinds the helper thread runs (thread.ts), each a plain-JavaScript function
 * over shared memory, and their typed entry points.
 */
import { symmetricEigenvalues } from '../linalg/eig.js';
import { tallyRows, type TallyPart } from '../measure/tally.js';
import { runShared, sharedBatch, type JobRunner, type SharedBatch } from './thread.js';

/** eigenvalues: job j = symmetricEigenvalues of input matrix j (n x n float64) into output row j. params [n]. */
function eigenvaluesJob(batch: SharedBatch, j: number): void {
  const [n] = batch.params;
  const matrix = new Float64Array(batch.input, j * n * n * 8, n * n).slice(); // overwritten by the solver: a private copy
  new Float64Array(batch.output, j * n * 8, n).set(symmetricEigenvalues(matrix, n));
}

/** Float64 slots per tally job: diff, norm, rows, agree, kl, distribution (1 or 0). */
const TALLY_SLOTS = 6;

/** tally: job j = tallyRows over chunk j of the rows of x and y (float32, x then y in input). params [rows, width, chunks]. */
function tallyJob(batch: SharedBatch, j: number): void {
  const [rows, width, chunks] = batch.params;
  const x = new Float32Array(batch.input, 0, rows * width);
  const y = new Float32Array(batch.input, rows * width * 4, rows * width);
  const [from, to] = chunkRows(rows, chunks, j);
  const part = tallyRows(x, y, width, from, to);
  new Float64Array(batch.output, j * TALLY_SLOTS * 8, TALLY_SLOTS).set([part.diff, part.norm, part.rows, part.agree, part.kl, part.distribution ? 1 : 0]);
}

export const JOB_RUNNERS: Record<string, JobRunner> = { eigenvalues: eigenvaluesJob, tally: tallyJob };

/**
 * symmetricEigenvalues of each n x n matrix (row-major float64), bit for bit, shared with
 * the helper thread when it runs. The matrices are left as they are.
 */
export function eigenvaluesOfEach(matrices: readonly Float64Array[], n: number): Float64Array[] {
  for (const m of matrices) {
    if (m.length !== n * n) throw new RangeError(`eigenvaluesOfEach: ${n}x${n} needs ${n * n} values, got ${m.length}`);
  }
  const batch = sharedBatch('eigenvalues', matrices.length, matrices.length * n * n * 8, matrices.length * n * 8, [n]);
  const input = new Float64Array(batch.input);
  matrices.forEach((m, j) => input.set(m, j * n * n));
  runShared(batch, eigenvaluesJob);
  const output = new Float64Array(batch.output);
  return matrices.map((_, j) => output.slice(j * n, (j + 1) * n));
}

/** Outputs of at least this many values are tallied in TALLY_CHUNKS chunks (shared with the helper); smaller ones in one. */
export const TALLY_SHARED_MIN = 1 << 20;
export const TALLY_CHUNKS = 8;

/**
 * tallyRows over all rows of x and y (rows x width), as parts in row order: one part, or
 * TALLY_CHUNKS for large outputs, a split that depends on the size alone (so do the sums).
 */
export function tallyAll(x: Float32Array, y: Float32Array, width: number): TallyPart[] {
  const rows = x.length / width;
  if (x.length < TALLY_SHARED_MIN) return [tallyRows(x, y, width, 0, rows)];
  const chunks = TALLY_CHUNKS;
  const batch = sharedBatch('tally', chunks, 2 * x.length * 4, chunks * TALLY_SLOTS * 8, [rows, width, chunks]);
  new Float32Array(batch.input, 0, x.length).set(x);
  new Float32Array(batch.input, x.length * 4, y.length).set(y);
  runShared(batch, tallyJob);
  const out = new Float64Array(batch.output);
  return Array.from({ length: chunks }, (_, j) => {
    const [diff, norm, partRows, agree, kl, distribution] = out.subarray(j * TALLY_SLOTS, (j + 1) * TALLY_SLOTS);
    return { diff, norm, rows: partRows, agree, kl, distribution: distribution === 1 };
  });
}

/** Rows [from, to) of chunk j when `rows` are cut into `chunks` nearly equal chunks. */
function chunkRows(rows: number, chunks: number, j: number): [number, number] {
  return [Math.floor((rows * j) / chunks), Math.floor((rows * (j + 1)) / chunks)];
}
