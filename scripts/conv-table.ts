/**
 * Issue 15's acceptance table, through the real binary: the published convnets — nsfwjs's
 * MobileNetV2 (layers, uint8) and human-models' faceres-deep and gear (graph) — compressed
 * by `hmf compress` with each method under the run-time-aware default (`--objective
 * balanced`), and again with `--objective size` where the default leaves convolutions
 * dense for speed or the whole model above 0.7x its bytes (LMF/HMF). Per run: exit code,
 * the planner's convolution decisions (its notes under the table), whole-model raw bytes
 * before -> after, whether stock TF.js (tf.io.fromMemory on the files, none of hmf's code)
 * loads and runs the output at the model's input size, fidelity as the report gives it (on
 * generated probes: standard normal pixels) and on in-range images by stock TF.js (smooth
 * random images in [0, 1]: no photographs are available offline), batch-1 latency (original and compressed
 * interleaved in the same process, one wasm thread) and the run's wall time with the
 * planner's micro-benchmarks' share.
 *
 *   npm run build && node dist/scripts/fetch-published.js && node dist/scripts/fetch-human-models.js
 *   uptime; HMF_LATENCY_CACHE=off flock -x /work/team/cpu.lock node dist/scripts/conv-table.js \
 *     [--factor 2] [--methods hmf,lmf,prune] [--models mobilenet,faceres-deep,gear] [--runs 20] [--reports dir]
 *
 * HMF_LATENCY_CACHE=off: every run plans from scratch (its planning time is a first run's, and a
 * whole-model time cached under another load does not steer the plan).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../src/backend.js';
import type { MethodName } from '../src/methods/types.js';
import { formatBytes } from '../src/report/format.js';
import type { Report } from '../src/report/schema.js';
import { tf } from '../src/tf.js';
import { humanModelPath } from './fetch-human-models.js';
import { publishedModelDir } from './fetch-published.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const factor = flag('--factor', '2');
const methods = flag('--methods', 'hmf,lmf,prune').split(',') as MethodName[];
const runs = flag('--runs', '20');
const MODELS: Record<string, [string, string]> = {
  mobilenet: ['MobileNetV2 (nsfwjs, layers, uint8)', join(publishedModelDir(), 'model.json')],
  'faceres-deep': ['faceres-deep (graph)', humanModelPath('faceres-deep')],
  gear: ['gear (graph)', humanModelPath('gear')],
};
const models = flag('--models', Object.keys(MODELS).join(',')).split(',').map((m) => {
  if (!MODELS[m]) throw new Error(`--models: unknown model "${m}" (expected some of ${Object.keys(MODELS).join(', ')})`);
  return MODELS[m];
});
const hmfBin = fileURLToPath(new URL('../../bin/hmf.js', import.meta.url));
/** Where to keep each run's report.json (named <model>-<method>[-size].json), if anywhere. */
const reportsDir = process.argv.includes('--reports') ? flag('--reports', '') : null;
if (reportsDir) mkdirSync(reportsDir, { recursive: true });
/** In-range images the stock-loaded outputs are compared on. */
const SMOOTH_IMAGES = 8;
/** The whole model must shrink to at most this share of its bytes under LMF/HMF (issue 15's acceptance). */
const MAX_RATIO = 0.7;

/** A model loaded by stock TF.js only: the files read with fs and handed over through tf.io.fromMemory (none of hmf's code). */
async function loadStock(modelJson: string, outputNames?: string[]): Promise<{ run(x: tf.Tensor): tf.Tensor[]; inputShape: number[]; dispose(): void }> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as tf.io.ModelJSON;
  const dir = join(modelJson, '..');
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData, format: json.format });
  if (json.format === 'graph-model') {
    const model = await tf.loadGraphModel(handler);
    // The report names a signature's outputs by their keys; the graph runs them by tensor name.
    const signature = (json as { signature?: { outputs?: Record<string, { name?: string }> } }).signature?.outputs ?? {};
    const outputs = outputNames ? outputNames.map((n) => signature[n]?.name ?? n) : model.outputNodes;
    const list = (y: tf.Tensor | tf.Tensor[]) => (Array.isArray(y) ? y : [y]);
    return { run: (x) => list(model.execute(x, outputs)), inputShape: (model.inputs[0].shape ?? []).slice(1), dispose: () => model.dispose() };
  }
  const model = await tf.loadLayersModel(handler);
  return { run: (x) => [model.predict(x)].flat(), inputShape: model.inputs[0].shape.slice(1) as number[], dispose: () => model.dispose() };
}

