/**
 * Gradual vs one-shot pruning (issue 14): for each fixture at each factor, magnitude pruning
 * one-shot (prune to the factor, then fine-tune with the zeros held) against
 * `--prune-schedule gradual` (prune while fine-tuning, Zhu & Gupta's schedule), with the same
 * fine-tuning: the same data, and the library's defaults for the model's kind (epochs,
 * learning rate, label weight) unless --epochs / --learning-rate say otherwise. Scores on
 * each fixture's held-out test.json: accuracy (classifiers) or perplexity (char-lstm).
 * Fine-tuning data: the fixture's training split as scripts/recovery-table.ts draws it,
 * written to .cache/gradual-table/.
 *
 *   npm run build && node dist/scripts/gradual-table.js [--fixtures sentiment-mlp,...] [--factors 4,8]
 *     [--examples 2048] [--epochs n] [--learning-rate x] [--json]
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress, type CompressOptions } from '../src/compress.js';
import { evaluate } from '../src/eval.js';
import { cacheDir, repoRoot } from './data.js';
import { trainingExamples } from './recovery-table.js';

const FIXTURES = ['sentiment-mlp', 'sentiment-embed', 'intent-mlp', 'sentiment-gru', 'sentiment-cnn', 'char-lstm'];
const SCHEDULES = ['oneshot', 'gradual'] as const;

interface Row {
  fixture: string;
  factor: number;
  schedule: (typeof SCHEDULES)[number];
  metric: 'accuracy' | 'perplexity';
  original: number;
  test: number;
  factorReached: number;
  epochs: number;
  learningRate: number;
  steps: number;
  /** The epoch kept by validation (0: the pruned start, before any fine-tuning step). */
  bestEpoch: number;
  validationKl: number;
  seconds: number;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const fixtures = (get('--fixtures') ?? FIXTURES.join(',')).split(',');
  const factors = (get('--factors') ?? '4,8').split(',').map(Number);
  const examples = Number(get('--examples') ?? 2048);
  const epochs = get('--epochs') === undefined ? undefined : Number(get('--epochs'));
  const learningRate = get('--learning-rate') === undefined ? undefined : Number(get('--learning-rate'));
  const work = join(cacheDir, 'gradual-table');
  mkdirSync(work, { recursive: true });
  const rows: Row[] = [];
  for (const fixture of fixtures) {
    const dir = join(repoRoot, 'fixtures', fixture);
    const test = join(dir, 'test.json');
    const data = join(work, `${fixture}-train-${examples}.json`);
    writeFileSync(data, JSON.stringify(trainingExamples(fixture, examples)));
    const score = async (model: string) => {
      const m = (await evaluate(model, { data: test })).metrics;
      const lm = m?.perplexity !== null && m?.perplexity !== undefined;
      return { metric: lm ? ('perplexity' as const) : ('accuracy' as const), value: lm ? (m.perplexity as number) : (m?.accuracy ?? NaN) };
    };
    const original = await score(join(dir, 'model.json'));
    for (const factor of factors) {
      for (const schedule of SCHEDULES) {
        const out = join(work, `${fixture}-x${factor}-${schedule}`);
        rmSync(out, { recursive: true, force: true });
        const options: CompressOptions = {
          method: 'prune',
          factor,
          out,
          force: true,
          bench: false,
          finetune: data,
          pruneSchedule: schedule,
          ...(epochs !== undefined ? { epochs } : {}),
          ...(learningRate !== undefined ? { learningRate } : {}),
        };
        const t0 = performance.now();
        const { report } = await compress(join(dir, 'model.json'), options);
        const seconds = (performance.now() - t0) / 1000;
        const scored = await score(join(out, 'model.json'));
        const ft = report.finetune!;
        const row: Row = {
          fixture,
          factor,
          schedule,
          metric: scored.metric,
          original: original.value,
          test: scored.value,
          factorReached: report.totals.targeted.factor,
          epochs: ft.epochs,
          learningRate: ft.learningRate,
          steps: ft.gradual?.totalSteps ?? ft.epochs * Math.ceil(ft.trainExamples / ft.batchSize),
          bestEpoch: ft.bestEpoch,
          validationKl: ft.fidelityAfter[0]?.klDivergence ?? NaN,
          seconds,
        };
        rows.push(row);
        rmSync(out, { recursive: true, force: true });
        process.stderr.write(`${JSON.stringify(row)}\n`);
      }
    }
  }
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const show = (r: Row, v: number) => (r.metric === 'perplexity' ? v.toFixed(3) : `${(100 * v).toFixed(1)}%`);
  const lines = [
    '| fixture | metric | original | factor | one-shot + fine-tuning | gradual | gradual - one-shot | validation KL (one-shot / gradual) | kept epoch (one-shot / gradual) | factor reached | epochs, peak lr, steps |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const fixture of fixtures) {
    for (const factor of factors) {
      const one = rows.find((r) => r.fixture === fixture && r.factor === factor && r.schedule === 'oneshot');
      const grad = rows.find((r) => r.fixture === fixture && r.factor === factor && r.schedule === 'gradual');
      if (!one || !grad) continue;
      const diff = one.metric === 'perplexity' ? (grad.test - one.test).toFixed(3) : `${(100 * (grad.test - one.test)).toFixed(1)} points`;
      lines.push(
        `| ${fixture} | ${one.metric} | ${show(one, one.original)} | ${factor} | ${show(one, one.test)} | ${show(grad, grad.test)} | ${diff} | ${one.validationKl.toFixed(4)} / ${grad.validationKl.toFixed(4)} | ${one.bestEpoch} / ${grad.bestEpoch} | ${one.factorReached.toFixed(3)} / ${grad.factorReached.toFixed(3)} | ${one.epochs}, ${one.learningRate}, ${one.steps} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
