/**
 * Batches of symmetricEigenvalues shared with one helper thread.
 *
 * HMF's (k, r) search needs the eigenvalues of several L x L matrices per round (about
 * 0.4 s of single-threaded JavaScript on the PTB benchmark), while the second core
 * idles: the wasm backend's thread pool only works inside products. The helper thread
 * takes jobs from the end of a batch while the caller takes them from the start, each
 * claiming a job by compare-and-swap in shared memory, so the call stays synchronous.
 * The same code computes every job on either thread, so results are bit-identical to
 * computing them all here; when the helper is not running (not started, still starting,
 * failed), the caller simply does every job itself.
 */
import { Worker } from 'node:worker_threads';
import { symmetricEigenvalues } from './eig.js';

/** Per-job state in the batch's shared Int32Array. */
export const FREE = 0;
export const TAKEN = 1;
export const DONE = 2;

/**
 * A job the helper took but has not finished after this long is computed here too (the
 * helper may have died: its exit event cannot reach a caller blocked in Atomics.wait).
 */
const STALLED_MS = 10_000;

/** What the helper receives for one batch; its replies go through `state` and `values`. */
export interface EigenBatch {
  /** count x n^2 float64 matrices, row-major, one after another. */
  matrices: SharedArrayBuffer;
  /** count x n float64 eigenvalues (descending), one row per job. */
  values: SharedArrayBuffer;
  /** count Int32 job states: FREE, TAKEN or DONE. */
  state: SharedArrayBuffer;
  count: number;
  n: number;
}

let helper: Worker | null = null;
let helperFailed = false;
let helperOnline: Promise<boolean> = Promise.resolve(false);
/** Jobs of the last batch that the helper thread computed (for tests and benchmarks). */
let lastHelperJobs = 0;

export function lastBatchHelperJobs(): number {
  return lastHelperJobs;
}

/** Resolves true once the helper thread runs, false if it is not started or failed (keeps the process alive meanwhile). */
export async function eigenHelperOnline(): Promise<boolean> {
  const worker = helper;
  worker?.ref();
  try {
    return await helperOnline;
  } finally {
    worker?.unref();
  }
}

/**
 * Starts the helper thread (once; it then stays, unref'd, so it never holds the process
 * open). Starting takes ~30 ms on its own thread: call this well before the first batch.
 */
export function startEigenHelper(): void {
  if (helper || helperFailed) return;
  try {
    const worker = new Worker(new URL('./eigenWorker.js', import.meta.url));
    worker.unref();
    helper = worker;
    helperOnline = new Promise((resolve) => {
      worker.once('online', () => resolve(true));
      worker.once('error', () => {
        helperFailed = true;
        helper = null;
        resolve(false);
      });
    });
  } catch {
    helperFailed = true;
    helper = null;
  }
}

/**
 * symmetricEigenvalues of each n x n matrix (row-major float64; each is overwritten, as
 * symmetricEigenvalues does), shared with the helper thread when it runs.
 */
export function eigenvaluesOfEach(matrices: readonly Float64Array[], n: number): Float64Array[] {
  const count = matrices.length;
  for (const m of matrices) {
    if (m.length !== n * n) throw new RangeError(`eigenvaluesOfEach: ${n}x${n} needs ${n * n} values, got ${m.length}`);
  }
  const worker = helper;
  lastHelperJobs = 0;
  if (!worker || count < 2) return matrices.map((m) => symmetricEigenvalues(m, n));
  const batch: EigenBatch = {
    matrices: new SharedArrayBuffer(count * n * n * 8),
    values: new SharedArrayBuffer(count * n * 8),
    state: new SharedArrayBuffer(count * 4),
    count,
    n,
  };
  const shared = new Float64Array(batch.matrices);
  matrices.forEach((m, j) => shared.set(m, j * n * n));
  const state = new Int32Array(batch.state);
  const values = new Float64Array(batch.values);
  worker.postMessage(batch);
  const out: Float64Array[] = new Array(count);
  for (let j = 0; j < count; j++) {
    if (Atomics.compareExchange(state, j, FREE, TAKEN) !== FREE) break; // the helper came from the end and reached here
    out[j] = symmetricEigenvalues(matrices[j], n);
    Atomics.store(state, j, DONE);
  }
  for (let j = 0; j < count; j++) {
    if (out[j]) continue;
    const since = performance.now();
    while (Atomics.load(state, j) !== DONE) {
      Atomics.wait(state, j, TAKEN, 100);
      if (Atomics.load(state, j) === FREE && Atomics.compareExchange(state, j, FREE, TAKEN) === FREE) break;
      if (performance.now() - since > STALLED_MS) break;
    }
    if (Atomics.load(state, j) === DONE) {
      out[j] = values.slice(j * n, (j + 1) * n);
      lastHelperJobs++;
    } else out[j] = symmetricEigenvalues(matrices[j], n);
  }
  return out;
}
