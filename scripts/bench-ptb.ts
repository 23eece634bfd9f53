/**
 * End-to-end benchmark at real model size: a PTB-medium word language model
 * (Embedding 10000x650, LSTM(650) x2 with returnSequences, Dense 650x10000 softmax,
 * ~19.8M parameters, ~79 MB), compressed with `hmf compress` (HMF and LMF, --no-bench)
 * under /usr/bin/time -v, against numpy.linalg.svd of the same targeted matrices.
 *
 *   npm run build && node dist/scripts/bench-ptb.js [--factors 4,8] [--methods hmf,lmf] [--probes N] [--repeat N] [--regen] [--json]
 *
 * The machine may be shared: the load average is printed, each configuration can run
 * --repeat times (fastest kept; numpy always at least twice, in each of two processes), and CPU seconds are given
 * beside wall seconds.
 *
 * The model is generated once (seeded) into .cache/bench/ptb-medium/. Its weight
 * matrices are not i.i.d. noise, whose truncation would be meaningless: each is
 * W = U diag(s) V^T with s_i ~ i^-0.5 (the slowly decaying spectrum typical of trained
 * weights and the hard case for a randomized SVD), U and V random orthonormal (Householder
 * QR of a seeded Gaussian on the small side, CholeskyQR2 through TF.js on the big side),
 * scaled to Glorot's variance 2 / (n + m). Biases are zero (LSTM forget gate 1).
 *
 * numpy runs with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from its environment (they
 * slow a current OpenBLAS) and prints the kernel it uses. It reads the matrices straight
 * from the shards (manifest names, shapes, offsets), times svd(full_matrices=False) in
 * float32 (as stored: the reference of the ratios) and float64, and gives the optimal
 * rank-r error of each, to compare with the LMF error hmf reports at the same rank.
 */
import { tf } from '../src/tf.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend.js';
import { fileSaver } from '../src/io/index.js';
import { orthonormalizeColumns } from '../src/linalg/qr.js';
import { gaussianArray } from '../src/linalg/random.js';
import type { MatrixReport, Report } from '../src/report/schema.js';

const VOCAB = 10000;
const UNITS = 650;
const STEPS = 35;
const SEED = 20240;

interface Args {
  factors: number[];
  methods: string[];
  /** Passed to hmf compress as --probes when set. */
  probes?: number;
  /** Runs per configuration (the fastest is reported): the machine may be shared. */
  repeat: number;
  regen: boolean;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    factors: (get('--factors') ?? '4').split(',').map(Number),
    methods: (get('--methods') ?? 'hmf,lmf').split(','),
    probes: get('--probes') === undefined ? undefined : Number(get('--probes')),
    repeat: Number(get('--repeat') ?? 1),
    regen: argv.includes('--regen'),
    json: argv.includes('--json'),
  };
}

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

// ---------------------------------------------------------------- the model

/** Upper-triangular R^-1 where G^T G = R^T R (Cholesky, float64). */
function inverseCholeskyFactor(gram: Float32Array | Float64Array, p: number): Float32Array {
  const l = new Float64Array(p * p); // lower, row-major: G^T G = L L^T, R = L^T
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = (gram[i * p + j] + gram[j * p + i]) / 2;
      for (let t = 0; t < j; t++) sum -= l[i * p + t] * l[j * p + t];
      if (i === j) {
        if (!(sum > 0)) throw new Error('CholeskyQR: Gram matrix not positive definite');
        l[i * p + i] = Math.sqrt(sum);
      } else l[i * p + j] = sum / l[j * p + j];
    }
  }
  // X = L^-1 (lower), then R^-1 = (L^T)^-1 = X^T.
  const x = new Float64Array(p * p);
  for (let c = 0; c < p; c++) {
    for (let i = c; i < p; i++) {
      let sum = i === c ? 1 : 0;
      for (let t = c; t < i; t++) sum -= l[i * p + t] * x[t * p + c];
      x[i * p + c] = sum / l[i * p + i];
    }
  }
  const rinv = new Float32Array(p * p);
  for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) rinv[i * p + j] = x[j * p + i];
  return rinv;
}

/** big x p with orthonormal columns: CholeskyQR2 of a seeded Gaussian (well conditioned for big >= 4p). */
function orthonormalTall(big: number, p: number, seed: number): tf.Tensor2D {
  let q = tf.tensor2d(gaussianArray(big * p, seed), [big, p]);
  for (let pass = 0; pass < 2; pass++) {
    const gram = tf.tidy(() => tf.matMul(tf.transpose(q), q));
    const rinv = inverseCholeskyFactor(gram.dataSync() as Float32Array, p);
    gram.dispose();
    const next = tf.tidy(() => tf.matMul(q, tf.tensor2d(rinv, [p, p])));
    q.dispose();
    q = next as tf.Tensor2D;
  }
  return q;
}

