/**
 * The planner's two claims, measured (issue 13):
 *
 * 1. `allocation`: with --calibration at x4 (HMF_PLAN_TABLE_ALL=1: also plain, and at x8), `--allocate global` against
 *    `--allocate uniform` on every fixture's held-out metric (accuracy, or perplexity for the
 *    char LM), each method; `--objective size` so that only the allocation differs. The
 *    noise of a classifier's accuracy difference is given as the paired standard error
 *    sqrt(discordant) / n over the held-out examples.
 * 2. `latency`: the default `compress` (objective balanced) of every fixture and of the
 *    published models in the cache, its measured latency at batch 1 and 32 against the
 *    original (interleaved medians, HMF_LATENCY_CACHE=off so that the plan times afresh),
 *    beside `--objective size`.
 *
 * 3. `sweep-cost`: a 3-method x 4-factor `hmf sweep` against one `hmf compress` (hmf x4), each
 *    through the binary with HMF_LATENCY_CACHE=off, side by side per fixture: the time spent
 *    outside the measurements (reading, planning, factorizing, rewriting, encoding: the
 *    report's phases minus measure/latency/eval/sizes/browser), and the whole wall time.
 *
 *   npm run build && node dist/scripts/plan-table.js allocation|latency|sweep-cost [fixture ...]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compress, type CompressOptions } from '../src/compress.js';
import { evaluate } from '../src/eval.js';
import { readModel } from '../src/io/index.js';
import type { MethodName } from '../src/methods/types.js';
import { layersAdapter } from '../src/model/adapter.js';
import { readDataFile, dataSignatures } from '../src/data/index.js';
import { dataBatches } from '../src/calibrate/data.js';
import { tf } from '../src/tf.js';
import { cacheDir, repoRoot } from './data.js';
import { trainingExamples } from './recovery-table.js';
import { humanModelPath, HUMAN_MODELS } from './fetch-human-models.js';
import { existsSync } from 'node:fs';

const FIXTURES = ['sentiment-mlp', 'sentiment-embed', 'intent-mlp', 'sentiment-gru', 'sentiment-cnn', 'char-lstm'];
const CALIBRATION_EXAMPLES = 512;

/** Per-example correctness of a classifier (or per-position of an LM) on the fixture's test.json. */
async function correctness(modelJson: string, testJson: string): Promise<Uint8Array> {
  const file = await readModel(modelJson);
  const adapter = layersAdapter(file, Infinity);
  const loaded = await adapter.load(file);
  try {
    const data = await readDataFile(testJson, dataSignatures(file, loaded.signatures));
    const out: number[] = [];
    for (const batch of dataBatches(data, 32)) {
      const [y] = await loaded.runnable.run(batch);
      const predicted = y.argMax(-1).dataSync();
      out.push(...Array.from(predicted as Int32Array));
      tf.dispose([y, ...batch]);
    }
    const labels = data.labels ?? new Int32Array(0);
    return Uint8Array.from(out, (p, i) => (p === labels[i] ? 1 : 0));
  } finally {
    loaded.runnable.dispose();
  }
}

