/**
 * One helper thread for batches of pure-JavaScript jobs, shared with the caller.
 *
 * Between the wasm backend's products (which use every core through its own thread pool)
 * hmf runs long single-threaded JavaScript phases while the second core idles: HMF's
 * (k, r) search (eigenvalue problems, ~0.4 s on the PTB benchmark) and the fidelity
 * tally (~0.2 s). For such a batch, the helper takes jobs from the end while the caller
 * takes them from the start, each claiming a job by compare-and-swap in shared memory,
 * so the call stays synchronous. Both threads run the same job code (jobs.ts) on the
 * same shared inputs, so results do not depend on who computed what; when the helper is
 * not running (not started, still starting, failed), the caller does every job itself.
 */
import { Worker } from 'node:worker_threads';

/** Per-job state in a batch's shared Int32Array. */
export const FREE = 0;
export const TAKEN = 1;
export const DONE = 2;

/**
 * A job the helper took but has not finished after this long is computed here too (the
 * helper may have died: its exit event cannot reach a caller blocked in Atomics.wait).
 */
const STALLED_MS = 10_000;

/** A batch of `count` jobs of one kind (jobs.ts), its inputs and outputs in shared memory. */
export interface SharedBatch {
  kind: string;
  count: number;
  /** count Int32 job states: FREE, TAKEN or DONE. */
  state: SharedArrayBuffer;
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  /** Sizes and the like, as the kind defines them. */
  params: number[];
}

/** Computes job `j` of `batch`: reads `batch.input`, writes its own part of `batch.output`. */
export type JobRunner = (batch: SharedBatch, j: number) => void;

let helper: Worker | null = null;
let helperFailed = false;
let helperOnline: Promise<boolean> = Promise.resolve(false);
/** Jobs of the last batch that the helper thread computed (for tests and benchmarks). */
let lastHelperJobs = 0;

/**
 * Starts the helper thread (once; it then stays, unref'd, so it never holds the process
 * open). Starting takes ~30 ms on its own thread: call this well before the first batch.
 */
export function startHelperThread(): void {
  if (helper || helperFailed) return;
  try {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
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

/** Resolves true once the helper thread runs, false if it is not started or failed (keeps the process alive meanwhile). */
export async function helperThreadOnline(): Promise<boolean> {
  const worker = helper;
  worker?.ref();
  try {
    return await helperOnline;
  } finally {
    worker?.unref();
  }
}

export function lastBatchHelperJobs(): number {
  return lastHelperJobs;
}

/** A batch with fresh shared buffers of the given byte sizes, every job FREE. */
export function sharedBatch(kind: string, count: number, inputBytes: number, outputBytes: number, params: number[]): SharedBatch {
  return {
    kind,
    count,
    state: new SharedArrayBuffer(count * 4),
    input: new SharedArrayBuffer(inputBytes),
    output: new SharedArrayBuffer(outputBytes),
    params,
  };
}

/** Runs every job of `batch` (with `run`, the kind's runner), sharing them with the helper thread when it runs. */
export function runShared(batch: SharedBatch, run: JobRunner): void {
  const state = new Int32Array(batch.state);
  lastHelperJobs = 0;
  const worker = helper;
  if (!worker || batch.count < 2) {
    for (let j = 0; j < batch.count; j++) run(batch, j);
    return;
  }
  worker.postMessage(batch);
  const mine = new Uint8Array(batch.count);
  for (let j = 0; j < batch.count; j++) {
    if (Atomics.compareExchange(state, j, FREE, TAKEN) !== FREE) break; // the helper came from the end and reached here
    run(batch, j);
    mine[j] = 1;
    Atomics.store(state, j, DONE);
  }
  for (let j = 0; j < batch.count; j++) {
    if (mine[j]) continue;
    const since = performance.now();
    for (;;) {
      const s = Atomics.load(state, j);
      if (s === DONE) {
        lastHelperJobs++;
        break;
      }
      if ((s === FREE && Atomics.compareExchange(state, j, FREE, TAKEN) === FREE) || performance.now() - since > STALLED_MS) {
        run(batch, j);
        break;
      }
      Atomics.wait(state, j, TAKEN, 100);
    }
  }
}
