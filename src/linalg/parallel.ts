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
  /** When it was started (Date.now()), for the wait on a booting worker. */
  startedAt: number;
}

/**
 * Multiply-adds per millisecond of one thread's wasm matMul here (~17.5 GFLOP/s measured,
 * DATA.md): how long a block product takes, to decide whether a booting worker is worth
 * waiting for.
 */
const MACS_PER_MS = 8e6;

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

/**
 * Starts the worker now, without waiting: it takes ~0.4 s to load its wasm instance, and
 * products asked for before it is ready run on the main thread alone (the first matrix of
 * the PTB benchmark, 10000x650, took 1.4 s instead of ~0.9 s).
 */
export function startParallel(): void {
  startPeer();
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
  if (peer && Atomics.load(peer.ctrl, CTRL.state) === 2) peer = undefined; // retired while idle
  if (peer !== undefined) return peer;
  try {
    const ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL.size));
    const worker = new Worker(new URL('./matmulWorker.js', import.meta.url), { workerData: { ctrl: ctrl.buffer } });
    worker.unref();
    worker.on('error', () => Atomics.store(ctrl, CTRL.state, -1));
    peer = { worker, ctrl, nextId: 1, seq: 0, startedAt: Date.now() };
  } catch {
    peer = null;
  }
  return peer;
}

function stopPeer(): void {
  if (peer) void peer.worker.terminate();
  peer = enabled ? null : undefined;
}

/** The second row blocks, kept as data for the worker and turned into tensors only if the main thread needs them. */
interface SecondBlocks {
  w: Float32Array;
  wt: Float32Array;
  tensors: [tf.Tensor2D, tf.Tensor2D] | null;
}

/**
 * W = data * scale (rows x cols) held as TF.js row blocks, for repeated products W X
 * (X: cols x xCols) and W^T X (X: rows x xCols) with xCols <= maxXCols. The blocks are cut
 * and transposed in JavaScript, so neither thread's wasm heap ever holds W whole more
 * than once (that heap never shrinks).
 */
