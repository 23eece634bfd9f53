import { Command } from 'commander';
import { bench } from '../bench.js';
import { formatFactor, formatMs, table, threadsText } from '../report/format.js';
import { styleFor } from './output.js';
import { parseInteger } from './parse.js';

export function benchCommand(): Command {
  return new Command('bench')
    .description('time a model (median, p10/p90 after warm-up), or two models A/B interleaved with --vs')
    .argument('<model.json>', 'the model to time')
    .option('--vs <other.json>', 'a second model to time against it on the same inputs')
    .option('--batch <sizes>', 'comma-separated batch sizes', '1,32')
    .option('--runs <n>', 'timed runs per model and batch size', '30')
    .option('--seed <n>', 'seed of the generated inputs', '0')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, flags: { vs?: string; batch: string; runs: string; seed: string; json?: boolean }) => {
      const batches = flags.batch.split(',').map((b) => parseInteger('--batch', b));
      const result = await bench(model, { vs: flags.vs, batches, runs: parseInteger('--runs', flags.runs), seed: parseInteger('--seed', flags.seed) });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const style = styleFor(process.stdout);
      const header = result.vs ? ['batch', 'model median', 'p10-p90', 'vs median', 'p10-p90', 'speedup of --vs'] : ['batch', 'median', 'p10-p90'];
      const rows = result.batches.map((b) => {
        const a = [String(b.batch), formatMs(b.original.medianMs), `${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)}`];
        return result.vs ? [...a, formatMs(b.compressed.medianMs), `${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}`, formatFactor(b.speedup)] : a;
      });
      const lines = [style.bold(result.model) + (result.vs ? `  vs  ${result.vs}` : ''), ...table(header, rows, header.map((_, i) => i > 0))];
      lines.push(style.dim(`${result.runs} timed runs per model and batch after warm-up${result.vs ? ', A/B interleaved' : ''}; backend ${result.backend} (${threadsText(result.threads)})`));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
