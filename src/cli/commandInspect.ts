import { Command } from 'commander';
import { inspect } from '../inspect.js';
import { formatCount, formatPercent, shapeText, table } from '../report/format.js';
import { styleFor } from './output.js';
import { parseInteger } from './parse.js';

export function inspectCommand(): Command {
  return new Command('inspect')
    .description('list layers and weight matrices, what would be compressed, and the spectral energy LMF and HMF keep')
    .argument('<model.json>', 'the model to inspect')
    .option('--min-params <n>', 'matrices with fewer parameters would stay dense', '4096')
    .option('--seed <n>', 'seed of the randomized SVD', '0')
    .option('--json', 'print the result as JSON')
    .action(async (model: string, flags: { minParams: string; seed: string; json?: boolean }) => {
      const result = await inspect(model, { minParams: parseInteger('--min-params', flags.minParams), seed: parseInteger('--seed', flags.seed) });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      const style = styleFor(process.stdout);
      const lines: string[] = [];
      lines.push(style.bold(`${result.model.path}`) + `  ${result.model.format} (${result.model.className}), ${formatCount(result.params)} parameters`);
      if (result.layers.length) {
        lines.push('', style.bold('layers'));
        lines.push(...table(['name', 'class', 'params'], result.layers.map((l) => [l.name, l.className, formatCount(l.params)]), [false, false, true]).map((l) => `  ${l}`));
      }
      lines.push('', style.bold('matrices'));
      const energy = (e: number | null) => (e === null ? '-' : formatPercent(e));
      const rows = result.matrices.map((m) => {
        const e = m.energyKept;
        return [
          m.weight,
          shapeText(m),
          formatCount(m.params),
          m.compressed ? 'yes' : style.dim(`no: ${m.reason}`),
          ...(e ? e.flatMap((x) => [energy(x.lmf), energy(x.hmf)]) : ['', '', '', '', '', '']),
        ];
      });
      lines.push(
        ...table(
          ['weight', 'shape', 'params', 'compressed', 'LMF x2', 'HMF x2', 'LMF x4', 'HMF x4', 'LMF x8', 'HMF x8'],
          rows,
          [false, false, true, false, true, true, true, true, true, true],
        ).map((l) => `  ${l}`),
      );
      lines.push('', style.dim('LMF/HMF xF: share of the matrix\'s energy (squared Frobenius norm) kept at factor F.'));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
