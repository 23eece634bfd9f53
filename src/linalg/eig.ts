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

/**
 * Reduces symmetric `a` (lower triangle read and updated; the upper is left stale) to tridiagonal: diagonal d, sub-diagonal e[0..n-2].
 * With `betas`, step k's Householder vector v_k (entries k+1..n-1) is kept in row k's strict upper triangle, which the reduction
 * never reads, and beta_k in betas[k] (0 where the step is skipped): T = Q^T A Q with Q = H_0 ... H_{n-3}, H_k = I - beta_k v_k v_k^T.
 */
function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, betas?: Float64Array): void {
  const v = new Float64Array(n);
  const w = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // x = a[k+1.., k]
    let norm2 = 0;
    for (let i = k + 1; i < n; i++) norm2 += a[i * n + k] * a[i * n + k];
    const norm = Math.sqrt(norm2);
    if (norm === 0) {
      e[k] = 0;
      if (betas) betas[k] = 0;
      continue;
    }
    const x0 = a[(k + 1) * n + k];
    const alpha = x0 >= 0 ? -norm : norm;
    v[k + 1] = x0 - alpha;
    for (let i = k + 2; i < n; i++) v[i] = a[i * n + k];
    let vv = 0;
    for (let i = k + 1; i < n; i++) vv += v[i] * v[i];
    e[k] = alpha;
    if (betas) {
      betas[k] = vv === 0 ? 0 : 2 / vv;
      for (let i = k + 1; i < n; i++) a[k * n + i] = v[i];
    }
    if (vv === 0) continue;
    const beta = 2 / vv;
    // p = beta * A22 v from the lower triangle only (each a_ij, j < i, serves rows i and j),
    // then the rank-2 update of the lower triangle: half the work of keeping both, with the
    // dot products in four partial sums. 315x315: 55 -> ~25 ms; this runs once per HMF
    // candidate (hmf inspect of a 20M-parameter model spent 26 of 46 s here).
    for (let i = k + 1; i < n; i++) w[i] = 0;
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = k + 1;
      for (; j + 3 < i; j += 4) {
        const a0 = a[row + j];
        const a1 = a[row + j + 1];
        const a2 = a[row + j + 2];
        const a3 = a[row + j + 3];
        s0 += a0 * v[j];
        s1 += a1 * v[j + 1];
        s2 += a2 * v[j + 2];
        s3 += a3 * v[j + 3];
        w[j] += a0 * vi;
        w[j + 1] += a1 * vi;
        w[j + 2] += a2 * vi;
        w[j + 3] += a3 * vi;
      }
      for (; j < i; j++) {
        s0 += a[row + j] * v[j];
        w[j] += a[row + j] * vi;
      }
      w[i] += s0 + s1 + (s2 + s3) + a[row + i] * vi;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      w[i] *= beta;
      pv += w[i] * v[i];
    }
    const half = (beta * pv) / 2;
    for (let i = k + 1; i < n; i++) w[i] -= half * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = w[i];
      let j = k + 1;
      for (; j + 3 <= i; j += 4) {
        a[row + j] -= vi * w[j] + wi * v[j];
        a[row + j + 1] -= vi * w[j + 1] + wi * v[j + 1];
        a[row + j + 2] -= vi * w[j + 2] + wi * v[j + 2];
        a[row + j + 3] -= vi * w[j + 3] + wi * v[j + 3];
      }
      for (; j <= i; j++) a[row + j] -= vi * w[j] + wi * v[j];
    }
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)];
  e[n - 1] = 0;
}

/** Eigenvalues of the symmetric tridiagonal (d, e) into d; implicit QL with Wilkinson shifts. */
function tridiagonalQl(d: Float64Array, e: Float64Array, n: number): void {
  // The relative test alone can stall on eigenvalues at rounding level (a rank-deficient Gram: e stays
  // near eps ||T||, far above eps |d|), so after 60 sweeps on one eigenvalue e also counts as negligible
  // below eps ||T|| (tql2's absolute test); results that converged before are unchanged.
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]));
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      const floor = iterations >= 60 ? Number.EPSILON * norm : 0;
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd || Math.abs(e[m]) <= floor) break;
      }
      if (m === l) break;
      if (++iterations > 90) throw new Error('symmetricEigenvalues: QL iteration did not converge');
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

