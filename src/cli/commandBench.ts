import { Command } from 'commander';
import { bench } from '../bench.js';
import { formatFactor, formatMs, NOISE_NOTE, table, threadsText, withinNoise, type TimedPair } from '../report/format.js';
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
      const header = result.vs ? ['batch', 'A median', 'p10-p90', 'B median', 'p10-p90', 'B is'] : ['batch', 'median', 'p10-p90'];
      const rows = result.batches.map((b) => {
        const a = [String(b.batch), formatMs(b.original.medianMs), `${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)}`];
        return result.vs ? [...a, formatMs(b.compressed.medianMs), `${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}`, comparison(b)] : a;
      });
      const lines = result.vs ? [`A  ${style.bold(result.model)}`, `B  ${style.bold(result.vs)}`] : [style.bold(result.model)];
      lines.push(...table(header, rows, header.map((_, i) => i > 0)));
      if (result.vs && result.batches.some(withinNoise)) lines.push(style.warn(`"within noise": ${NOISE_NOTE.replace(/^within noise: /, '')}`));
      lines.push(style.dim(`${result.runs} timed runs per model and batch after warm-up${result.vs ? ', A/B interleaved' : ''}; backend ${result.backend} (${threadsText(result.threads)})`));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** "1.33x faster than A", "1.25x slower than A", and whether the difference is within noise. */
function comparison(b: TimedPair & { speedup: number }): string {
  const words = b.speedup >= 1 ? `${formatFactor(b.speedup)} faster than A` : `${formatFactor(1 / b.speedup)} slower than A`;
  return withinNoise(b) ? `${words} (within noise)` : words;
}
