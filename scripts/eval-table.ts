/**
 * Held-out quality of every classifier and language-model fixture, original vs
 * HMF, LMF and prune at factors 2, 4 and 8, scored by `evaluate()` on the
 * fixture's test.json, with the latency ratios of the compress report.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/eval-table.js [fixture ...] [--runs 20]
 *
 * Prints a Markdown table on stdout (progress on stderr). Accuracy for
 * classifiers; perplexity (per-step, nats -> exp) for language models, where
 * next-token accuracy is shown beside it. Speedup = original / compressed median
 * latency (> 1: the compressed model is faster).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compress } from '../src/compress.js';
import { HmfError } from '../src/errors.js';
import { evaluate, type EvalReport } from '../src/eval.js';
import type { MethodName } from '../src/methods/types.js';

const DEFAULT_FIXTURES = ['sentiment-mlp', 'sentiment-embed', 'intent-mlp', 'sentiment-gru', 'char-lstm'];
const METHODS: MethodName[] = ['hmf', 'lmf', 'prune'];
const FACTORS = [2, 4, 8];

const argv = process.argv.slice(2);
const runsAt = argv.indexOf('--runs');
const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 20;
const named = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs');
const root = resolve(import.meta.dirname, '..', '..');
const fixtures = (named.length ? named : DEFAULT_FIXTURES).filter((name) => existsSync(join(root, 'fixtures', name, 'test.json')));

/** The number the table compares: perplexity for per-step labels, else accuracy. */
function score(report: EvalReport): { value: number; text: string; lowerIsBetter: boolean } {
  const m = report.metrics;
  if (!m) throw new Error(`${report.data.path}: no labels to score`);
  if (m.perplexity !== null) return { value: m.perplexity, text: `ppl ${m.perplexity.toFixed(3)} (acc ${m.accuracy.toFixed(4)})`, lowerIsBetter: true };
  return { value: m.accuracy, text: `acc ${m.accuracy.toFixed(4)}`, lowerIsBetter: false };
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
const log = (message: string) => process.stderr.write(`${message}\n`);

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), 'hmf-eval-table-'));
const lines = [
  '| fixture | method | factor | targeted factor | accuracy / perplexity | Δ vs original | speedup b1 | speedup b32 | runtime required | compress s |',
  '|---|---|--:|--:|--:|--:|--:|--:|:-:|--:|',
];
try {
  for (const name of fixtures) {
    const dir = join(root, 'fixtures', name);
    const data = join(dir, 'test.json');
    const base = score(await evaluate(join(dir, 'model.json'), { data }));
    lines.push(`| ${name} | original | 1 | 1.00 | ${base.text} | | | | | |`);
    log(lines[lines.length - 1]);
    for (const method of METHODS) {
      for (const factor of FACTORS) {
        const out = join(work, `${name}-${method}-x${factor}`);
        const t0 = performance.now();
        let row: string;
        try {
          const { report } = await compress(join(dir, 'model.json'), { method, factor, out, runs });
          const seconds = (performance.now() - t0) / 1000;
          const s = score(await evaluate(join(out, 'model.json'), { data }));
          const delta = s.lowerIsBetter ? `${signed(((s.value - base.value) / base.value) * 100, 1)}%` : signed(s.value - base.value, 4);
          const speedups = (report.latency?.batches ?? []).map((b) => `${b.speedup.toFixed(2)}x`);
          row =
            `| ${name} | ${method} | ${factor} | ${report.totals.targeted.factor.toFixed(2)} | ${s.text} | ${delta} | ` +
            `${speedups[0] ?? '-'} | ${speedups[1] ?? '-'} | ${report.output.runtimeRequired ? 'yes' : 'no'} | ${seconds.toFixed(1)} |`;
        } catch (err) {
          if (!(err instanceof HmfError)) throw err;
          row = `| ${name} | ${method} | ${factor} | - | ${err.constructor.name}: ${err.message.replace(/\|/g, '/')} | | | | | |`;
        }
        lines.push(row);
        log(row);
        rmSync(out, { recursive: true, force: true });
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${lines.join('\n')}\n`);
log(`${((performance.now() - started) / 1000).toFixed(0)} s`);
