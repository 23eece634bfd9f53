/**
 * The worker side of parallel.ts: its own TF.js wasm instance computing the second
 * row block of split products. Messages arrive in order; each product's result is
 * written into shared memory and signalled through the control array.
 */
import * as tf from '@tensorflow/tfjs';
import { parentPort, workerData } from 'node:worker_threads';
import { CTRL, type ToWorker } from './parallelProtocol.js';

const ctrl = new Int32Array((workerData as { ctrl: SharedArrayBuffer }).ctrl);
const blocks = new Map<number, { w: tf.Tensor2D; wt: tf.Tensor2D }>();

function signal(index: number, value: number): void {
  Atomics.store(ctrl, index, value);
  Atomics.notify(ctrl, index);
}

function handle(msg: ToWorker): void {
  if (msg.op === 'load') {
    const { id, rows, cols, split, splitT, scale } = msg;
    const pair = tf.tidy(() => {
      const w = tf.mul(tf.tensor2d(new Float32Array(msg.data), [rows, cols]), tf.scalar(scale));
      const wt = tf.transpose(w);
      return {
        w: tf.slice(w, [split, 0], [rows - split, cols]) as tf.Tensor2D,
        wt: tf.slice(wt, [splitT, 0], [cols - splitT, rows]) as tf.Tensor2D,
      };
    });
    blocks.set(id, pair);
    signal(CTRL.loaded, id);
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
    } catch {
      signal(CTRL.state, -1);
    }
  });
  signal(CTRL.state, 1);
} catch {
  signal(CTRL.state, -1);
}