async function allocation(fixtures: string[]): Promise<void> {
  const work = join(cacheDir, 'plan-table');
  mkdirSync(work, { recursive: true });
  const lines = ['| fixture | metric | original | method | factor | data | uniform | global | global - uniform | noise (1 s.e.) |', '|---|---|--:|---|--:|---|--:|--:|--:|--:|'];
  for (const fixture of fixtures) {
    const dir = join(repoRoot, 'fixtures', fixture);
    const model = join(dir, 'model.json');
    const test = join(dir, 'test.json');
    const lm = fixture === 'char-lstm';
    const calibration = join(work, `${fixture}-calibration.json`);
    writeFileSync(calibration, JSON.stringify(trainingExamples(fixture, CALIBRATION_EXAMPLES)));
    const metric = async (m: string) => {
      const e = (await evaluate(m, { data: test })).metrics!;
      return lm ? e.perplexity! : e.accuracy;
    };
    const original = await metric(model);
    // The acceptance setting (calibrated, x4); HMF_PLAN_TABLE_ALL=1 adds plain x4 and calibrated x8.
    const settings = process.env.HMF_PLAN_TABLE_ALL ? ([[4, 'calibration'], [4, 'plain'], [8, 'calibration']] as const) : ([[4, 'calibration']] as const);
    for (const [factor, data] of settings) {
      for (const method of ['hmf', 'lmf', 'prune'] as MethodName[]) {
        const values: Record<string, number> = {};
        const right: Record<string, Uint8Array> = {};
        for (const allocate of ['uniform', 'global'] as const) {
          const out = join(work, `${fixture}-${method}-${factor}-${data}-${allocate}`);
          rmSync(out, { recursive: true, force: true });
          const opts: CompressOptions = { factor, method, allocate, objective: 'size', out, force: true, bench: false, ...(data === 'calibration' ? { calibration } : {}) };
          await compress(model, opts);
          values[allocate] = await metric(join(out, 'model.json'));
          right[allocate] = await correctness(join(out, 'model.json'), test);
          rmSync(out, { recursive: true, force: true });
        }
        const n = right.uniform.length;
        let discordant = 0;
        for (let i = 0; i < n; i++) if (right.uniform[i] !== right.global[i]) discordant++;
        const noise = Math.sqrt(discordant) / n;
        const fmt = (v: number) => (lm ? v.toFixed(3) : (100 * v).toFixed(1));
        const diff = values.global - values.uniform;
        const row = `| ${fixture} | ${lm ? 'perplexity' : 'accuracy %'} | ${fmt(original)} | ${method} | x${factor} | ${data} | ${fmt(values.uniform)} | ${fmt(values.global)} | ${lm ? diff.toFixed(3) : (100 * diff).toFixed(1)} | ${lm ? `${(100 * noise).toFixed(1)}% of positions differ` : (100 * noise).toFixed(1)} |`;
        lines.push(row);
        process.stderr.write(`${row}\n`);
      }
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function latency(names: string[]): Promise<void> {
  process.env.HMF_LATENCY_CACHE = 'off';
  const work = join(cacheDir, 'plan-table');
  mkdirSync(work, { recursive: true });
  const models = names.length
    ? names.map((n) => (FIXTURES.includes(n) || n === 'graph-mlp' ? join(repoRoot, 'fixtures', n, 'model.json') : n))
    : [
        ...[...FIXTURES, 'graph-mlp'].map((f) => join(repoRoot, 'fixtures', f, 'model.json')),
        ...HUMAN_MODELS.map((m) => humanModelPath(m)).filter(existsSync),
        join(cacheDir, 'published', 'nsfwjs-mobilenet-v2', 'model.json'),
      ].filter(existsSync);
  const lines = [
    '| model | objective | result | factor | batch 1: original -> compressed (speedup, verdict) | batch 32 | changed for speed |',
    '|---|---|---|--:|---|---|---|',
  ];
  for (const model of models) {
    for (const objective of ['balanced', 'size'] as const) {
      const out = join(work, 'latency-out');
      rmSync(out, { recursive: true, force: true });
      let row: string;
      try {
        const { report } = await compress(model, { factor: 4, objective, out, force: true, runs: 40 });
        const cell = (i: number) => {
          const b = report.latency?.batches[i];
          return b ? `${b.original.medianMs.toFixed(3)} -> ${b.compressed.medianMs.toFixed(3)} ms (${b.speedup.toFixed(2)}x, ${b.verdict})` : '';
        };
        const changed = (report.plan?.latency ?? []).filter((l) => l.action !== 'kept').map((l) => l.layer);
        row = `| ${model.replace(repoRoot + '/', '').replace(cacheDir + '/', '')} | ${objective} | written | ${report.totals.targeted.factor.toFixed(2)} | ${cell(0)} | ${cell(1)} | ${changed.join(', ') || '-'} |`;
      } catch (err) {
        row = `| ${model.replace(repoRoot + '/', '').replace(cacheDir + '/', '')} | ${objective} | exit ${(err as { exitCode?: number }).exitCode ?? 1}: ${(err as Error).message.slice(0, 160)} | | | | |`;
      }
      rmSync(out, { recursive: true, force: true });
      lines.push(row);
      process.stderr.write(`${row}\n`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Seconds a command's report spent outside the measurements, and its wall time. */
function phaseSeconds(args: string[]): { work: number; wall: number } | string {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'hmf.js'), ...args, '--json', '--quiet'], { encoding: 'utf8', env: { ...process.env, HMF_LATENCY_CACHE: 'off' }, maxBuffer: 1 << 28 });
  if (r.status !== 0) return `exit ${r.status}`;
  const { context } = JSON.parse(r.stdout) as { context: { wallSeconds: number; phases: Record<string, number> } };
  const measuring = new Set(['measure', 'latency', 'eval', 'sizes', 'browser']);
  const work = Object.entries(context.phases).reduce((sum, [name, sec]) => sum + (measuring.has(name) ? 0 : sec), 0);
  return { work, wall: context.wallSeconds };
}

async function sweepCost(fixtures: string[]): Promise<void> {
  const work = join(cacheDir, 'plan-table');
  mkdirSync(work, { recursive: true });
  const lines = ['| fixture | objective | compress hmf x4: work / wall s | sweep 3 methods x 4 factors: work / wall s | work ratio |', '|---|---|--:|--:|--:|'];
  for (const fixture of fixtures) {
    for (const objective of ['size', 'balanced']) {
      const model = join(repoRoot, 'fixtures', fixture, 'model.json');
      const out = join(work, 'sweep-cost');
      rmSync(out, { recursive: true, force: true });
      // Exit 4 (a layer kept dense for speed leaves the factor unreachable) is shown as such.
      const one = phaseSeconds(['compress', model, '-f', '4', '-o', out, '--force', '--objective', objective]);
      rmSync(out, { recursive: true, force: true });
      const plot = join(work, 'sweep-cost.svg');
      const sweep = phaseSeconds(['sweep', model, '--methods', 'hmf,lmf,prune', '--factors', '2,4,8,16', '--objective', objective, '--plot', plot]);
      rmSync(plot, { force: true });
      const cell = (x: { work: number; wall: number } | string) => (typeof x === 'string' ? x : `${x.work.toFixed(2)} / ${x.wall.toFixed(2)}`);
      const ratio = typeof one === 'string' || typeof sweep === 'string' ? '' : `${(sweep.work / one.work).toFixed(2)}x`;
      const row = `| ${fixture} | ${objective} | ${cell(one)} | ${cell(sweep)} | ${ratio} |`;
      lines.push(row);
      process.stderr.write(`${row}\n`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [what, ...rest] = process.argv.slice(2);
  const run =
    what === 'latency'
      ? latency(rest)
      : what === 'allocation'
        ? allocation(rest.length ? rest : FIXTURES)
        : what === 'sweep-cost'
          ? sweepCost(rest.length ? rest : FIXTURES)
          : Promise.reject(new Error('usage: plan-table.js allocation|latency|sweep-cost [fixture ...]'));
  run.catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
