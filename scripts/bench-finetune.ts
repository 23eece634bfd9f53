/**
 * One fine-tuning step (distillation: teacher forward, student forward + backward, Adam
 * update) of an HMF x4 fixture on the wasm backend (with hmf's scatter-add
 * UnsortedSegmentSum kernel, src/backend-kernels.ts) against the cpu backend, side by side.
 * Each (fixture, backend) runs in its own process, capped at --cap seconds: a cpu step that
 * has not finished by then is reported as such (a running TF.js kernel cannot be interrupted).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-finetune.js [--fixtures sentiment-mlp,sentiment-embed,char-lstm]
 *     [--backends wasm,cpu] [--warmup 2] [--steps 10] [--batch 16] [--cap 90] [--json]
 *
 * Data: the fixture's training split (scripts/recovery-table.ts), never test.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from '../src/tf.js';
import { initBackend, type BackendName } from '../src/backend.js';
import { registerTrainingKernels } from '../src/backend-kernels.js';
import { loadLayers, readModelData } from '../src/calibrate/data.js';
import { compress } from '../src/compress.js';
import { batchLabels, batchTensors } from '../src/data/index.js';
import { createTrainer, DEFAULT_BATCH_SIZE, DEFAULT_LEARNING_RATE } from '../src/finetune/index.js';
import { readModel } from '../src/io/index.js';
import { cacheDir, repoRoot } from './data.js';
import { trainingExamples } from './recovery-table.js';

interface Args {
  fixtures: string[];
  backends: BackendName[];
  warmup: number;
  steps: number;
  batch: number;
  cap: number;
  json: boolean;
}

interface Measurement {
  fixture: string;
  backend: string;
  batch: number;
  /** Milliseconds of each step in order (warm-up steps first). */
  steps: number[];
  warmup: number;
  /** The process hit the cap before all steps finished. */
  capped: boolean;
  error?: string;
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    fixtures: (get('--fixtures') ?? 'sentiment-mlp,sentiment-embed,char-lstm').split(','),
    backends: (get('--backends') ?? 'wasm,cpu').split(',') as BackendName[],
    warmup: Number(get('--warmup') ?? 2),
    steps: Number(get('--steps') ?? 10),
    batch: Number(get('--batch') ?? DEFAULT_BATCH_SIZE),
    cap: Number(get('--cap') ?? 90),
    json: process.argv.includes('--json'),
  };
}

const work = join(cacheDir, 'bench-finetune');

/** The HMF x4 model of a fixture and a data file of its training examples, made once. */
async function prepare(fixture: string, batch: number): Promise<{ model: string; compressed: string; data: string }> {
  const model = join(repoRoot, 'fixtures', fixture, 'model.json');
  const out = join(work, `${fixture}-hmf-x4`);
  const data = join(work, `${fixture}-train-${batch}.json`);
  mkdirSync(work, { recursive: true });
  if (!existsSync(data)) writeFileSync(data, JSON.stringify(trainingExamples(fixture, batch)));
  if (!existsSync(join(out, 'model.json'))) await compress(model, { factor: 4, method: 'hmf', out, force: true, bench: false });
  return { model, compressed: join(out, 'model.json'), data };
}

