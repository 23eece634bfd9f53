import { EigenvalueDecomposition, Matrix as MlMatrix } from 'ml-matrix';

/**
 * Eigenvalues (descending) of a symmetric n x n matrix given row-major in float64.
 * Householder tridiagonalisation then implicit QL, without eigenvectors: about
 * (4/3) n^3 flops, several times cheaper than ml-matrix's EigenvalueDecomposition
 * (which always accumulates eigenvectors). `a` is overwritten.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`symmetricEigenvalues: ${n}x${n} needs ${n * n} values, got ${a.length}`);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(a, n, d, e);
  tridiagonalQl(d, e, n);
  return d.sort().reverse();
}

/** Reduces symmetric `a` (lower triangle used) to tridiagonal: diagonal d, sub-diagonal e[0..n-2]. */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array): void {
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // x = a[k+1.., k]
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += a[i * n + k] * a[i * n + k];
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      e[k] = 0;
      continue;
    }
    const x0 = a[(k + 1) * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    v[k + 1] = x0 - alpha;
    for (let i = k + 2; i < n; i++) v[i] = a[i * n + k];
    let vv = 0;
    for (let i = k + 1; i < n; i++) vv += v[i] * v[i];
    e[k] = alpha;
    if (vv === 0) continue;
    const beta = 2 / vv;
    // p = beta * A22 v (A22 symmetric, both triangles kept up to date)
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      let s = 0;
      const row = i * n;
      for (let j = k + 1; j < n; j++) s += a[row + j] * v[j];
      w[i] = beta * s;
      pv += w[i] * v[i];
    }
    const half = (beta * pv) / 2;
    for (let i = k + 1; i < n; i++) w[i] -= half * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = w[i];
      for (let j = k + 1; j < n; j++) a[row + j] -= vi * w[j] + wi * v[j];
    }
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)];
  e[n - 1] = 0;
}

/** Eigenvalues of the symmetric tridiagonal (d, e) into d; implicit QL with Wilkinson shifts. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number): void {
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (++iterations > 60) throw new Error('symmetricEigenvalues: QL iteration did not converge');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          deflated = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}

export interface SymmetricEigen {
  /** Descending. */
  values: Float64Array;
  /** n x n row-major; column i is the eigenvector of values[i]. */
  vectors: Float64Array;
}

/** Eigenvalues (descending) and eigenvectors of a symmetric n x n row-major matrix (ml-matrix). */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: ${n}x${n} needs ${n * n} values, got ${a.length}`);
  const rows: Float64Array[] = [];
  for (let i = 0; i < n; i++) rows.push(a.subarray(i * n, (i + 1) * n));
  const evd = new EigenvalueDecomposition(new MlMatrix(rows), { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const vec = evd.eigenvectorMatrix;
  const order = Array.from(raw.keys()).sort((x, y) => raw[y] - raw[x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = raw[src];
    for (let i = 0; i < n; i++) vectors[i * n + dst] = vec.get(i, src);
  });
  return { values, vectors };
}