/**
 * Eigenvalues (descending) and eigenvectors of a symmetric n x n row-major matrix (`a` is not modified).
 * The lower-triangle Householder reduction above keeps its vectors; Q is formed from them with row-contiguous
 * updates; then implicit QL whose rotations, stored per sweep, are applied to V = Q row by row. Each eigenvalue's
 * first QL sweep is shifted by that eigenvalue as computed beforehand by the same QL without vectors (O(n^2)), which
 * usually deflates it in one sweep instead of about two: the sweeps' rotations on V are most of the cost.
 * 163x163: ~23 -> ~11 ms, 320x320: ~170 -> ~75 ms (Node 20). The randomized SVD calls this once per matrix.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (a.length !== n * n) throw new RangeError(`symmetricEigen: ${n}x${n} needs ${n * n} values, got ${a.length}`);
  if (n === 0) return { values: new Float64Array(0), vectors: new Float64Array(0) };
  const work = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const betas = new Float64Array(n);
  tridiagonalize(work, n, d, e, betas);
  const shifts = Float64Array.from(d);
  qlColumns(new Float64Array(0), shifts, Float64Array.from(e), n, new Float64Array(0));
  const v = transposedQ(work, betas, n);
  qlColumns(v, d, e, n, shifts);
  const order = Array.from(d.keys()).sort((x, y) => d[y] - d[x] || x - y);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = d[order[j]];
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) vectors[row + j] = v[row + order[j]];
  }
  return { values, vectors };
}

/**
 * Q = H_0 ... H_{n-3} from the vectors `tridiagonalize` left in the strict upper triangle of `h`, built as
 * Q^T = H_{n-3} ... H_0 by right multiplications (only rows and columns k+1.. change: (4/3) n^3 flops) and
 * transposed into a matrix with its rows padded to a multiple of 8. Four reflectors at a time: for each row x of M, x H_a H_b H_c H_d = x - sum t_j v_j^T with the
 * t_j from the four dot products x.v_j and the v's inner products, so each row is read twice per block
 * instead of eight times; two rows at a time share the v loads (163x163: 5.4 -> 2.4 ms).
 */
function transposedQ(h: Float64Array, betas: Float64Array, n: number): Float64Array {
  const m = new Float64Array((n + 1) * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  const va = new Float64Array(n);
  const vb = new Float64Array(n);
  const vc = new Float64Array(n);
  const vd = new Float64Array(n);
  for (let k = n - 3; k >= 0; k -= 4) {
    // M <- M H_k H_{k-1} H_{k-2} H_{k-3}; a missing or skipped reflector has v = 0, beta = 0.
    const ba = reflector(h, betas, n, k, va);
    const bb = reflector(h, betas, n, k - 1, vb);
    const bc = reflector(h, betas, n, k - 2, vc);
    const bd = reflector(h, betas, n, k - 3, vd);
    const lo = Math.max(k - 2, 1);
    let ab = 0;
    let ac = 0;
    let ad = 0;
    let bcDot = 0;
    let bdDot = 0;
    let cd = 0;
    for (let j = lo; j < n; j++) {
      ab += va[j] * vb[j];
      ac += va[j] * vc[j];
      ad += va[j] * vd[j];
      bcDot += vb[j] * vc[j];
      bdDot += vb[j] * vd[j];
      cd += vc[j] * vd[j];
    }
    for (let i = lo; i < n; i += 2) {
      // Two rows at a time share the loads of the v's (row n is a zero pad: its t's are 0).
      const r = i * n;
      const r2 = r + n;
      let pa = 0;
      let pb = 0;
      let pc = 0;
      let pd = 0;
      let qa = 0;
      let qb = 0;
      let qc = 0;
      let qd = 0;
      for (let j = lo; j < n; j++) {
        const x = m[r + j];
        const y = m[r2 + j];
        const a = va[j];
        const b = vb[j];
        const c = vc[j];
        const d = vd[j];
        pa += x * a;
        pb += x * b;
        pc += x * c;
        pd += x * d;
        qa += y * a;
        qb += y * b;
        qc += y * c;
        qd += y * d;
      }
      const ta = ba * pa;
      const tb = bb * (pb - ta * ab);
      const tc = bc * (pc - ta * ac - tb * bcDot);
      const td = bd * (pd - ta * ad - tb * bdDot - tc * cd);
      const ua = ba * qa;
      const ub = bb * (qb - ua * ab);
      const uc = bc * (qc - ua * ac - ub * bcDot);
      const ud = bd * (qd - ua * ad - ub * bdDot - uc * cd);
      for (let j = lo; j < n; j++) {
        const a = va[j];
        const b = vb[j];
        const c = vc[j];
        const d = vd[j];
        m[r + j] -= ta * a + tb * b + (tc * c + td * d);
        m[r2 + j] -= ua * a + ub * b + (uc * c + ud * d);
      }
    }
  }
  const q = new Float64Array(Math.ceil(n / 8) * 8 * n); // rows past n stay zero (see applyRotations)
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[j * n + i] = m[i * n + j];
  return q;
}

/** Copies reflector k's vector (zero-padded) into `dst` and returns its beta; 0 and v = 0 for none. */
function reflector(h: Float64Array, betas: Float64Array, n: number, k: number, dst: Float64Array): number {
  dst.fill(0);
  if (k < 0 || betas[k] === 0) return 0;
  for (let j = k + 1; j < n; j++) dst[j] = h[k * n + j];
  return betas[k];
}

/** After a sweep shifted by a known eigenvalue, e[l] up to this many eps ||T|| counts as deflated. */
const PERFECT_SHIFT_SLACK = 16;

/**
 * Implicit QL (as in `tridiagonalQl`, with tql2's absolute deflation test eps ||T||) on (d, e[0..n-2]);
 * V (row-major, n columns = vectors, rows padded to a multiple of 8), unless empty, accumulates the rotations. The first sweep for each eigenvalue
 * is shifted by the nearest not yet deflated value of `shifts` (the eigenvalues, unless empty), later ones by
 * Wilkinson's shift. The shifts only affect speed (and the deflation slack above), not correctness.
 */
function qlColumns(v: Float64Array, d: Float64Array, e: Float64Array, n: number, shifts: Float64Array): void {
  e[n - 1] = 0;
  const cs = new Float64Array(n);
  const ss = new Float64Array(n);
  const taken = new Uint8Array(n);
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + Math.abs(e[i]));
  const small = Number.EPSILON * norm;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      while (m < n - 1 && Math.abs(e[m]) > small) m++;
      if (m === l) break;
      if (++iterations > 60) throw new Error('symmetricEigen: QL iteration did not converge');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      let shift = d[l] - e[l] / (g + (g >= 0 ? r : -r));
      let perfect = false;
      if (shifts.length > 0 && iterations === 1) {
        const k = nearest(shifts, taken, shift, false);
        if (k >= 0) {
          shift = shifts[k];
          perfect = true;
        }
      }
      g = d[m] - shift;
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      let deflated = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.sqrt(f * f + g * g);
        if (!(r > 1e-150 && r < 1e150)) r = Math.hypot(f, g); // Math.hypot's scaling is slow; needed only near over/underflow
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
        cs[i] = c;
        ss[i] = s;
      }
      if (v.length > 0 && i + 1 < m) applyRotations(v, n, i + 1, m, cs, ss);
      if (deflated) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
      // Rounding (forward instability) mostly leaves e[l] at a few eps ||T|| after a sweep shifted by an
      // eigenvalue; another whole sweep for that would cost as much as the first (backward error still ~1e-15).
      if (perfect && Math.abs(e[l]) <= PERFECT_SHIFT_SLACK * small) e[l] = 0;
    }
    if (shifts.length > 0) nearest(shifts, taken, d[l], true);
  }
}

