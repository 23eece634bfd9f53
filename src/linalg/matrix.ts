/** A dense row-major float32 matrix: element (i, j) is data[i * cols + j]. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`matrix: expected non-negative integer shape, got ${rows}x${cols}`);
  }
  const d = data ?? new Float32Array(rows * cols);
  if (d.length !== rows * cols) {
    throw new RangeError(`matrix: ${rows}x${cols} needs ${rows * cols} values, got ${d.length}`);
  }
  return { rows, cols, data: d };
}

/** Frobenius norm, accumulated in float64. */
export function frobenius(m: Matrix): number {
  let s = 0;
  const d = m.data;
  for (let i = 0; i < d.length; i++) s += d[i] * d[i];
  return Math.sqrt(s);
}

/** Columns `cols` of `m`, in the given order. */
export function selectColumns(m: Matrix, cols: ArrayLike<number>): Matrix {
  const out = new Float32Array(m.rows * cols.length);
  for (let i = 0; i < m.rows; i++) {
    const src = i * m.cols;
    const dst = i * cols.length;
    for (let j = 0; j < cols.length; j++) out[dst + j] = m.data[src + cols[j]];
  }
  return { rows: m.rows, cols: cols.length, data: out };
}

/** Rows `rows` of `m`, in the given order. */
export function selectRows(m: Matrix, rows: ArrayLike<number>): Matrix {
  const out = new Float32Array(rows.length * m.cols);
  for (let i = 0; i < rows.length; i++) {
    out.set(m.data.subarray(rows[i] * m.cols, (rows[i] + 1) * m.cols), i * m.cols);
  }
  return { rows: rows.length, cols: m.cols, data: out };
}

/** (M + M^T) / 2 in float64 for row-major float32 M (n x n). */
export function symmetrized(m: Float32Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (m[i * n + j] + m[j * n + i]) / 2;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}
