/** The helper thread of thread.ts: takes a batch's jobs from the start, each once its input is written, until it meets the caller. */
import { parentPort } from 'node:worker_threads';
import { JOB_RUNNERS } from './jobs.js';
import { DONE, FREE, NOT_READY, TAKEN, type SharedBatch } from './thread.js';

parentPort?.on('message', (batch: SharedBatch) => {
  const state = new Int32Array(batch.state);
  const run = JOB_RUNNERS[batch.kind];
  if (!run) return; // unknown kind: the caller does every job
  for (let j = 0; j < batch.count; j++) {
    while (Atomics.load(state, j) === NOT_READY) Atomics.wait(state, j, NOT_READY, 1000);
    if (Atomics.compareExchange(state, j, FREE, TAKEN) !== FREE) return;
    run(batch, j);
    Atomics.store(state, j, DONE);
    Atomics.notify(state, j);
  }
});