/** p x p orthogonal: Householder QR (float64) of a seeded Gaussian. */
function orthogonalSquare(p: number, seed: number): tf.Tensor2D {
  const cm = Float64Array.from(gaussianArray(p * p, seed));
  const q = orthonormalizeColumns(cm, p, p); // column-major; its transpose is orthogonal too
  return tf.tensor2d(Float32Array.from(q), [p, p]);
}

/** n x m = U diag(s) V^T, s_i ~ i^-0.5, Frobenius norm^2 = n m 2 / (n + m). */
function decayingMatrix(n: number, m: number, seed: number): tf.Tensor2D {
  const p = Math.min(n, m);
  const big = Math.max(n, m);
  let harmonic = 0;
  for (let i = 1; i <= p; i++) harmonic += 1 / i;
  const c = Math.sqrt((n * m * 2) / (n + m) / harmonic);
  const s = Float32Array.from({ length: p }, (_, i) => c / Math.sqrt(i + 1));
  const small = orthogonalSquare(p, seed);
  const tall = orthonormalTall(big, p, seed + 1);
  const out = tf.tidy(() => {
    const scaled = tf.mul(small, tf.tensor1d(s)); // columns scaled: U diag(s)
    return n <= m ? tf.matMul(scaled, tall, false, true) : tf.matMul(tall, scaled, false, true);
  });
  small.dispose();
  tall.dispose();
  return out as tf.Tensor2D;
}

