/**
 * Dense vs sparse product latency (issue 14): where does the hmf runtime's sparse kernel
 * (src/runtime/sparse.ts, WebAssembly SIMD over CSC) stop being slower than TF.js's dense
 * matMul? For each matrix shape, sparsity and batch (rows of x), both products are timed
 * A/B interleaved after warm-up. Magnitude-pruned random
 * normal matrices; the wasm backend on one thread (as stock TF.js runs in Node and in
 * browsers that are not cross-origin isolated).
 *
 * A run times what a layer pays, no more: the dense product stays a tensor in the backend
 * (the wasm backend computes synchronously, so matMul has finished when it returns); the
 * sparse product reads x out of the backend, multiplies, and uploads the result as a tensor.
 * Neither result is read back: reading a [32, 1024] result back took 2.6-15 ms here, more
 * than either product, and made both sides equal at batch 32 (the first measurement did that).
 * --readback adds the read-back to both, as that first measurement did.
 *
 *   npm run build && node dist/scripts/bench-sparse.js [--shapes 2000x256,256x1024] [--sparsity 0.5,0.75,0.9,0.95]
 *     [--batches 1,32] [--runs 60] [--backend wasm] [--readback] [--json]
 *
 * Prints a Markdown table (median µs, dense / sparse = speedup of the sparse kernel; also the
 * fastest run of each, less disturbed by other processes) and, per
 * shape and batch, the crossover: the lowest sparsity measured at which the sparse kernel
 * was not slower.
 */
import { tf } from '../src/tf.js';
import { initBackend, limitBackendThreads, type BackendName } from '../src/backend.js';
import { decodeSparse, sparseMatMul, type Csr } from '../src/runtime/index.js';
import { encodeSparse } from '../src/model/sparseEncode.js';

/** The targeted matrices of the fixtures and of moby-lstm, and a large square one. */
const DEFAULT_SHAPES = ['2000x256', '256x128', '32x512', '128x512', '128x80', '64x1024', '256x1024', '256x80', '1024x1024'];

interface Args {
  shapes: [number, number][];
  sparsity: number[];
  batches: number[];
  runs: number;
  backend: BackendName;
  readback: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const numbers = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
  return {
    shapes: (get('--shapes')?.split(',') ?? DEFAULT_SHAPES).map((s) => s.split('x').map(Number) as [number, number]),
    sparsity: numbers(get('--sparsity'), [0.5, 0.75, 0.9, 0.95]),
    batches: numbers(get('--batches'), [1, 32]),
    runs: Number(get('--runs') ?? 60),
    backend: (get('--backend') ?? 'wasm') as BackendName,
    readback: argv.includes('--readback'),
    json: argv.includes('--json'),
  };
}

/** A seeded n x m normal matrix with all but the largest (1 - sparsity) share of |w| set to zero. */
function prunedMatrix(n: number, m: number, sparsity: number, seed: number): Float32Array {
  const values = tf.tidy(() => tf.randomNormal([n, m], 0, 1, 'float32', seed).dataSync() as Float32Array);
  const keep = Math.round(n * m * (1 - sparsity));
  const threshold = Float32Array.from(values, Math.abs).sort()[n * m - keep];
  return values.map((v) => (Math.abs(v) >= threshold ? v : 0));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

interface Row {
  shape: string;
  sparsity: number;
  batch: number;
  denseUs: number;
  sparseUs: number;
  /** Fastest runs: less disturbed by other processes on a shared machine. */
  denseMinUs: number;
  sparseMinUs: number;
  /** dense / sparse, medians. */
  speedup: number;
}

function timePair(dense: () => void, sparse: () => void, runs: number): { denseUs: number; sparseUs: number; denseMinUs: number; sparseMinUs: number } {
  for (let i = 0; i < 5; i++) {
    dense();
    sparse();
  }
  const a: number[] = [];
  const b: number[] = [];
  const once = (f: () => void, into: number[]) => {
    const t0 = performance.now();
    f();
    into.push((performance.now() - t0) * 1000);
  };
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      once(dense, a);
      once(sparse, b);
    } else {
      once(sparse, b);
      once(dense, a);
    }
  }
  return { denseUs: median(a), sparseUs: median(b), denseMinUs: Math.min(...a), sparseMinUs: Math.min(...b) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await initBackend(args.backend);
  const threads = limitBackendThreads(1);
  const rows: Row[] = [];
  for (const [n, m] of args.shapes) {
    for (const sparsity of args.sparsity) {
      const values = prunedMatrix(n, m, sparsity, n * 7 + m);
      const parts = encodeSparse(values, n, m, 'csr');
      const csr: Csr = decodeSparse({ format: 'csr', nnz: parts.values.length }, n, m, parts, 'bench');
      const kernel = tf.tensor2d(values, [n, m]);
      for (const batch of args.batches) {
        const x = tf.randomNormal([batch, n], 0, 1, 'float32', batch);
        const finish = (y: tf.Tensor) => void (args.readback ? y.dataSync() : y);
        const dense = () => tf.tidy(() => finish(tf.matMul(x as tf.Tensor2D, kernel)));
        const sparse = () => tf.tidy(() => finish(sparseMatMul(tf, x as tf.Tensor2D, csr)));
        const t = timePair(dense, sparse, args.runs);
        rows.push({ shape: `${n}x${m}`, sparsity, batch, ...t, speedup: t.denseUs / t.sparseUs });
        x.dispose();
      }
      kernel.dispose();
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ backend: args.backend, threads, readback: args.readback, rows }, null, 2)}\n`);
    return;
  }
  const lines = [
    `backend ${args.backend}, ${threads} thread(s), ${args.runs} runs per product, median µs${args.readback ? ', results read back' : ''}`,
    '',
    '| shape | sparsity | batch | dense µs | sparse µs | sparse speedup | fastest runs: dense / sparse µs |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.shape} | ${(100 * r.sparsity).toFixed(0)}% | ${r.batch} | ${r.denseUs.toFixed(1)} | ${r.sparseUs.toFixed(1)} | ${r.speedup.toFixed(2)}x | ${r.denseMinUs.toFixed(1)} / ${r.sparseMinUs.toFixed(1)} |`,
    ),
    '',
    'crossover (lowest sparsity measured where the sparse kernel was not slower):',
    '',
    `| shape | ${args.batches.map((b) => `batch ${b}`).join(' | ')} |`,
    `|---|${args.batches.map(() => '--:').join('|')}|`,
  ];
  for (const [n, m] of args.shapes) {
    const cells = args.batches.map((batch) => {
      const wins = rows.filter((r) => r.shape === `${n}x${m}` && r.batch === batch && r.speedup >= 1).map((r) => r.sparsity);
      return wins.length ? `${(100 * Math.min(...wins)).toFixed(0)}%` : `> ${(100 * Math.max(...args.sparsity)).toFixed(0)}%`;
    });
    lines.push(`| ${n}x${m} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
