/**
 * Times exactSvd (ml-matrix) against truncatedSvd (randomized, TF.js products) and,
 * when python3 with numpy is present, numpy.linalg.svd on the same matrices.
 * Reports the randomized truncation error relative to the optimal one (from the
 * exact singular values: ours where feasible, else numpy's).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-svd.js [--full] [--sweep]
 *
 * --full also runs ml-matrix on 1024x1024 (about 35 s); --sweep tries oversampling
 * and power-iteration settings; --methods times lmf() against hmf() (both selections)
 * on matrices where some outputs are noise, so HMF has something to find.
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
import { hmf, lmf } from '../src/methods/index.js';
import { optimalError } from '../test/linalg/matrices.js';

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


function svdError(a: Matrix, svd: Svd): number {
  const r = svd.s.length;
  const us = new Float32Array(svd.u.data);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < r; j++) us[i * r + j] *= svd.s[j];
  const vt = new Float32Array(r * a.cols);
  for (let i = 0; i < a.cols; i++) for (let j = 0; j < r; j++) vt[j * a.cols + i] = svd.v.data[i * r + j];
  return lowRankRelativeError(a, { rows: a.rows, cols: r, data: us }, { rows: r, cols: a.cols, data: vt });
}

/** Decaying-spectrum matrix with every 50th output replaced by large noise. */
function noisyOutputs(rows: number, cols: number, seed: number): Matrix {
  const k = makeMatrix({ rows, cols, kind: 'decaying' }, seed);
  const noise = gaussianArray(rows * cols, seed + 2);
  let scale = 0;
  for (let i = 0; i < k.data.length; i++) scale += k.data[i] * k.data[i];
  scale = 3 * Math.sqrt(scale / k.data.length);
  for (let j = 0; j < cols; j += 50) for (let i = 0; i < rows; i++) k.data[i * cols + j] = scale * noise[i * cols + j];
  return k;
}

function benchMethods(): void {
  for (const [rows, cols] of [
    [512, 512],
    [1024, 1024],
    [650, 10000],
    [10000, 650],
  ]) {
    const k = noisyOutputs(rows, cols, 3);
    for (const factor of [2, 4, 8]) {
      const budget = Math.floor((rows * cols) / factor);
      const [l, tl] = time(() => lmf(k, budget, { seed: 1 }));
      const line = [`${rows}x${cols} f=${factor}: lmf r=${l?.rank} err ${l?.error.toFixed(4)} ${tl.toFixed(2)} s`];
      for (const selection of ['leading', 'residual'] as const) {
        const [h, th] = time(() => hmf(k, budget, { seed: 1, selection }));
        line.push(`hmf ${selection} k=${h?.k} r=${h?.rank} err ${h?.error.toFixed(4)} ${th.toFixed(2)} s (${(th / tl).toFixed(1)}x)`);
      }
      process.stdout.write(`${line.join(' | ')}\n`);
    }
  }
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const backend = await initBackend();
  process.stdout.write(`backend ${backend}\n`);
  if (args.has('--methods')) {
    benchMethods();
    return;
  }
  const cases: Case[] = [
    { rows: 256, cols: 256, kind: 'decaying' },
    { rows: 512, cols: 512, kind: 'decaying' },
    { rows: 1024, cols: 1024, kind: 'decaying' },
    { rows: 650, cols: 10000, kind: 'decaying' },
    { rows: 10000, cols: 650, kind: 'decaying' },
    { rows: 650, cols: 2600, kind: 'decaying' },
    { rows: 1024, cols: 1024, kind: 'gaussian' },
  ];
  const only = process.argv.find((x) => /^\d+x\d+$/.test(x));
  if (only) cases.splice(0, cases.length, ...cases.filter((c) => `${c.rows}x${c.cols}` === only));
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
        // 'randomized' sketches A itself; 'auto' may power-iterate on the small side's Gram instead.
        for (const method of ['randomized', 'auto'] as const) {
          const [svd, seconds] = time(() => truncatedSvd(a, rank, { seed: 1, method, ...opts }));
          const err = svdError(a, svd);
          const opt = reference ? optimalError(reference, rank) : NaN;
          const setting = 'oversample' in opts ? ` p=${opts.oversample} q=${opts.powerIterations}` : '';
          process.stdout.write(
            `${label}: truncatedSvd ${method} rank ${rank} (f=${factor})${setting} ${seconds.toFixed(3)} s, error ${err.toFixed(5)}` +
              (reference ? ` vs optimal ${opt.toFixed(5)} (+${(((err - opt) / opt) * 100).toFixed(2)}%)` : '') +
              '\n',
          );
        }
      }
    }
  }
}

await main();