/** Index of the value of `values` nearest to x among those not `taken`; marks it taken if `take`. */
function nearest(values: Float64Array, taken: Uint8Array, x: number, take: boolean): number {
  let best = -1;
  let gap = Infinity;
  for (let i = 0; i < values.length; i++) {
    if (taken[i]) continue;
    const g = Math.abs(values[i] - x);
    if (g < gap) {
      gap = g;
      best = i;
    }
  }
  if (take && best >= 0) taken[best] = 1;
  return best;
}
/**
 * For each row of v: for i = m-1 down to l, (x_i, x_{i+1}) <- (c_i x_i - s_i x_{i+1}, s_i x_i + c_i x_{i+1}).
 * Eight rows at a time (v has a multiple of 8 rows): independent carry chains hide the multiply latency and
 * share the loads of c, s; with no remainder loop there is no rarely run path to deoptimise on (each n mod 8
 * took its own, and the first calls ran mostly unoptimised).
 */
function applyRotations(v: Float64Array, n: number, l: number, m: number, cs: Float64Array, ss: Float64Array): void {
  const rows = v.length / n;
  for (let row = 0; row < rows; row += 8) {
    const r0 = row * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    const r4 = r3 + n;
    const r5 = r4 + n;
    const r6 = r5 + n;
    const r7 = r6 + n;
    let t0 = v[r0 + m];
    let t1 = v[r1 + m];
    let t2 = v[r2 + m];
    let t3 = v[r3 + m];
    let t4 = v[r4 + m];
    let t5 = v[r5 + m];
    let t6 = v[r6 + m];
    let t7 = v[r7 + m];
    for (let i = m - 1; i >= l; i--) {
      const c = cs[i];
      const s = ss[i];
      const x0 = v[r0 + i];
      const x1 = v[r1 + i];
      const x2 = v[r2 + i];
      const x3 = v[r3 + i];
      v[r0 + i + 1] = s * x0 + c * t0;
      v[r1 + i + 1] = s * x1 + c * t1;
      v[r2 + i + 1] = s * x2 + c * t2;
      v[r3 + i + 1] = s * x3 + c * t3;
      t0 = c * x0 - s * t0;
      t1 = c * x1 - s * t1;
      t2 = c * x2 - s * t2;
      t3 = c * x3 - s * t3;
      const x4 = v[r4 + i];
      const x5 = v[r5 + i];
      const x6 = v[r6 + i];
      const x7 = v[r7 + i];
      v[r4 + i + 1] = s * x4 + c * t4;
      v[r5 + i + 1] = s * x5 + c * t5;
      v[r6 + i + 1] = s * x6 + c * t6;
      v[r7 + i + 1] = s * x7 + c * t7;
      t4 = c * x4 - s * t4;
      t5 = c * x5 - s * t5;
      t6 = c * x6 - s * t6;
      t7 = c * x7 - s * t7;
    }
    v[r0 + l] = t0;
    v[r1 + l] = t1;
    v[r2 + l] = t2;
    v[r3 + l] = t3;
    v[r4 + l] = t4;
    v[r5 + l] = t5;
    v[r6 + l] = t6;
    v[r7 + l] = t7;
  }
}
