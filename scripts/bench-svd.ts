/**
 * Times exactSvd (ml-matrix) against truncatedSvd (randomized, TF.js products) and,
 * when python3 with numpy is present, numpy.linalg.svd on the same matrices.
 * Reports the randomized truncation error relative to the optimal one (from the
 * exact singular values: ours where feasible, else numpy's).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-svd.js [--full] [--sweep]
 *
 * --full also runs ml-matrix on 1024x1024 (about 35 s); --sweep tries oversampling
 * and power-iteration settings.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../src/backend.js';
import { matMul, lowRankRelativeError } from '../src/linalg/product.js';
import type { Matrix } from '../src/linalg/matrix.js';
import { gaussianArray } from '../src/linalg/random.js';
import { exactSvd, truncatedSvd, type Svd } from '../src/linalg/svd.js';

interface Case {
  rows: number;
  cols: number;
  kind: 'gaussian' | 'decaying';
}

/** Gaussian, or G1 diag(1/sqrt(i+1)) G2 (a slowly decaying spectrum, like trained weights). */
function makeMatrix(c: Case, seed: number): Matrix {
  if (c.kind === 'gaussian') return { rows: c.rows, cols: c.cols, data: gaussianArray(c.rows * c.cols, seed) };
  const inner = Math.min(c.rows, c.cols);
  const g1 = gaussianArray(c.rows * inner, seed);
  for (let i = 0; i < c.rows; i++) for (let j = 0; j < inner; j++) g1[i * inner + j] /= Math.sqrt(j + 1);
  return matMul({ rows: c.rows, cols: inner, data: g1 }, { rows: inner, cols: c.cols, data: gaussianArray(inner * c.cols, seed + 1) });
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, (performance.now() - t0) / 1000];
}

/** Singular values and seconds from numpy, or undefined without python3/numpy. */
function numpySvd(a: Matrix): { s: Float64Array; seconds: number } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'hmf-bench-'));
  try {
    const file = join(dir, 'a.f32');
    writeFileSync(file, a.data);
    const code = [
      'import sys, time, numpy as np',
      `a = np.fromfile(sys.argv[1], dtype=np.float32).reshape(${a.rows}, ${a.cols}).astype(np.float64)`,
      't = time.perf_counter(); u, s, vt = np.linalg.svd(a, full_matrices=False); dt = time.perf_counter() - t',
      's.astype(np.float64).tofile(sys.argv[1] + ".s")',
      'print(dt)',
    ].join('\n');
    const res = spawnSync('python3', ['-c', code, file], { encoding: 'utf8' });
    if (res.status !== 0) return undefined;
    const buf = readFileSync(`${file}.s`);
    return { s: new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8), seconds: Number(res.stdout.trim()) };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function optimalError(s: ArrayLike<number>, rank: number): number {
  let tail = 0;
  let total = 0;
  for (let i = 0; i < s.length; i++) {
    total += s[i] * s[i];
    if (i >= rank) tail += s[i] * s[i];
  }
  return Math.sqrt(tail / total);
}

function svdError(a: Matrix, svd: Svd): number {
  const r = svd.s.length;
  const us = new Float32Array(svd.u.data);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < r; j++) us[i * r + j] *= svd.s[j];
  const vt = new Float32Array(r * a.cols);
  for (let i = 0; i < a.cols; i++) for (let j = 0; j < r; j++) vt[j * a.cols + i] = svd.v.data[i * r + j];
  return lowRankRelativeError(a, { rows: a.rows, cols: r, data: us }, { rows: r, cols: a.cols, data: vt });
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const backend = await initBackend();
  process.stdout.write(`backend ${backend}\n`);
  const cases: Case[] = [
    { rows: 256, cols: 256, kind: 'decaying' },
    { rows: 512, cols: 512, kind: 'decaying' },
    { rows: 1024, cols: 1024, kind: 'decaying' },
    { rows: 650, cols: 10000, kind: 'decaying' },
    { rows: 1024, cols: 1024, kind: 'gaussian' },
  ];
  const sweep = args.has('--sweep')
    ? [
        { oversample: 10, powerIterations: 1 },
        { oversample: 10, powerIterations: 2 },
        { oversample: 10, powerIterations: 3 },
        { oversample: 10, powerIterations: 4 },
        { oversample: 20, powerIterations: 3 },
      ]
    : [{}];
  for (const c of cases) {
    const a = makeMatrix(c, 7);
    const label = `${c.rows}x${c.cols} ${c.kind}`;
    const np = numpySvd(a);
    if (np) process.stdout.write(`${label}: numpy.linalg.svd ${np.seconds.toFixed(3)} s\n`);
    let reference = np?.s;
    if (c.rows * c.cols <= 512 * 512 || (args.has('--full') && c.rows * c.cols <= 1024 * 1024)) {
      const [ex, seconds] = time(() => exactSvd(a));
      process.stdout.write(`${label}: exactSvd (ml-matrix) ${seconds.toFixed(3)} s\n`);
      reference = ex.s;
    }
    for (const factor of [2, 4, 8]) {
      const rank = Math.floor((c.rows * c.cols) / factor / (c.rows + c.cols));
      for (const opts of sweep) {
        const [svd, seconds] = time(() => truncatedSvd(a, rank, { seed: 1, method: 'randomized', ...opts }));
        const err = svdError(a, svd);
        const opt = reference ? optimalError(reference, rank) : NaN;
        const setting = 'oversample' in opts ? ` p=${opts.oversample} q=${opts.powerIterations}` : '';
        process.stdout.write(
          `${label}: truncatedSvd rank ${rank} (f=${factor})${setting} ${seconds.toFixed(3)} s, error ${err.toFixed(5)}` +
            (reference ? ` vs optimal ${opt.toFixed(5)} (+${(((err - opt) / opt) * 100).toFixed(2)}%)` : '') +
            '\n',
        );
      }
    }
  }
}

await main();