/** Examples with pixels in [0, 1] and image-like smoothness: a random 7x7 image per channel, resized bilinearly to the input size. */
function smoothImages(count: number, shape: readonly number[]): tf.Tensor {
  const [h, w, c] = shape;
  return tf.tidy(() => tf.image.resizeBilinear(tf.randomUniform([count, 7, 7, c], 0, 1, 'float32', 7) as tf.Tensor4D, [h, w]));
}

/**
 * Stock TF.js loads and runs the written model; its outputs against the original's on
 * SMOOTH_IMAGES in-range images: relative error and top-1 agreement per output (graph
 * models: the outputs the report names, in its order).
 */
async function stockCheck(original: string, written: string, outputNames: string[]): Promise<{ stock: string; error: string; agreement: string }> {
  let a: Awaited<ReturnType<typeof loadStock>> | undefined;
  let b: Awaited<ReturnType<typeof loadStock>> | undefined;
  try {
    a = await loadStock(original, outputNames);
    b = await loadStock(written, outputNames);
    const x = smoothImages(SMOOTH_IMAGES, a.inputShape);
    const ya = a.run(x);
    const yb = b.run(x);
    const finite = yb.every((t) => t.dataSync().every(Number.isFinite));
    const error = ya.map((t, i) => tf.tidy(() => tf.norm(tf.sub(yb[i], t)).div(tf.norm(t)).dataSync()[0]).toFixed(3));
    const agreement = ya.map((t, i) =>
      t.shape[t.shape.length - 1] === 1 ? '-' : `${(100 * tf.tidy(() => tf.equal(t.argMax(-1), yb[i].argMax(-1)).mean().dataSync()[0])).toFixed(0)}%`,
    );
    tf.dispose([x, ...ya, ...yb]);
    return { stock: finite ? 'runs' : 'NaN/Inf', error: error.join(', '), agreement: agreement.join(', ') };
  } catch (e) {
    return { stock: `fails: ${(e as Error).message.slice(0, 60)}`, error: '-', agreement: '-' };
  } finally {
    a?.dispose();
    b?.dispose();
  }
}

interface Run {
  code: number;
  report: Report | null;
  stderr: string;
  seconds: number;
  stock: { stock: string; error: string; agreement: string } | null;
}