export class SplitProducts {
  private readonly first: [tf.Tensor2D, tf.Tensor2D];
  private readonly second: SecondBlocks | null = null;
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
    this.first = [
      tf.tensor2d(scaledRows(data, cols, 0, split, scale, new Float32Array(split * cols)), [split, cols]),
      tf.tensor2d(scaledColumns(data, rows, cols, 0, splitT, scale, new Float32Array(splitT * rows)), [splitT, rows]),
    ];
    if (!halve) return;
    const p = startPeer();
    const usable = p !== null && Atomics.load(p.ctrl, CTRL.state) >= 0;
    const buffer = (count: number): Float32Array => new Float32Array(usable ? new SharedArrayBuffer(4 * count) : new ArrayBuffer(4 * count));
    const w = scaledRows(data, cols, split, rows, scale, buffer((rows - split) * cols));
    const wt = scaledColumns(data, rows, cols, splitT, cols, scale, buffer((cols - splitT) * rows));
    this.second = { w, wt, tensors: null };
    if (p && usable) {
      const id = p.nextId++;
      const msg: ToWorker = {
        op: 'load',
        id,
        w: w.buffer as SharedArrayBuffer,
        wRows: rows - split,
        wt: wt.buffer as SharedArrayBuffer,
        wtRows: cols - splitT,
        rows,
        cols,
      };
      p.worker.postMessage(msg);
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
    while (Atomics.load(r.peer.ctrl, CTRL.loaded) < r.id && Atomics.load(r.peer.ctrl, CTRL.state) === 1 && Date.now() - t0 < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return this.remoteUsable();
  }

  dispose(): void {
    tf.dispose([...this.first, ...(this.second?.tensors ?? [])]);
    if (this.remote && peer === this.remote.peer) this.remote.peer.worker.postMessage({ op: 'free', id: this.remote.id } satisfies ToWorker);
  }

  private remoteUsable(): boolean {
    const r = this.remote;
    return r !== null && peer === r.peer && Atomics.load(r.peer.ctrl, CTRL.state) === 1 && Atomics.load(r.peer.ctrl, CTRL.loaded) >= r.id;
  }

  /**
   * The worker is running and has been sent this matrix: a product posted now is computed
   * after the load (messages are handled in order), while the main thread computes its own
   * block. Waiting for the load instead left each matrix's first product (the Gram route's
   * W W^T, its largest) to the main thread alone.
   */
  private remotePosted(): boolean {
    const r = this.remote;
    return r !== null && peer === r.peer && Atomics.load(r.peer.ctrl, CTRL.state) === 1;
  }

  private product(transposed: boolean, x: Float32Array, xCols: number): Float32Array {
    const outRows = transposed ? this.cols : this.rows;
    const xRows = transposed ? this.rows : this.cols;
    const at = transposed ? this.splitT : this.split;
    if (x.length !== xRows * xCols) throw new RangeError(`SplitProducts: expected ${xRows}x${xCols} values, got ${x.length}`);
    const out = new Float32Array(outRows * xCols);
    const r = this.remote;
    let seq = 0;
    // A worker still booting (~0.4 s) is waited for when that costs less than computing its
    // block here (the main thread is busy for that long anyway): a large first product
    // otherwise runs on one thread.
    if (this.second && r && peer === r.peer && Atomics.load(r.peer.ctrl, CTRL.state) === 0) {
      const blockMs = ((outRows - at) * xRows * xCols) / MACS_PER_MS;
      const waitMs = Math.min(blockMs, r.peer.startedAt + WAIT_MS - Date.now());
      if (waitMs > 0) Atomics.wait(r.peer.ctrl, CTRL.state, 0, waitMs);
    }
    if (this.second && r && this.remotePosted()) {
      r.input.set(x);
      seq = ++r.peer.seq;
      const msg: ToWorker = { op: 'mul', id: r.id, transposed, x: r.input.buffer as SharedArrayBuffer, xRows, xCols, out: r.output.buffer as SharedArrayBuffer, seq };
      r.peer.worker.postMessage(msg);
    }
    const xt = tf.tensor2d(x, [xRows, xCols]);
    try {
      out.set(matMulData(this.first[transposed ? 1 : 0], xt), 0);
      if (this.second) {
        if (seq > 0 && r && awaitProduct(r.peer, seq)) {
          out.set(r.output.subarray(0, (outRows - at) * xCols), at * xCols);
          remoteBlocks++;
        } else {
          out.set(matMulData(this.secondTensors()[transposed ? 1 : 0], xt), at * xCols);
        }
      }
    } finally {
      xt.dispose();
    }
    return out;
  }

  private secondTensors(): [tf.Tensor2D, tf.Tensor2D] {
    const s = this.second;
    if (!s) throw new Error('internal: SplitProducts has no second block');
    s.tensors ??= [tf.tensor2d(s.w, [this.rows - this.split, this.cols]), tf.tensor2d(s.wt, [this.cols - this.splitT, this.rows])];
    return s.tensors;
  }
}

/** Rows [r0, r1) of row-major `data` (width cols), times scale, into `out`. */
export function scaledRows(data: Float32Array, cols: number, r0: number, r1: number, scale: number, out: Float32Array): Float32Array {
  const src = data.subarray(r0 * cols, r1 * cols);
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
  return out;
}

/** Columns [c0, c1) of row-major `data` (rows x cols), transposed ((c1 - c0) x rows) and times scale, into `out`; tiled for the cache. */
export function scaledColumns(data: Float32Array, rows: number, cols: number, c0: number, c1: number, scale: number, out: Float32Array): Float32Array {
  const tile = 64;
  for (let i0 = 0; i0 < rows; i0 += tile) {
    const i1 = Math.min(rows, i0 + tile);
    for (let j0 = c0; j0 < c1; j0 += tile) {
      const j1 = Math.min(c1, j0 + tile);
      for (let i = i0; i < i1; i++) {
        const row = i * cols;
        for (let j = j0; j < j1; j++) out[(j - c0) * rows + i] = data[row + j] * scale;
      }
    }
  }
  return out;
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
    const state = Atomics.load(p.ctrl, CTRL.state);
    if (state === 2) {
      if (peer === p) peer = undefined; // retired (it never does with a matrix loaded): start afresh next time
      return false;
    }
    if (state !== 1 || left <= 0) {
      if (peer === p) stopPeer();
      return false;
    }
    Atomics.wait(p.ctrl, CTRL.done, done, Math.min(left, 1000));
  }
}
