/** The helper thread of thread.ts: takes a batch's jobs from the end until it meets the caller. */
import { parentPort } from 'node:worker_threads';
import { JOB_RUNNERS } from './jobs.js';
import { DONE, FREE, TAKEN, type SharedBatch } from './thread.js';

parentPort?.on('message', (batch: SharedBatch) => {
  const state = new Int32Array(batch.state);
  const run = JOB_RUNNERS[batch.kind];
  if (!run) return; // unknown kind: the caller does every job
  for (let j = batch.count - 1; j >= 0; j--) {
    if (Atomics.compareExchange(state, j, FREE, TAKEN) !== FREE) return;
    run(batch, j);
    Atomics.store(state, j, DONE);
    Atomics.notify(state, j);
  }
});
