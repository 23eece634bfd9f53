/** The helper thread of eigenHelper.ts: takes a batch's jobs from the end until it meets the caller. */
import { parentPort } from 'node:worker_threads';
import { symmetricEigenvalues } from './eig.js';
import { DONE, FREE, TAKEN, type EigenBatch } from './eigenHelper.js';

parentPort?.on('message', (batch: EigenBatch) => {
  const { count, n } = batch;
  const state = new Int32Array(batch.state);
  const matrices = new Float64Array(batch.matrices);
  const values = new Float64Array(batch.values);
  for (let j = count - 1; j >= 0; j--) {
    if (Atomics.compareExchange(state, j, FREE, TAKEN) !== FREE) return;
    // A private copy: the same arrays, and so the same code and bits, as the caller's jobs.
    values.set(symmetricEigenvalues(matrices.slice(j * n * n, (j + 1) * n * n), n), j * n);
    Atomics.store(state, j, DONE);
    Atomics.notify(state, j);
  }
});
