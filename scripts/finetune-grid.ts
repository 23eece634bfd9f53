/**
 * Fine-tuning settings measured (issue 14): for one fixture, compress with each method at
 * a factor, fine-tune with each setting (epochs, peak learning rate, label weight, prune
 * schedule), and score: the fidelity to the original on fine-tuning's own validation slice
 * (KL, what the defaults are chosen by) and the held-out score on test.json (perplexity or
 * accuracy, to confirm). Fine-tuning data: the fixture's training split as
 * scripts/recovery-table.ts draws it (up to 2048 examples), written to .cache/finetune-grid/.
 *
 *   npm run build && node dist/scripts/finetune-grid.js <fixture> [--methods hmf,prune] [--factors 8]
 *     [--settings e2:3e-3:0,e6:3e-3:0,e6:1e-2:0,e6:3e-3:0.5] [--examples 2048] [--json]
 *
 * A setting is epochs:learningRate:labelWeight[:gradual[@end]]; "gradual" adds --prune-schedule
 * gradual (prune only), "@end" its --prune-end.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress } from '../src/compress.js';
import { evaluate } from '../src/eval.js';
import type { MethodName } from '../src/methods/types.js';
import { cacheDir, repoRoot } from './data.js';
import { trainingExamples } from './recovery-table.js';

interface Setting {
  label: string;
  epochs: number;
  learningRate: number;
  labelWeight: number;
  gradual: boolean;
  /** Gradual pruning's --prune-end, when given as gradual@x. */
  pruneEnd?: number;
}

function parseSetting(s: string): Setting {
  const [e, lr, lw, schedule] = s.split(':');
  const epochs = Number(e.replace(/^e/, ''));
  if (!Number.isInteger(epochs) || !(Number(lr) > 0) || !(Number(lw) >= 0)) throw new Error(`setting ${s}: expected epochs:learningRate:labelWeight[:gradual]`);
  const [kind, end] = (schedule ?? '').split('@');
  return { label: s, epochs, learningRate: Number(lr), labelWeight: Number(lw), gradual: kind === 'gradual', ...(end ? { pruneEnd: Number(end) } : {}) };
}

export interface GridRow {
  fixture: string;
  method: MethodName;
  factor: number;
  setting: string;
  validationKlBefore: number;
  validationKl: number;
  validationTop1: number;
  bestEpoch: number;
  test: number;
  testMetric: 'perplexity' | 'accuracy';
  factorReached: number;
  seconds: number;
}

/** Compresses and fine-tunes `fixture` with one method/factor/setting; returns the scores. */
export async function gridCell(fixture: string, method: MethodName, factor: number, setting: Setting, dataPath: string, work: string): Promise<GridRow> {
  const dir = join(repoRoot, 'fixtures', fixture);
  const out = join(work, `${fixture}-${method}-x${factor}-${setting.label.replace(/[^a-z0-9.]+/gi, '_')}`);
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  const { report } = await compress(join(dir, 'model.json'), {
    method,
    factor,
    out,
    force: true,
    bench: false,
    finetune: dataPath,
    epochs: setting.epochs,
    learningRate: setting.learningRate,
    labelWeight: setting.labelWeight,
    ...(setting.gradual ? { pruneSchedule: 'gradual' as const, pruneEnd: setting.pruneEnd } : {}),
  });
  const seconds = (performance.now() - t0) / 1000;
  const ev = await evaluate(join(out, 'model.json'), { data: join(dir, 'test.json') });
  const ft = report.finetune!;
  const lm = ev.metrics?.perplexity !== null && ev.metrics?.perplexity !== undefined;
  return {
    fixture,
    method,
    factor,
    setting: setting.label,
    validationKlBefore: ft.fidelityBefore[0].klDivergence ?? NaN,
    validationKl: ft.fidelityAfter[0].klDivergence ?? NaN,
    validationTop1: ft.fidelityAfter[0].top1Agreement,
    bestEpoch: ft.bestEpoch,
    test: lm ? (ev.metrics!.perplexity as number) : (ev.metrics?.accuracy ?? NaN),
    testMetric: lm ? 'perplexity' : 'accuracy',
    factorReached: report.totals.targeted.factor,
    seconds,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const fixture = argv[0];
  if (!fixture || fixture.startsWith('--')) throw new Error('usage: finetune-grid.js <fixture> [--methods ...] [--factors ...] [--settings ...]');
  const methods = (get('--methods') ?? 'hmf,prune').split(',') as MethodName[];
  const factors = (get('--factors') ?? '8').split(',').map(Number);
  const settings = (get('--settings') ?? 'e2:3e-3:0,e6:3e-3:0,e6:1e-2:0,e6:3e-3:0.5').split(',').map(parseSetting);
  const examples = Number(get('--examples') ?? 2048);
  const work = join(cacheDir, 'finetune-grid');
  mkdirSync(work, { recursive: true });
  const dataPath = join(work, `${fixture}-train-${examples}.json`);
  writeFileSync(dataPath, JSON.stringify(trainingExamples(fixture, examples)));
  const rows: GridRow[] = [];
  for (const factor of factors) {
    for (const method of methods) {
      for (const setting of settings) {
        if (setting.gradual && method !== 'prune') continue;
        const row = await gridCell(fixture, method, factor, setting, dataPath, work);
        rows.push(row);
        process.stderr.write(`${JSON.stringify(row)}\n`);
      }
    }
  }
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  const lines = [
    `| fixture | method | factor | epochs:lr:label weight | validation KL before -> after | validation top-1 | kept epoch | test ${rows[0]?.testMetric ?? ''} | s |`,
    '|---|---|--:|---|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.fixture} | ${r.method} | ${r.factorReached.toFixed(2)} | ${r.setting} | ${r.validationKlBefore.toFixed(4)} -> ${r.validationKl.toFixed(4)} | ${(100 * r.validationTop1).toFixed(1)}% | ${r.bestEpoch} | ${
          r.testMetric === 'perplexity' ? r.test.toFixed(3) : (100 * r.test).toFixed(1)
        } | ${r.seconds.toFixed(0)} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1]?.endsWith('finetune-grid.js')) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
