/**
 * The worker side of parallel.ts: its own TF.js wasm instance computing the second
 * row block of split products. Messages arrive in order; each product's result is
 * written into shared memory and signalled through the control array. Idle and
 * holding nothing for IDLE_MS, it retires, so its memory (the TF.js instance, the wasm
 * heap, which never shrinks) is not held while the rest of a compression runs.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { CTRL, type ToWorker } from './parallelProtocol.js';

const IDLE_MS = 1500;

const ctrl = new Int32Array((workerData as { ctrl: SharedArrayBuffer }).ctrl);
const blocks = new Map<number, { w: tf.Tensor2D; wt: tf.Tensor2D }>();
let idle: NodeJS.Timeout | undefined;

function signal(index: number, value: number): void {
  Atomics.store(ctrl, index, value);
  Atomics.notify(ctrl, index);
}

function armIdle(): void {
  clearTimeout(idle);
  idle = setTimeout(() => {
    if (blocks.size > 0) return armIdle();
    signal(CTRL.state, 2);
    process.exit(0); // ends this worker thread only
  }, IDLE_MS);
}

function handle(msg: ToWorker): void {
  if (msg.op === 'load') {
    const w = tf.tensor2d(new Float32Array(msg.w), [msg.wRows, msg.cols]);
    const wt = tf.tensor2d(new Float32Array(msg.wt), [msg.wtRows, msg.rows]);
    blocks.set(msg.id, { w, wt });
    signal(CTRL.loaded, msg.id);
  } else if (msg.op === 'mul') {
    const pair = blocks.get(msg.id);
    if (!pair) throw new Error(`matmulWorker: no matrix ${msg.id}`);
    const block = msg.transposed ? pair.wt : pair.w;
    const out = tf.tidy(() => tf.matMul(block, tf.tensor2d(new Float32Array(msg.x, 0, msg.xRows * msg.xCols), [msg.xRows, msg.xCols])));
    new Float32Array(msg.out).set(out.dataSync() as Float32Array);
    out.dispose();
    signal(CTRL.done, msg.seq);
  } else {
    const pair = blocks.get(msg.id);
    if (pair) tf.dispose([pair.w, pair.wt]);
    blocks.delete(msg.id);
  }
}

try {
  await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  await tf.ready();
  parentPort?.on('message', (msg: ToWorker) => {
    try {
      handle(msg);
      armIdle();
    } catch {
      signal(CTRL.state, -1);
    }
  });
  signal(CTRL.state, 1);
  armIdle();
} catch {
  signal(CTRL.state, -1);
}
