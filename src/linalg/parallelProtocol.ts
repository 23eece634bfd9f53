/** Messages and shared control slots between parallel.ts and matmulWorker.ts. */

/** Slots of the shared Int32Array control block. */
export const CTRL = {
  /** 0 starting, 1 ready, -1 failed (the main thread then computes everything itself). */
  state: 0,
  /** Id of the last matrix the worker has loaded. */
  loaded: 1,
  /** Sequence number of the last product the worker has written. */
  done: 2,
  size: 3,
} as const;

export type ToWorker =
  | {
      op: 'load';
      id: number;
      /** rows x cols float32, row-major. */
      data: SharedArrayBuffer;
      rows: number;
      cols: number;
      /** The worker keeps rows [split, rows) of W and [splitT, cols) of W^T. */
      split: number;
      splitT: number;
      /** W is data * scale (a power of two, exact). */
      scale: number;
    }
  | { op: 'mul'; id: number; transposed: boolean; x: SharedArrayBuffer; xRows: number; xCols: number; out: SharedArrayBuffer; seq: number }
  | { op: 'free'; id: number };
