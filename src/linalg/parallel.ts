/**
 * Products W X and W^T X with the second row block computed by a worker thread that
 * runs its own TF.js wasm instance: the wasm backend uses one thread in Node (DATA.md),
 * so this is how the randomized SVD's large products use the second core.
 *
 * Results do not depend on whether the worker is used: W is always cut into the same
 * row blocks (by size only), and each block is the same wasm matMul on either thread,
 * so output stays bit-identical. The worker is used only with the wasm backend, only
 * once it has loaded the matrix (nothing waits for it to start), and any failure or
 * timeout makes the main thread compute the block itself.
 */
import * as tf from '@tensorflow/tfjs';
import { Worker } from 'node:worker_threads';
import { CTRL, type ToWorker } from './parallelProtocol.js';

/** Matrices with at least this many entries are split in two row blocks. */
export const SPLIT_MIN_ENTRIES = 1 << 20;
/** A worker product not back after this long is computed on the main thread. */
const WAIT_MS = 60_000;

interface Peer {
  worker: Worker;
  ctrl: Int32Array;
  nextId: number;
  seq: number;
}

/** undefined: not started; null: disabled or failed. */
let peer: Peer | null | undefined;
let enabled = true;
/** Row blocks computed by the worker so far (for tests and benchmarks). */
let remoteBlocks = 0;

/** How many row blocks the worker has computed in this process. */
export function remoteBlockCount(): number {
  return remoteBlocks;
}

/** Turns the worker off (tests, measurements) or back on. Output is identical either way. */
export function setParallel(on: boolean): void {
  enabled = on;
  if (!on) stopPeer();
}

/** Starts the worker if needed and resolves once it is ready (true) or unavailable (false). */
export async function parallelReady(timeoutMs = 30_000): Promise<boolean> {
  const p = startPeer();
  if (!p) return false;
  const t0 = Date.now();
  while (Atomics.load(p.ctrl, CTRL.state) === 0 && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 10));
  return Atomics.load(p.ctrl, CTRL.state) === 1;
}

function startPeer(): Peer | null {
  if (!enabled || tf.getBackend() !== 'wasm') return null;
  if (peer !== undefined) return peer;
  try {
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL.size));
    const worker = new Worker(new URL('./matmulWorker.js', import.meta.url), { workerData: { ctrl: ctrl.buffer } });
    worker.unref();
    worker.on('error', () => Atomics.store(ctrl, CTRL.state, -1));
    peer = { worker, ctrl, nextId: 1, seq: 0 };
  } catch {
    peer = null;
  }
  return peer;
}

function stopPeer(): void {
  if (peer) void peer.worker.terminate();
  peer = enabled ? null : undefined;
}

/**
 * W = data * scale (rows x cols) held as TF.js row blocks, for repeated products W X
 * (X: cols x xCols) and W^T X (X: rows x xCols) with xCols <= maxXCols.
 */
export class SplitProducts {
  private readonly w: tf.Tensor2D[];
  private readonly wt: tf.Tensor2D[];
  private readonly split: number;
  private readonly splitT: number;
  private readonly remote: { peer: Peer; id: number; input: Float32Array; output: Float32Array } | null = null;

  constructor(
    data: Float32Array,
    readonly rows: number,
    readonly cols: number,
    scale: number,
    maxXCols: number,
  ) {
    const halve = rows * cols >= SPLIT_MIN_ENTRIES;
    this.split = halve ? Math.ceil(rows / 2) : rows;
    this.splitT = halve ? Math.ceil(cols / 2) : cols;
    const { split, splitT } = this;
    [this.w, this.wt] = tf.tidy(() => {
      const w = tf.mul(tf.tensor2d(data, [rows, cols]), tf.scalar(scale)) as tf.Tensor2D;
      const wt = tf.transpose(w);
      const cut = (m: tf.Tensor2D, at: number, r: number, c: number): tf.Tensor2D[] =>
        at === r ? [m] : [tf.slice(m, [0, 0], [at, c]), tf.slice(m, [at, 0], [r - at, c])];
      return [cut(w, split, rows, cols), cut(wt, splitT, cols, rows)];
    });
    const p = halve ? startPeer() : null;
    if (p && Atomics.load(p.ctrl, CTRL.state) >= 0) {
      const id = p.nextId++;
      const shared = new SharedArrayBuffer(4 * rows * cols);
      new Float32Array(shared).set(data);
      p.worker.postMessage({ op: 'load', id, data: shared, rows, cols, split, splitT, scale } satisfies ToWorker);
      const input = new Float32Array(new SharedArrayBuffer(4 * Math.max(rows, cols) * maxXCols));
      const output = new Float32Array(new SharedArrayBuffer(4 * Math.max(rows - split, cols - splitT) * maxXCols));
      this.remote = { peer: p, id, input, output };
    }
  }

