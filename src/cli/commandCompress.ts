import { Command, Option } from 'commander';
import { access, constants, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { compress, type CompressOptions } from '../compress.js';
import { FINETUNE_DEFAULTS, type FinetuneSettings } from '../finetune/index.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderTerminal } from '../report/terminal.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';
import { startProgress, styleFor } from './output.js';

interface CompressFlags {
  factor: string;
  method: string;
  out?: string;
  selection: string;
  denseShare?: string;
  scope?: string;
  sparse?: boolean;
  pruneSchedule: string;
  pruneEnd?: string;
  allocate?: string;
  objective: string;
  minParams: string;
  seed: string;
  force?: boolean;
  portable?: boolean;
  quantize?: string;
  bench: boolean;
  benchBrowser?: boolean;
  runs: string;
  probes?: string;
  backend?: string;
  json?: boolean;
  report?: string;
  maxError?: string;
  minAgreement?: string;
  minAccuracy?: string;
  maxPerplexity?: string;
  quiet?: boolean;
  calibration?: string;
  finetune?: string;
  epochs?: string;
  learningRate?: string;
  labelWeight?: string;
  eval?: string;
}

export function compressCommand(): Command {
  return new Command('compress')
    .description('compress a TF.js model (layers or graph format) with HMF, LMF or magnitude pruning, write it in the same format, and report size, latency and fidelity')
    .argument('<model.json>', 'the model to compress')
    .option('-f, --factor <n>', 'compression factor of the targeted weights (> 1), or auto: the largest that passes the gate (--max-error, --min-agreement, --min-accuracy, --max-perplexity)', '4')
    .addOption(new Option('-m, --method <name>', 'compression method').choices(['hmf', 'lmf', 'prune']).default('hmf'))
    .option('-o, --out <dir>', 'output folder (default: <model folder>-<method>-x<factor> beside it)')
    .addOption(new Option('--selection <how>', 'HMF: which outputs stay dense').choices(['residual', 'leading']).default('residual'))
    .option('--dense-share <x>', 'HMF: spend this share (0..1) of each matrix\'s budget on dense outputs instead of choosing k by the error (a fixed split as in the paper, for fine-tuning)')
    .addOption(new Option('--allocate <how>', 'spread the budget over the matrices where it costs the output least (global) or the same factor each (uniform); default: global, uniform for -m prune (measured better on held-out data)').choices(['global', 'uniform']))
    .addOption(
      new Option('--objective <what>', 'balanced: best fidelity at the factor, never slower than the original at batch 1 or 32; size: latency not considered; latency: the fastest model at the factor')
        .choices(['balanced', 'size', 'latency'])
        .default('balanced'),
    )
    .addOption(new Option('--scope <scope>', 'pruning: one magnitude threshold across all matrices (global) or the same factor each (layer), instead of the allocation').choices(['layer', 'global']))
    .option('--sparse', 'prune: store pruned kernels compactly (CSR or bitmap, whichever is smaller) as hmf runtime layers, run with a sparse kernel where it is not slower (layers models)')
    .addOption(
      new Option('--prune-schedule <when>', "prune with --finetune: 'oneshot' before fine-tuning, or 'gradual' during it (Zhu & Gupta's cubic sparsity schedule, from the original weights to exactly the factor)")
        .choices(['oneshot', 'gradual'])
        .default('oneshot'),
    )
    .option('--prune-end <x>', 'gradual pruning: share (0..1] of the fine-tuning steps over which the sparsity rises (default: 0.3)')
    .option('--min-params <n>', 'leave matrices with fewer parameters dense', '4096')
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--force', 'replace a non-empty output folder')
    .addOption(new Option('--quantize <dtype>', "store float weights with TF.js's float16 or uint8 quantization").choices(['float16', 'uint8']))
    .option('--portable', 'no hmf runtime layers in the output: matrices that would need them stay dense')
    .option('--no-bench', 'skip the latency measurement')
    .option('--bench-browser', "also time both models in headless Chromium (wasm and webgl); needs Debian's chromium or HMF_CHROMIUM")
    .option('--runs <n>', 'timed runs per model and batch size', '30')
    .option('--probes <n>', 'generated probe inputs for fidelity (default: 128, down to 16 for large models)')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['tensorflow', 'wasm', 'cpu']))
    .option('--json', 'print report.json on stdout instead of the table')
    .option('--report <file>', 'also write the report as Markdown, or as one self-contained HTML page with plots when the name ends in .html')
    .option('--max-error <x>', 'fail (exit 5) if the relative output error is above x')
    .option('--min-agreement <x>', 'fail (exit 5) if top-1 agreement is below x (0..1)')
    .option('--min-accuracy <x>', 'with --factor auto and --eval: the accuracy on the eval data\'s labels the chosen factor must keep (0..1)')
    .option('--max-perplexity <x>', 'with --factor auto and --eval: the perplexity on the eval data\'s per-step labels the chosen factor must stay under')
    .option('--calibration <data.json>', 'factorize/prune to preserve the outputs on these examples (JSON or JSON Lines); fidelity is measured on them')
    .option('--finetune <data.json>', 'after compressing, train the compressed model to match the original on these examples (layers models)')
    .option('--epochs <n>', `fine-tuning epochs (default: ${defaultsText('epochs')})`)
    .option('--learning-rate <x>', `fine-tuning peak learning rate (Adam; linear warm-up over the first 10% of the steps, then cosine decay to 0) (default: ${defaultsText('learningRate')})`)
    .option('--label-weight <x>', `fine-tuning: weight (0..1) of the cross-entropy against the data's labels; the rest is distillation from the original (> 0 needs labels) (default: ${defaultsText('labelWeight')}, 0 without labels)`)
    .option('--eval <data.json>', "score the written model on a labelled data file (as 'hmf eval') and add it to the report")
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (model: string, flags: CompressFlags, command: Command) => {
      const options: CompressOptions = {
        factor: flags.factor === 'auto' ? 'auto' : parseNumber('--factor', flags.factor),
        method: parseChoice('--method', flags.method, ['hmf', 'lmf', 'prune'] as const),
        out: flags.out,
        selection: parseChoice('--selection', flags.selection, ['residual', 'leading'] as const),
        denseShare: flags.denseShare === undefined ? undefined : parseNumber('--dense-share', flags.denseShare),
        scope: flags.scope === undefined ? undefined : parseChoice('--scope', flags.scope, ['layer', 'global'] as const),
        allocate: flags.allocate === undefined ? undefined : parseChoice('--allocate', flags.allocate, ['global', 'uniform'] as const),
        objective: parseChoice('--objective', flags.objective, ['balanced', 'size', 'latency'] as const),
        sparse: flags.sparse ?? false,
        pruneSchedule: parseChoice('--prune-schedule', flags.pruneSchedule, ['oneshot', 'gradual'] as const),
        pruneEnd: flags.pruneEnd === undefined ? undefined : parseNumber('--prune-end', flags.pruneEnd),
        minParams: parseInteger('--min-params', flags.minParams),
        seed: parseInteger('--seed', flags.seed),
        force: flags.force ?? false,
        portable: flags.portable ?? false,
        quantize: flags.quantize === undefined ? undefined : parseChoice('--quantize', flags.quantize, ['float16', 'uint8'] as const),
        bench: flags.bench,
        benchBrowser: flags.benchBrowser ?? false,
        runs: parseInteger('--runs', flags.runs),
        probes: flags.probes === undefined ? undefined : parseInteger('--probes', flags.probes),
        backend: flags.backend === undefined ? undefined : parseChoice('--backend', flags.backend, ['tensorflow', 'wasm', 'cpu'] as const),
        maxError: flags.maxError === undefined ? undefined : parseNumber('--max-error', flags.maxError),
        minAgreement: flags.minAgreement === undefined ? undefined : parseNumber('--min-agreement', flags.minAgreement),
        minAccuracy: flags.minAccuracy === undefined ? undefined : parseNumber('--min-accuracy', flags.minAccuracy),
        maxPerplexity: flags.maxPerplexity === undefined ? undefined : parseNumber('--max-perplexity', flags.maxPerplexity),
        calibration: flags.calibration,
        finetune: flags.finetune,
        epochs: flags.epochs === undefined ? undefined : parseInteger('--epochs', flags.epochs),
        learningRate: flags.learningRate === undefined ? undefined : parseNumber('--learning-rate', flags.learningRate),
        labelWeight: flags.labelWeight === undefined ? undefined : parseNumber('--label-weight', flags.labelWeight),
        eval: flags.eval,
        command: ['hmf', ...process.argv.slice(2)].join(' '),
      };
      if ((options.labelWeight ?? 0) > 0 && !options.finetune) throw new UsageError(`--label-weight ${flags.labelWeight}: only applies with --finetune data.json`);
      if (flags.report) await checkWritableFile('--report', flags.report);
      const progress = await startProgress(flags.quiet ?? false);
      options.onProgress = (m) => progress.update(m);
      try {
        const { report } = await compress(model, options);
        progress.stop();
        for (const w of report.warnings) process.stderr.write(`hmf: warning: ${w}\n`);
        if (flags.report) await writeFile(flags.report, /\.html?$/i.test(flags.report) ? renderHtml(report) : renderMarkdown(report));
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderTerminal(report, styleFor(process.stdout))}\n`);
      } finally {
        progress.stop();
      }
      void command;
    });
}

/** A file the CLI will write after the work is done: its folder must exist and be writable now. */
export async function checkWritableFile(flag: string, path: string): Promise<void> {
  const folder = dirname(resolve(path));
  try {
    if (!(await stat(folder)).isDirectory()) throw new Error('not a folder');
    await access(folder, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: expected a file in an existing, writable folder, found no folder ${folder}`);
  }
  if (await stat(path).then((s) => s.isDirectory(), () => false)) throw new UsageError(`${flag} ${path}: expected a file, found a folder`);
}

/** A fine-tuning default per model kind, for --help. */
function defaultsText(key: keyof FinetuneSettings): string {
  const { sequence, classifier } = FINETUNE_DEFAULTS;
  return sequence[key] === classifier[key] ? String(sequence[key]) : `${classifier[key]} for classifiers, ${sequence[key]} for sequence models (an output per step)`;
}
