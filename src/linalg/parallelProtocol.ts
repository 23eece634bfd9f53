/** Messages and shared control slots between parallel.ts and matmulWorker.ts. */

/** Slots of the shared Int32Array control block. */
export const CTRL = {
  /**
   * 0 starting, 1 ready, 2 retired after being idle (a new worker is started when needed),
   * -1 failed (the main thread then computes everything itself).
   */
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
      /** The second row block of W (rows x cols, row-major float32, already scaled). */
      w: SharedArrayBuffer;
      wRows: number;
      /** The second row block of W^T (wtRows x rows). */
      wt: SharedArrayBuffer;
      wtRows: number;
      rows: number;
      cols: number;
    }
  | { op: 'mul'; id: number; transposed: boolean; x: SharedArrayBuffer; xRows: number; xCols: number; out: SharedArrayBuffer; seq: number }
  | { op: 'free'; id: number };
