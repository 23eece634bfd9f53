import { Command } from 'commander';
import { bench } from '../bench.js';
import { browserBackendLabel } from '../report/browser.js';
import { formatFactor, formatMs, NOISE_NOTE, table, threadsText, withinNoise, type TimedPair } from '../report/format.js';
import { startProgress, styleFor } from './output.js';
import { parseInteger } from './parse.js';

export function benchCommand(): Command {
  return new Command('bench')
    .description('time a model (median, p10/p90 after warm-up), or two models A/B interleaved with --vs')
    .argument('<model.json>', 'the model to time')
    .option('--vs <other.json>', 'a second model to time against it on the same inputs')
    .option('--batch <sizes>', 'comma-separated batch sizes', '1,32')
    .option('--runs <n>', 'timed runs per model and batch size', '30')
    .option('--seed <n>', 'seed of the generated inputs', '0')
    .option('--browser', "also time in headless Chromium (wasm and webgl backends); needs Debian's chromium or HMF_CHROMIUM")
    .option('--json', 'print the result as JSON')
    .option('-q, --quiet', 'no progress on stderr')
    .action(async (model: string, flags: { vs?: string; batch: string; runs: string; seed: string; browser?: boolean; json?: boolean; quiet?: boolean }) => {
      const batches = flags.batch.split(',').map((b) => parseInteger('--batch', b));
      const progress = await startProgress(flags.quiet ?? false);
      const result = await bench(model, {
        vs: flags.vs,
        batches,
        runs: parseInteger('--runs', flags.runs),
        seed: parseInteger('--seed', flags.seed),
        browser: flags.browser ?? false,
        onProgress: (m) => progress.update(m),
      }).finally(() => progress.stop());
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const style = styleFor(process.stdout);
      // With --browser, a first column says where each row was timed.
      const where = result.browser ? ['where'] : [];
      const header = [...where, ...(result.vs ? ['batch', 'A median', 'p10-p90', 'B median', 'p10-p90', 'B is'] : ['batch', 'median', 'p10-p90'])];
      const row = (place: string, b: (typeof result.batches)[number]) => {
        const a = [...(result.browser ? [place] : []), String(b.batch), formatMs(b.original.medianMs), `${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)}`];
        return result.vs ? [...a, formatMs(b.compressed.medianMs), `${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}`, comparison(b)] : a;
      };
      const rows = result.batches.map((b) => row(`Node ${result.backend} (${threadsText(result.threads)})`, b));
      for (const backend of result.browser?.backends ?? []) rows.push(...backend.batches.map((b) => row(`Chromium ${browserBackendLabel(backend)}`, b)));
      const lines = result.vs ? [`A  ${style.bold(result.model)}`, `B  ${style.bold(result.vs)}`] : [style.bold(result.model)];
      lines.push(...table(header, rows, header.map((_, i) => i > where.length)));
      const all = [...result.batches, ...(result.browser?.backends.flatMap((b) => b.batches) ?? [])];
      if (result.vs && all.some(withinNoise)) lines.push(style.warn(`"within noise": ${NOISE_NOTE.replace(/^within noise: /, '')}`));
      lines.push(style.dim(`${result.runs} timed runs per model and batch after warm-up${result.vs ? ', A/B interleaved' : ''}; backend ${result.backend} (${threadsText(result.threads)})`));
      if (result.browser) {
        lines.push(style.dim(`browser: ${result.browser.browser}, TF.js ${result.browser.tfjsVersion} from a local server, stock page with the hmf runtime's script`));
        for (const backend of result.browser.backends) for (const note of backend.skipped) lines.push(style.dim(`Chromium ${backend.backend}: ${note}`));
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** "1.33x faster than A", "1.25x slower than A", and whether the difference is within noise. */
function comparison(b: TimedPair & { speedup: number }): string {
  const words = b.speedup >= 1 ? `${formatFactor(b.speedup)} faster than A` : `${formatFactor(1 / b.speedup)} slower than A`;
  return withinNoise(b) ? `${words} (within noise)` : words;
}