/** Child process: time the steps, one JSON line per step on stdout as soon as it is done. */
async function measureChild(fixture: string, backend: BackendName, args: Args): Promise<void> {
  const { model, compressed, data } = await prepare(fixture, args.batch);
  await initBackend(backend);
  registerTrainingKernels();
  const original = await readModel(model);
  const teacher = await loadLayers(original);
  const student = await loadLayers(await readModel(compressed));
  const dataset = await readModelData(data, original, teacher, true);
  const trainer = createTrainer(teacher, student, dataset, { batchSize: args.batch });
  const xs = batchTensors(dataset, 0, dataset.count);
  const labels = batchLabels(dataset, 0, dataset.count);
  process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), examples: dataset.count })}\n`);
  for (let i = 0; i < args.warmup + args.steps; i++) {
    const t0 = performance.now();
    trainer.step(xs, labels, DEFAULT_LEARNING_RATE);
    process.stdout.write(`${JSON.stringify({ ms: performance.now() - t0 })}\n`);
    await tf.nextFrame();
  }
}

function runChild(fixture: string, backend: BackendName, args: Args): Promise<Measurement> {
  const script = fileURLToPath(import.meta.url);
  const childArgs = [script, '--child', fixture, backend, '--warmup', String(args.warmup), '--steps', String(args.steps), '--batch', String(args.batch)];
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let capped = false;
    const timer = setTimeout(() => {
      capped = true;
      child.kill('SIGKILL');
    }, args.cap * 1000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { ms?: number; backend?: string });
      const head = lines.find((l) => l.backend);
      const steps = lines.flatMap((l) => (l.ms === undefined ? [] : [l.ms]));
      const failed = !capped && code !== 0;
      resolvePromise({
        fixture,
        backend: head?.backend ?? backend,
        batch: args.batch,
        steps,
        warmup: args.warmup,
        capped,
        ...(failed ? { error: stderr.split('\n').filter((l) => l && !l.includes('Orthogonal initializer')).slice(-3).join(' ') } : {}),
      });
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function cell(m: Measurement | undefined, cap: number): string {
  if (!m) return '-';
  if (m.error) return `error: ${m.error}`;
  const timed = m.steps.slice(m.warmup);
  if (timed.length) return `${median(timed).toFixed(1)}${m.capped ? ` (${timed.length} steps before the ${cap} s cap)` : ''}`;
  if (m.steps.length) return `> warm-up only: first step ${(m.steps[0] / 1000).toFixed(1)} s, then cap ${cap} s`;
  return `no step within ${cap} s`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  if (argv[0] === '--child') {
    await measureChild(argv[1], argv[2] as BackendName, args);
    return;
  }
  // Compressed models and data files are made once here, not raced by the children.
  await initBackend('wasm');
  for (const f of args.fixtures) await prepare(f, args.batch);
  const results: Measurement[] = [];
  for (const fixture of args.fixtures) {
    for (const backend of args.backends) {
      process.stderr.write(`${fixture} on ${backend} ...\n`);
      results.push(await runChild(fixture, backend, args));
    }
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const lines = [
    `One distillation step, HMF x4, batch ${args.batch}: median ms of ${args.steps} steps after ${args.warmup} warm-up steps (cap ${args.cap} s per fixture and backend)`,
    '',
    `| fixture | ${args.backends.map((b) => `${b} ms/step`).join(' | ')} | first step ${args.backends.join(' / ')} ms |${args.backends.includes('wasm') && args.backends.includes('cpu') ? ' cpu / wasm |' : ''}`,
    `|---|${args.backends.map(() => '---|').join('')}---|${args.backends.includes('wasm') && args.backends.includes('cpu') ? '---|' : ''}`,
  ];
  for (const fixture of args.fixtures) {
    const of = (b: string) => results.find((r) => r.fixture === fixture && r.backend === b);
    const firsts = args.backends.map((b) => (of(b)?.steps[0] !== undefined ? of(b)!.steps[0].toFixed(0) : '-')).join(' / ');
    let ratio = '';
    if (args.backends.includes('wasm') && args.backends.includes('cpu')) {
      const [w, c] = [of('wasm'), of('cpu')];
      const tw = w ? w.steps.slice(w.warmup) : [];
      const tc = c ? c.steps.slice(c.warmup) : [];
      ratio = tw.length && tc.length ? ` ${(median(tc) / median(tw)).toFixed(1)}x |` : tw.length && c?.capped ? ` > ${((args.cap * 1000) / (c.steps.length + 1) / median(tw)).toFixed(0)}x |` : ' - |';
    }
    lines.push(`| ${fixture} | ${args.backends.map((b) => cell(of(b), args.cap)).join(' | ')} | ${firsts} |${ratio}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