  /** W X, X row-major cols x xCols. */
  mulW(x: Float32Array, xCols: number): Float32Array {
    return this.product(false, x, xCols);
  }

  /** W^T X, X row-major rows x xCols. */
  mulWt(x: Float32Array, xCols: number): Float32Array {
    return this.product(true, x, xCols);
  }

  /** Resolves once the worker holds this matrix (true), or false if it never will. */
  async remoteLoaded(timeoutMs = 30_000): Promise<boolean> {
    const r = this.remote;
    if (!r) return false;
    const t0 = Date.now();
    while (Atomics.load(r.peer.ctrl, CTRL.loaded) < r.id && Atomics.load(r.peer.ctrl, CTRL.state) >= 0 && Date.now() - t0 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return Atomics.load(r.peer.ctrl, CTRL.loaded) >= r.id && Atomics.load(r.peer.ctrl, CTRL.state) === 1;
  }

  dispose(): void {
    tf.dispose([...this.w, ...this.wt]);
    if (this.remote && peer === this.remote.peer) this.remote.peer.worker.postMessage({ op: 'free', id: this.remote.id } satisfies ToWorker);
  }

  private product(transposed: boolean, x: Float32Array, xCols: number): Float32Array {
    const blocks = transposed ? this.wt : this.w;
    const outRows = transposed ? this.cols : this.rows;
    const xRows = transposed ? this.rows : this.cols;
    const at = transposed ? this.splitT : this.split;
    if (x.length !== xRows * xCols) throw new RangeError(`SplitProducts: expected ${xRows}x${xCols} values, got ${x.length}`);
    const out = new Float32Array(outRows * xCols);
    const r = this.remote;
    let seq = 0;
    if (blocks.length === 2 && r && peer === r.peer && Atomics.load(r.peer.ctrl, CTRL.state) === 1 && Atomics.load(r.peer.ctrl, CTRL.loaded) >= r.id) {
      r.input.set(x);
      seq = ++r.peer.seq;
      const msg: ToWorker = { op: 'mul', id: r.id, transposed, x: r.input.buffer as SharedArrayBuffer, xRows, xCols, out: r.output.buffer as SharedArrayBuffer, seq };
      r.peer.worker.postMessage(msg);
    }
    const xt = tf.tensor2d(x, [xRows, xCols]);
    try {
      out.set(matMulData(blocks[0], xt), 0);
      if (blocks.length === 2) {
        if (seq > 0 && r && awaitProduct(r.peer, seq)) {
          out.set(r.output.subarray(0, (outRows - at) * xCols), at * xCols);
          remoteBlocks++;
        } else out.set(matMulData(blocks[1], xt), at * xCols);
      }
    } finally {
      xt.dispose();
    }
    return out;
  }
}

function matMulData(a: tf.Tensor2D, x: tf.Tensor2D): Float32Array {
  const out = tf.matMul(a, x);
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

/** Blocks until the worker has written product `seq`; false (and the worker is dropped) on failure or timeout. */
function awaitProduct(p: Peer, seq: number): boolean {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const done = Atomics.load(p.ctrl, CTRL.done);
    if (done >= seq) return true;
    const left = deadline - Date.now();
    if (Atomics.load(p.ctrl, CTRL.state) < 0 || left <= 0) {
      if (peer === p) stopPeer();
      return false;
    }
    Atomics.wait(p.ctrl, CTRL.done, done, Math.min(left, 1000));
  }
}