async function generateModel(dir: string): Promise<void> {
  const model = tf.sequential({ name: 'ptb_medium' });
  const zeros = 'zeros' as const;
  model.add(tf.layers.embedding({ name: 'embedding', inputDim: VOCAB, outputDim: UNITS, inputLength: STEPS, embeddingsInitializer: zeros }));
  for (const name of ['lstm_1', 'lstm_2']) {
    model.add(tf.layers.lstm({ name, units: UNITS, returnSequences: true, kernelInitializer: zeros, recurrentInitializer: zeros }));
  }
  model.add(tf.layers.dense({ name: 'softmax', units: VOCAB, activation: 'softmax', kernelInitializer: zeros }));
  let seed = SEED;
  for (const layer of model.layers) {
    const weights = layer.getWeights().map((w) => {
      if (w.rank !== 2) return w.clone(); // biases keep their initial values
      seed += 10;
      const [n, m] = w.shape as [number, number];
      return decayingMatrix(n, m, seed);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  await model.save(fileSaver(dir, { force: true }));
  model.dispose();
}

// ---------------------------------------------------------------- the runs

interface Run {
  method: string;
  factor: number;
  elapsed: number;
  /** User + system CPU seconds of the process (all threads). */
  cpu: number;
  maxRssMb: number;
  report: Report;
}

/** "h:mm:ss" or "m:ss.ss" to seconds. */
function parseClock(text: string): number {
  return text.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

function compressArgs(model: string, method: string, factor: number, outDir: string, probes?: number): string[] {
  const args = ['compress', model, '-f', String(factor), '-m', method, '--no-bench', '--force', '-o', outDir, '--quiet'];
  return probes === undefined ? args : [...args, '--probes', String(probes)];
}

function runCompress(model: string, method: string, factor: number, outDir: string, probes?: number): Run {
  const args = ['-v', process.execPath, join(repo, 'bin/hmf.js'), ...compressArgs(model, method, factor, outDir, probes)];
  const res = spawnSync('/usr/bin/time', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`hmf compress -m ${method} -f ${factor} failed (${res.status}):\n${res.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/.exec(res.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(res.stderr);
  const sys = /System time \(seconds\): ([\d.]+)/.exec(res.stderr);
  if (!rss || !wall || !user || !sys) throw new Error(`cannot parse /usr/bin/time output:\n${res.stderr}`);
  const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as Report;
  return { method, factor, elapsed: parseClock(wall[1]), cpu: Number(user[1]) + Number(sys[1]), maxRssMb: Number(rss[1]) / 1024, report };
}

// ---------------------------------------------------------------- numpy

interface NumpyMatrix {
  weight: string;
  shape: [number, number];
  /** Fastest of the repeats, wall seconds. */
  seconds32: number;
  /** CPU seconds (all threads) of that run. */
  cpu32: number;
  /** Fastest float32 run with one OpenBLAS thread (robust on a busy machine), null if it could not be set. */
  seconds1: number | null;
  seconds64: number;
  /** Optimal relative error ||K - K_r|| / ||K|| per requested rank (key: rank). */
  optimal: Record<string, number>;
}

interface NumpyResult {
  kernel: string;
  threads: number;
  numpy: string;
  matrices: NumpyMatrix[];
}

const NUMPY_SCRIPT = String.raw`
import sys, json, os, time, glob, ctypes
import numpy as np
req = json.load(open(sys.argv[1]))
model = req['model']
kernel, threads, set_threads = 'unknown', -1, None
try:
    libdir = os.path.join(os.path.dirname(np.__file__), '..', 'numpy.libs')
    for path in glob.glob(os.path.join(libdir, '*openblas*')):
        lib = ctypes.CDLL(path)
        for prefix in ('scipy_openblas_', 'openblas_'):
            for suffix in ('64_', ''):
                f = getattr(lib, prefix + 'get_corename' + suffix, None)
                g = getattr(lib, prefix + 'get_num_threads' + suffix, None)
                if f is not None and kernel == 'unknown':
                    f.restype = ctypes.c_char_p
                    kernel = 'OpenBLAS ' + f().decode()
                    threads = g() if g is not None else -1
                    set_threads = getattr(lib, prefix + 'set_num_threads' + suffix, None)
except Exception as e:
    kernel = 'unknown (%s)' % e
if kernel == 'unknown':
    np.show_config()
spec = json.load(open(model))
base = os.path.dirname(model)
sizes = {'float32': 4, 'int32': 4, 'bool': 1, 'uint8': 1, 'uint16': 2, 'float16': 2}
where = {}
for group in spec['weightsManifest']:
    data = b''.join(open(os.path.join(base, p), 'rb').read() for p in group['paths'])
    off = 0
    for w in group['weights']:
        count = int(np.prod(w['shape'])) if w['shape'] else 1
        nbytes = count * sizes[w['dtype']]
        if 'quantization' in w:
            raise SystemExit('quantized weights are not supported by this benchmark')
        where[w['name']] = (data, off, w['shape'], w['dtype'])
        off += nbytes
np.linalg.svd(np.random.default_rng(0).standard_normal((200, 200)))  # warm up threads
out = []
for item in req['matrices']:
    data, off, shape, dtype = where[item['weight']]
    count = int(np.prod(shape))
    a = np.frombuffer(data, dtype=np.float32, count=count, offset=off).reshape(item['shape']).copy()
    t32, c32 = float('inf'), 0.0
    for _ in range(req['repeat']):
        t = time.perf_counter(); c = time.process_time()
        s32 = np.linalg.svd(a, full_matrices=False, compute_uv=True)[1]
        dt, dc = time.perf_counter() - t, time.process_time() - c
        if dt < t32: t32, c32 = dt, dc
    t1 = None
    if set_threads is not None and threads > 1:
        set_threads(1)
        t1 = float('inf')
        for _ in range(req['repeat']):
            t = time.perf_counter(); np.linalg.svd(a, full_matrices=False, compute_uv=True); t1 = min(t1, time.perf_counter() - t)
        set_threads(threads)
    a64 = a.astype(np.float64)
    t = time.perf_counter(); s = np.linalg.svd(a64, full_matrices=False, compute_uv=True)[1]; t64 = time.perf_counter() - t
    e = s * s
    total = e.sum()
    tail = np.cumsum(e[::-1])[::-1]
    optimal = {str(r): float(np.sqrt(tail[r] / total)) if r < len(s) else 0.0 for r in item['ranks']}
    out.append({'weight': item['weight'], 'shape': item['shape'], 'seconds32': t32, 'cpu32': c32, 'seconds1': t1, 'seconds64': t64, 'optimal': optimal})
print(json.dumps({'kernel': kernel, 'threads': threads, 'numpy': np.__version__, 'matrices': out}))
`;

/** Separate numpy processes whose per-matrix fastest times are the reference. */
const NUMPY_PROCESSES = 2;

/** Per matrix, the fastest of several numpy runs (float32 with its CPU time, one thread, float64 each on its own). */
function fastestNumpy(results: NumpyResult[]): NumpyResult | undefined {
  if (results.length === 0) return undefined;
  const matrices = results[0].matrices.map((m, i) => {
    const all = results.map((r) => r.matrices[i]);
    const f32 = all.reduce((a, b) => (b.seconds32 < a.seconds32 ? b : a));
    const ones = all.map((x) => x.seconds1).filter((x): x is number => x !== null);
    return {
      ...m,
      seconds32: f32.seconds32,
      cpu32: f32.cpu32,
      seconds1: ones.length > 0 ? Math.min(...ones) : null,
      seconds64: Math.min(...all.map((x) => x.seconds64)),
    };
  });
  return { ...results[0], matrices };
}

function runNumpy(model: string, matrices: { weight: string; shape: [number, number]; ranks: number[] }[], repeat: number): NumpyResult | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'hmf-bench-ptb-'));
  try {
    const req = join(dir, 'req.json');
    writeFileSync(req, JSON.stringify({ model, matrices, repeat }));
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const res = spawnSync('python3', ['-c', NUMPY_SCRIPT, req], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
    if (res.error || res.status !== 0) {
      process.stderr.write(`numpy unavailable (${res.error?.message ?? res.stderr.trim().split('\n').pop()})\n`);
      return undefined;
    }
    const lines = res.stdout.trim().split('\n');
    if (lines.length > 1) process.stderr.write(`${lines.slice(0, -1).join('\n')}\n`);
    return JSON.parse(lines[lines.length - 1]) as NumpyResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- output

const f2 = (x: number) => x.toFixed(2);

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function phaseSplit(run: Run): string {
  const p = run.report.context.phases;
  const inPhases = Object.values(p).reduce((a, b) => a + b, 0);
  const parts = Object.entries(p).map(([k, v]) => `${k} ${f2(v)}`);
  return `${parts.join(', ')}, other ${f2(run.elapsed - inPhases)}`;
}

function loadAverage(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = join(repo, '.cache/bench/ptb-medium');
  const model = join(dir, 'model.json');
  if (args.regen || !existsSync(model)) {
    await initBackend();
    mkdirSync(dirname(dir), { recursive: true });
    const t0 = performance.now();
    await generateModel(dir);
    process.stderr.write(`generated ${model} in ${f2((performance.now() - t0) / 1000)} s\n`);
  } else process.stderr.write(`using ${model} (--regen to rebuild)\n`);
  const loadBefore = loadAverage();

  const work = mkdtempSync(join(tmpdir(), 'hmf-ptb-out-'));
  const runs: Run[] = [];
  try {
    for (const factor of args.factors) {
      for (const method of args.methods) {
        let best: Run | undefined;
        for (let i = 0; i < args.repeat; i++) {
          process.stderr.write(`hmf ${compressArgs('model.json', method, factor, '<tmp>', args.probes).join(' ')} (${i + 1}/${args.repeat}) ...\n`);
          const run = runCompress(model, method, factor, join(work, `${method}-x${factor}`), args.probes);
          if (!best || run.elapsed < best.elapsed) best = run;
        }
        if (best) runs.push(best);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // The targeted matrices (the same for every run) and the LMF ranks to compare with.
  const targeted = new Map<string, { weight: string; shape: [number, number]; ranks: Set<number> }>();
  for (const run of runs) {
    for (const row of run.report.matrices) {
      const t = targeted.get(row.weight) ?? { weight: row.weight, shape: row.shape, ranks: new Set<number>() };
      if (row.method === 'lmf' && row.rank !== null) t.ranks.add(row.rank);
      targeted.set(row.weight, t);
    }
  }
  // numpy's time differs between processes (seen here: 3.6 s in some, 4.7 s in others, each
  // steady over its repeats): two processes, and the fastest of both per matrix is the reference.
  const numpyRuns: NumpyResult[] = [];
  for (let i = 0; i < NUMPY_PROCESSES; i++) {
    process.stderr.write(`numpy.linalg.svd (process ${i + 1}/${NUMPY_PROCESSES}) ...\n`);
    const result = runNumpy(
      model,
      [...targeted.values()].map((t) => ({ weight: t.weight, shape: t.shape, ranks: [...t.ranks] })),
      Math.max(args.repeat, 2),
    );
    if (result) numpyRuns.push(result);
  }
  const np = fastestNumpy(numpyRuns);
  const numpyTotals = numpyRuns.map((r) => f2(r.matrices.reduce((a, m) => a + m.seconds32, 0)));
  const loadAfter = loadAverage();
  const npSeconds = np ? np.matrices.reduce((a, m) => a + m.seconds32, 0) : NaN;
  const npCpu = np ? np.matrices.reduce((a, m) => a + m.cpu32, 0) : NaN;
  const np64Seconds = np ? np.matrices.reduce((a, m) => a + m.seconds64, 0) : NaN;
  const np1Seconds = np ? np.matrices.reduce((a, m) => a + (m.seconds1 ?? NaN), 0) : NaN;

  if (args.json) {
    const plain = runs.map((r) => ({ method: r.method, factor: r.factor, elapsed: r.elapsed, cpu: r.cpu, maxRssMb: r.maxRssMb, phases: r.report.context.phases, matrices: r.report.matrices }));
    process.stdout.write(`${JSON.stringify({ loadBefore, loadAfter, runs: plain, numpy: np }, null, 2)}\n`);
    return;
  }
  const out: string[] = [];
  out.push(`## PTB-medium (${targeted.size} targeted matrices, ${runs[0]?.report.totals.model.paramsBefore ?? '?'} parameters)`);
  out.push('');
  out.push(`Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter} (${cpus().length} cores); hmf on TF.js ${runs[0]?.report.context.backend ?? '?'} with ${runs[0]?.report.context.threads ?? '?'} thread(s). Best of ${args.repeat} run(s) per row${args.probes === undefined ? '' : `; --probes ${args.probes}`}.`);
  if (np) {
    out.push(
      `numpy ${np.numpy}, ${np.kernel}, ${np.threads} threads: full SVD (full_matrices=False) of the targeted matrices ` +
        `${f2(npSeconds)} s float32 (${f2(npCpu)} CPU s; fastest of ${Math.max(args.repeat, 2)} runs in each of ${numpyRuns.length} processes per matrix; the processes alone: ${numpyTotals.join(' s, ')} s), ${f2(np64Seconds)} s float64; ` +
        `one OpenBLAS thread: ${f2(np1Seconds)} s float32 (a busy machine slows two spinning OpenBLAS threads far more than one)`,
    );
  } else out.push('numpy: not available');
  out.push('');
  out.push(
    table(
      ['method', 'factor', 'end to end s', 'CPU s', 'numpy s', 'ratio', 'factorize s', 'factorize / numpy', 'CPU ratio', 'peak RSS MB', 'factor reached', 'phases (s)'],
      runs.map((r) => [
        r.method,
        r.factor,
        f2(r.elapsed),
        f2(r.cpu),
        f2(npSeconds),
        f2(r.elapsed / npSeconds),
        f2(r.report.context.phases.factorize ?? NaN),
        f2((r.report.context.phases.factorize ?? NaN) / npSeconds),
        f2(r.cpu / npCpu),
        r.maxRssMb.toFixed(0),
        r.report.totals.targeted.factor.toFixed(3),
        phaseSplit(r),
      ]),
    ),
  );
  out.push('');
  out.push('"sizes" is the wait for the gzip sizes after the measurement (they run on the thread pool from the read on; above 16 MiB from a 1/8 sample); "other" is the run\'s wall time outside the phases: process start, backend, writing.');
  out.push(`Fidelity probes: ${runs.map((r) => `${r.method} x${r.factor} ${r.report.fidelity.probes}`).join(', ')} (${args.probes === undefined ? 'the default for this model' : '--probes'}).`);
  out.push('');
  const byWeight = (run: Run, w: string): MatrixReport | undefined => run.report.matrices.find((m) => m.weight === w);
  for (const factor of args.factors) {
    const hmfRun = runs.find((r) => r.method === 'hmf' && r.factor === factor);
    const lmfRun = runs.find((r) => r.method === 'lmf' && r.factor === factor);
    const rows = [...targeted.values()].map((t) => {
      const h = hmfRun && byWeight(hmfRun, t.weight);
      const l = lmfRun && byWeight(lmfRun, t.weight);
      const npm = np?.matrices.find((m) => m.weight === t.weight);
      const opt = l && l.rank !== null && npm ? npm.optimal[String(l.rank)] : undefined;
      return [
        t.weight,
        t.shape.join('x'),
        h ? f2(h.seconds) : '-',
        l ? f2(l.seconds) : '-',
        h && l ? f2(h.seconds / l.seconds) : '-',
        npm ? f2(npm.seconds32) : '-',
        h ? `${h.denseOutputs ?? 0}/${h.rank ?? '-'}` : '-',
        h ? h.relativeError.toFixed(4) : '-',
        l ? `${l.rank}` : '-',
        l ? l.relativeError.toFixed(4) : '-',
        opt !== undefined ? opt.toFixed(4) : '-',
        opt !== undefined && l ? `${(100 * (l.relativeError / opt - 1)).toFixed(2)}%` : '-',
      ];
    });
    out.push(`### factor ${factor}: per matrix`);
    out.push('');
    out.push(
      table(['weight', 'shape', 'hmf s', 'lmf s', 'hmf/lmf', 'numpy f32 s', 'hmf k/r', 'hmf error', 'lmf r', 'lmf error', 'optimal error (numpy)', 'lmf excess'], rows),
    );
    out.push('');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
