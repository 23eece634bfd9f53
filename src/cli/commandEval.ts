import { Command, Option } from 'commander';
import { evaluate, type EvalOptions, type EvalReport } from '../eval.js';
import { formatCount, formatPercent, table, threadsText, type Style } from '../report/format.js';
import { startProgress, styleFor } from './output.js';
import { parseChoice, parseInteger } from './parse.js';

interface EvalFlags {
  data?: string;
  reference?: string;
  batchSize: string;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('score a model on a data file: accuracy, cross-entropy, perplexity (per-step labels), agreement with a reference model')
    .argument('<model.json>', 'the model to evaluate (layers or graph, compressed or not)')
    .requiredOption('--data <file>', 'data file: JSON {"inputs": [...], "labels": [...]} or JSON Lines of {"input": ..., "label": ...}')
    .option('--reference <model.json>', 'compare outputs with this model (e.g. the original of a compressed model)')
    .option('--batch-size <n>', 'examples per batch', '32')
    .addOption(new Option('--backend <name>', 'TF.js backend').choices(['tensorflow', 'wasm', 'cpu']))
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (model: string, flags: EvalFlags) => {
      const options: EvalOptions = {
        data: flags.data ?? '',
        reference: flags.reference,
        batchSize: parseInteger('--batch-size', flags.batchSize),
        backend: flags.backend === undefined ? undefined : parseChoice('--backend', flags.backend, ['tensorflow', 'wasm', 'cpu'] as const),
        command: ['hmf', ...process.argv.slice(2)].join(' '),
      };
      const progress = await startProgress(flags.quiet ?? false);
      options.onProgress = (m) => progress.update(m);
      try {
        const report = await evaluate(model, options);
        progress.stop();
        process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderEval(report, styleFor(process.stdout))}\n`);
      } finally {
        progress.stop();
      }
    });
}

/** A few aligned lines: the model, the data, the scores, the agreement with the reference. */
export function renderEval(report: EvalReport, style: Style): string {
  const rows: string[][] = [
    ['model', `${report.model.path}  (${report.model.format})`],
    ['data', `${report.data.path}  ${formatCount(report.data.examples)} examples, ${report.data.labelled ? 'labelled' : 'no labels'}`],
    ['output', `${report.output.name} [${report.output.shape.join(', ')}]${report.metrics ? ` read as ${report.metrics.outputs}` : ''}`],
  ];
  const m = report.metrics;
  if (m) {
    const what = m.task === 'sequence' ? 'next-token accuracy' : 'accuracy';
    rows.push([what, `${style.bold(m.accuracy.toFixed(4))}  (${formatPercent(m.accuracy)} of ${formatCount(m.positions)} ${m.task === 'sequence' ? 'positions' : 'examples'})`]);
    rows.push(['cross-entropy', `${m.crossEntropy.toFixed(4)} nats${m.task === 'sequence' ? ' per step' : ''}`]);
    if (m.perplexity !== null) rows.push(['perplexity', style.bold(m.perplexity.toFixed(4))]);
  }
  if (report.reference) {
    rows.push(['reference', report.reference.path]);
    for (const u of report.reference.unmeasured ?? []) rows.push([`  ${u.output}`, `not compared: ${u.reason}`]);
    for (const f of report.reference.outputs) {
      rows.push([
        `  ${f.output}`,
        `top-1 agreement ${style.bold(formatPercent(f.top1Agreement))}, relative output error ${f.relativeError.toFixed(4)}` +
          (f.klDivergence === null ? '' : `, KL ${Math.max(0, f.klDivergence).toFixed(4)}`),
      ]);
    }
  }
  const lines = table(['', ''], rows).slice(1);
  lines.push(style.dim(`${report.context.backend} backend (${threadsText(report.context.threads)}), batch ${report.context.batchSize}, ${report.context.wallSeconds.toFixed(1)} s`));
  return lines.join('\n');
}
