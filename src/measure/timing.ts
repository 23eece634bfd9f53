import { Worker } from 'node:worker_threads';
import { tf } from '../tf.js';
import { latencyThreads, type BackendName } from '../backend.js';
import type { LatencyOptions } from './latency.js';

/** An input of a timed model: its shape without the batch axis; token ids below `vocab` for int32. */
export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly vocab?: number;
}

export interface TimingRequest {
  id: number;
  format: 'layers-model' | 'graph-model';
  a: tf.io.ModelArtifacts;
  /** Absent: time A alone (`b` of the reply is then empty). */
  b?: tf.io.ModelArtifacts;
  inputs: InputSpec[];
  batch: number;
  options: LatencyOptions;
}

export type TimingReply = { id: number; a: number[]; b: number[] } | { id: number; error: string };

/**
 * Times pairs of models A/B interleaved (pairedTimes) in a worker thread that runs its own
 * TF.js on the backend latency is reported on, with the reported thread count (one for
 * wasm, as stock TF.js runs it in Node and in browsers that are not cross-origin
 * isolated): the main thread's backend keeps its threads for factorizing, and waits while
 * a pair is timed, so the two never share the cores. Start it early: it takes a few hundred
 * milliseconds to load TF.js.
 */
export class TimingWorker {
  private readonly worker: Worker;
  private next = 0;
  private readonly pending = new Map<number, { resolve: (r: { a: number[]; b: number[] }) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(backend: BackendName) {
    this.worker = new Worker(new URL('./timingWorker.js', import.meta.url), {
      workerData: { backend },
      env: { ...process.env, HMF_WASM_THREADS: String(latencyThreads()) },
    });
    this.worker.unref();
    this.worker.on('message', (reply: TimingReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if ('error' in reply) p.reject(new Error(`latency micro-benchmark failed: ${reply.error}`));
      else p.resolve(reply);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`latency worker exited with code ${code}`)));
  }

  time(request: Omit<TimingRequest, 'id'>): Promise<{ a: number[]; b: number[] }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...request, id });
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error('latency worker closed');
    await this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