async function compressRun(path: string, method: MethodName, extra: string[]): Promise<Run> {
  const out = join(work, `${method}-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const r = spawnSync(process.execPath, [hmfBin, 'compress', path, '-m', method, '-f', factor, '-o', out, '--runs', runs, '--json', '--quiet', ...extra], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, NO_COLOR: '1' },
  });
  const seconds = (performance.now() - started) / 1000;
  const code = r.status ?? -1;
  const report = code === 0 ? (JSON.parse(r.stdout) as Report) : null;
  const stock = code === 0 ? await stockCheck(path, join(out, 'model.json'), report!.fidelity.outputs.map((o) => o.output)) : null;
  if (code === 0 && reportsDir) copyFileSync(join(out, 'report.json'), join(reportsDir, `${basename(path, '.json')}-${method}${extra.length ? '-size' : ''}.json`));
  rmSync(out, { recursive: true, force: true });
  return { code, report, stderr: r.stderr, seconds, stock };
}

/** Convolution targets the method rewrote, those left dense, and of those the ones kept dense for speed (with the planner's reasons). */
function convDecisions(report: Report): { rewritten: number; dense: number; forSpeed: number; why: string[] } {
  const convs = report.matrices.filter((m) => m.kernelShape);
  const dense = convs.filter((m) => m.method === 'dense');
  const forSpeed = dense.filter((m) => /slower/.test(m.note ?? ''));
  return { rewritten: convs.length - dense.length, dense: dense.length, forSpeed: forSpeed.length, why: [...new Set(forSpeed.map((m) => m.note ?? '?'))] };
}

function row(name: string, method: string, objective: string, run: Run): string {
  if (!run.report) return `| ${name} | ${method} | ${objective} | exit ${run.code} | ${run.stderr.trim().split('\n').pop()} |`;
  const rep = run.report;
  const t = rep.totals;
  const c = convDecisions(rep);
  const f = rep.fidelity.outputs;
  const b1 = rep.latency?.batches.find((b) => b.batch === 1);
  const plan = rep.plan?.benchmarks;
  return (
    `| ${name} | ${method} | ${objective} | ${run.code} | ${c.rewritten} / ${c.dense} (${c.forSpeed}) | ${t.targeted.factor.toFixed(2)}x | ` +
    `${formatBytes(t.bytes.before.raw)} -> ${formatBytes(t.bytes.after.raw)} | **${(t.bytes.after.raw / t.bytes.before.raw).toFixed(3)}** | ${run.stock?.stock} | ` +
    `${f.map((o) => o.relativeError.toFixed(3)).join(', ')} | ${f.map((o) => (o.top1Agreement === null ? '-' : `${(100 * o.top1Agreement).toFixed(0)}%`)).join(', ')} | ` +
    `${run.stock?.error} | ${run.stock?.agreement} | ` +
    `${b1 ? `${b1.original.medianMs.toFixed(1)} -> ${b1.compressed.medianMs.toFixed(1)} ms (${b1.speedup.toFixed(2)}x, ${b1.verdict})` : '-'} | ` +
    `${run.seconds.toFixed(0)} s${plan ? ` (${plan.count} benchmarks, ${plan.seconds.toFixed(0)} s)` : ''} |`
  );
}

await initBackend('wasm');
const work = mkdtempSync(join(tmpdir(), 'hmf-conv-table-'));
const rows = [
  `| model | method x${factor} | objective | exit | convs rewritten / dense (for speed) | targeted | whole model (raw) | ratio | stock TF.js | probes: rel. output error | probes: top-1 | images: rel. output error | images: top-1 | batch 1: original -> compressed | wall time (planner) |`,
  '|---|---|---|--:|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|',
];
const denseReasons: string[] = [];
const planNotes: string[] = [];
const emit = (line: string, label: string, run: Run) => {
  rows.push(line);
  process.stderr.write(`${line}\n`);
  const plan = run.report?.plan;
  for (const note of [...(plan?.notes ?? []), ...(plan?.identicalToLmf ? [`HMF = LMF: ${plan.identicalToLmf}`] : [])]) planNotes.push(`${label}: ${note}`);
};
try {
  for (const [name, path] of models) {
    if (!existsSync(path)) throw new Error(`${path} is missing: fetch it first (see the header of this script)`);
    for (const method of methods) {
      const run = await compressRun(path, method, []);
      emit(row(name, method, 'balanced (default)', run), `${name}, ${method}`, run);
      const c = run.report ? convDecisions(run.report) : null;
      if (c?.forSpeed) denseReasons.push(`${name}, ${method}: ${c.forSpeed} convolution(s) kept dense for speed: ${c.why.join('; ')}`);
      const ratio = run.report ? run.report.totals.bytes.after.raw / run.report.totals.bytes.before.raw : 1;
      if (method !== 'prune' && (c?.forSpeed || ratio > MAX_RATIO)) {
        const size = await compressRun(path, method, ['--objective', 'size']);
        emit(row(name, method, 'size', size), `${name}, ${method}, size`, size);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${rows.join('\n')}\n`);
if (denseReasons.length) process.stdout.write(`\nKept dense by the default objective:\n${denseReasons.map((r) => `- ${r}`).join('\n')}\n`);
if (planNotes.length) process.stdout.write(`\nThe planner's notes:\n${planNotes.map((r) => `- ${r}`).join('\n')}\n`);
