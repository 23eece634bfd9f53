import type { SweepReport, SweepRow } from '../sweep.js';
import { formatBytes, formatFactor, formatMs, formatPercent, plainStyle, table, type Style } from './format.js';

function cells(r: SweepRow, report: SweepReport): string[] {
  const lat = (i: number) => {
    const b = r.latency?.[i];
    if (!b) return '';
    return r.method === 'original' ? formatMs(b.medianMs) : `${formatMs(b.medianMs)} (${formatFactor(b.speedup)})`;
  };
  const worst = r.fidelity ? r.fidelity.reduce((w, f) => (f.relativeError > w.relativeError ? f : w)) : null;
  const metric = r.metrics ? (r.metrics.perplexity !== null ? r.metrics.perplexity.toFixed(3) : formatPercent(r.metrics.accuracy)) : '';
  const method = r.method === 'hmf' && r.identicalToLmf ? 'hmf (=lmf)' : r.method;
  if (r.unreachable) return [method, `x${r.factor}`, 'unreachable', '', '', '', '', '', '', '', ''];
  return [
    method,
    r.method === 'original' ? '' : `x${r.factor}`,
    r.targetedFactor === null ? '' : formatFactor(r.targetedFactor),
    r.bytes ? formatBytes(r.bytes.raw) : '',
    r.bytes ? formatBytes(r.bytes.gzip) : '',
    lat(0),
    lat(1),
    worst ? worst.relativeError.toFixed(4) : '',
    worst ? formatPercent(Math.min(...r.fidelity!.map((f) => f.top1Agreement))) : '',
    report.options.eval ? metric : '',
    r.pareto ? '*' : '',
  ];
}

function header(report: SweepReport): string[] {
  const batches = report.rows.find((r) => r.latency)?.latency?.map((b) => b.batch) ?? [1, 32];
  const metric = report.quality.name === 'top-1 agreement' ? 'eval' : report.quality.name;
  return ['method', 'factor', 'reached', 'raw', 'gzip', `batch ${batches[0]}`, batches[1] ? `batch ${batches[1]}` : '', 'rel.err', 'top-1', metric, 'pareto'];
}

/** `hmf sweep` as a terminal table. */
export function renderSweepTerminal(report: SweepReport, style: Style = plainStyle): string {
  const out: string[] = [];
  out.push(style.bold(`hmf ${report.tool.version}  sweep`) + `  ${report.model.path}`);
  out.push(style.dim(`  methods ${report.options.methods.join(', ')}; factors ${report.options.factors.map((f) => `x${f}`).join(', ')}; --allocate ${report.options.allocate}, --objective ${report.options.objective}`));
  out.push('');
  const h = header(report);
  const rows = report.rows.map((r) => cells(r, report));
  out.push(...table(h, rows, h.map((_, i) => i >= 2 && i < 10)).map((l, i) => (i === 0 ? style.bold(l) : l)));
  out.push('');
  out.push(style.dim(`latency: median on ${'1 thread'} (speedup over the original, interleaved); rel.err and top-1 against the original on ${report.options.calibration ? 'the calibration examples' : 'generated probes'}`));
  out.push(style.dim(`pareto (*): no other row is at least as small, as fast at batch 1 and as good on ${report.quality.name}, and better on one of them`));
  for (const r of report.rows) if (r.unreachable) out.push(style.dim(`${r.method} x${r.factor}: ${r.unreachable}`));
  for (const r of report.rows) {
    if (r.denseForSpeed === 0) continue;
    const short = r.targetedFactor !== null && r.targetedFactor < r.factor * 0.97;
    const consequence = short ? `hence the lower factor reached; --objective size factorizes ${r.denseForSpeed === 1 ? 'it' : 'them'}` : `the other matrices carry ${r.denseForSpeed === 1 ? 'its' : 'their'} share of the budget`;
    out.push(style.dim(`${r.method} x${r.factor}: ${r.denseForSpeed} matrix${r.denseForSpeed === 1 ? '' : 'es'} kept dense because factorized ${r.denseForSpeed === 1 ? 'it' : 'they'} would slow the model; ${consequence}`));
  }
  out.push(`plot: ${report.plot}`);
  out.push(style.dim(`backend ${report.context.backend}, tfjs ${report.context.tfjsVersion}, ${report.context.wallSeconds.toFixed(1)} s`));
  return out.join('\n');
}

/** The table's header and rows (for the HTML page). */
export function sweepTable(report: SweepReport): { header: string[]; rows: string[][] } {
  return { header: header(report), rows: report.rows.map((r) => cells(r, report)) };
}

/** `hmf sweep --report x.md`. */
export function renderSweepMarkdown(report: SweepReport): string {
  const h = header(report);
  const lines = [
    `# hmf sweep: ${report.model.path}`,
    '',
    `- command: \`${report.command}\``,
    `- methods ${report.options.methods.join(', ')}; factors ${report.options.factors.map((f) => `x${f}`).join(', ')}; allocate ${report.options.allocate}, objective ${report.options.objective}`,
    `- quality for the Pareto front and the plot: ${report.quality.name} (${report.quality.higherIsBetter ? 'higher' : 'lower'} is better)`,
    '',
    `| ${h.join(' | ')} |`,
    `|${h.map((_, i) => (i >= 2 && i < 10 ? '--:' : '---')).join('|')}|`,
    ...report.rows.map((r) => `| ${cells(r, report).join(' | ')} |`),
    '',
    `![quality against size and latency](${report.plot})`,
    '',
  ];
  return lines.join('\n');
}
