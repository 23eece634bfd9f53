import { Command, Option } from 'commander';
import { writeFile } from 'node:fs/promises';
import { sweep, type SweepOptions } from '../sweep.js';
import { renderSweepMarkdown, renderSweepTerminal, sweepTable } from '../report/sweep.js';
import { renderSweepPage } from '../report/sweepPlot.js';
import type { MethodName } from '../methods/types.js';
import { checkWritableFile } from './commandCompress.js';
import { startProgress, styleFor } from './output.js';
import { parseChoice, parseInteger, parseNumber } from './parse.js';

interface SweepFlags {
  methods: string;
  factors: string;
  calibration?: string;
  eval?: string;
  allocate?: string;
  objective: string;
  minParams: string;
  seed: string;
  runs: string;
  probes?: string;
  plot?: string;
  json?: boolean;
  report?: string;
  quiet?: boolean;
}

export function sweepCommand(): Command {
  return new Command('sweep')
    .description('compress a model with each method at each factor and tabulate size, latency, fidelity and the eval metric, with the Pareto front marked and an SVG plot')
    .argument('<model.json>', 'the model to sweep (layers or graph)')
    .option('--methods <list>', 'comma-separated methods', 'hmf,lmf,prune')
    .option('--factors <list>', 'comma-separated compression factors (> 1)', '2,4,8,16')
    .option('--calibration <data.json>', 'factorize to preserve the outputs on these examples; fidelity is measured on them')
    .option('--eval <data.json>', 'labelled data: each row gets its accuracy (perplexity for per-step labels), which the Pareto front and the plot then use')
    .addOption(new Option('--allocate <how>', 'spread each budget where it costs the output least (global) or evenly (uniform); default: global, uniform for prune').choices(['global', 'uniform']))
    .addOption(new Option('--objective <what>', 'as for compress').choices(['balanced', 'size', 'latency']).default('balanced'))
    .option('--min-params <n>', 'leave matrices with fewer parameters dense', '4096')
    .option('--seed <n>', 'seed for every random choice', '0')
    .option('--runs <n>', 'timed runs per model and batch size', '20')
    .option('--probes <n>', 'generated probe inputs for fidelity (default: 128, down to 16 for large models)')
    .option('--plot <file.svg>', 'where to write the plot (default: <model folder>-sweep.svg beside the model folder)')
    .option('--json', 'print the sweep as JSON on stdout')
    .option('--report <file>', 'also write the table: Markdown (.md) or a self-contained HTML page with the plots (.html)')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (model: string, flags: SweepFlags) => {
      const options: SweepOptions = {
        methods: flags.methods.split(',').map((m) => parseChoice('--methods', m.trim(), ['hmf', 'lmf', 'prune'] as const) as MethodName),
        factors: flags.factors.split(',').map((f) => parseNumber('--factors', f.trim())),
        calibration: flags.calibration,
        eval: flags.eval,
        allocate: flags.allocate === undefined ? undefined : parseChoice('--allocate', flags.allocate, ['global', 'uniform'] as const),
        objective: parseChoice('--objective', flags.objective, ['balanced', 'size', 'latency'] as const),
        minParams: parseInteger('--min-params', flags.minParams),
        seed: parseInteger('--seed', flags.seed),
        runs: parseInteger('--runs', flags.runs),
        probes: flags.probes === undefined ? undefined : parseInteger('--probes', flags.probes),
        plot: flags.plot,
        command: ['hmf', ...process.argv.slice(2)].join(' '),
      };
      if (flags.report) await checkWritableFile('--report', flags.report);
      if (flags.plot) await checkWritableFile('--plot', flags.plot);
      const progress = await startProgress(flags.quiet ?? false);
      options.onProgress = (m) => progress.update(m);
      try {
        const report = await sweep(model, options);
        progress.stop();
        if (flags.report) await writeFile(flags.report, /\.html?$/i.test(flags.report) ? renderSweepPage(report, sweepTable(report)) : renderSweepMarkdown(report));
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderSweepTerminal(report, styleFor(process.stdout))}\n`);
      } finally {
        progress.stop();
      }
    });
}
