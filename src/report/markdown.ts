import type { Report } from './schema.js';
import { planLines } from './plan.js';
import { evalLines, finetuneLines, RUNTIME_SNIPPET, storageText } from './terminal.js';
import { browserLatencyRows } from './browser.js';
import { formatBytes, formatCount, formatFactor, formatMs, formatPercent, matrixLayer, NOISE_NOTE, PROBE_CAVEAT, shapeText, threadsText, withinNoise } from './format.js';
import { headlineLines } from './headline.js';

/** The compress report as Markdown (`--report file.md`). */
export function renderMarkdown(report: Report): string {
  const o = report.options;
  const t = report.totals;
  const lines: string[] = [];
  lines.push(`# hmf report: ${o.method} x${o.factor}`, '');
  lines.push(...headlineLines(report).map((l) => `**${l}**`), '');
  for (const w of report.warnings) lines.push(`> Warning: ${w}`, '');
  lines.push(`- model: \`${report.model.path}\` (${report.model.format}, ${report.model.className})`);
  lines.push(`- output: \`${report.output.path ?? '(not written)'}\`; runtime required: ${report.output.runtimeRequired ? 'yes' : 'no'}`);
  if (report.output.runtimeRequired) {
    lines.push('- this model uses hmf runtime layers; load it with:', '', '```js', ...RUNTIME_SNIPPET, '```', '');
  }
  lines.push(`- command: \`${report.command}\``);
  lines.push(`- seed ${o.seed}, selection ${o.selection}, allocate ${o.allocate}, objective ${o.objective}${o.scope ? `, scope ${o.scope}` : ''}, min-params ${o.minParams}`, '');
  lines.push('## Matrices', '');
  lines.push('| layer | role | shape | method | r | k | sparsity | params before | params after | MACs before | MACs after | rel. error | seconds |');
  lines.push('|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const m of report.matrices) {
    lines.push(
      `| ${matrixLayer(m)} | ${m.role} | ${shapeText(m)} | ${m.method}${m.selection ? `/${m.selection}` : ''} | ${m.rank ?? ''} | ${m.denseOutputs ?? ''} | ` +
        `${m.sparsity === null ? '' : formatPercent(m.sparsity)} | ${formatCount(m.paramsBefore)} | ${formatCount(m.paramsAfter)} | ` +
        `${formatCount(m.macsBefore)} | ${m.method === 'prune' ? 'run dense' : formatCount(m.macsAfter)} | ${m.relativeError.toFixed(4)} | ${m.seconds.toFixed(2)} |`,
    );
  }
  for (const m of report.matrices) if (m.note) lines.push('', `Note on ${m.layer} ${m.role}: ${m.note}`);
  for (const m of report.matrices) if (m.storage) lines.push('', `Stored ${m.layer} ${m.role}: ${storageText(m.storage)}`);
  const plan = planLines(report);
  if (plan.length) lines.push('', '## Plan', '', ...plan.map((l) => `- ${l.trim().replace(/ {2,}/g, ' ')}`));
  lines.push('', '## Totals', '');
  lines.push('| | before | after | factor |', '|---|--:|--:|--:|');
  lines.push(`| targeted parameters | ${formatCount(t.targeted.paramsBefore)} | ${formatCount(t.targeted.paramsAfter)} | ${formatFactor(t.targeted.factor)} |`);
  lines.push(`| model parameters | ${formatCount(t.model.paramsBefore)} | ${formatCount(t.model.paramsAfter)} | ${formatFactor(t.model.factor)} |`);
  lines.push(`| bytes (raw) | ${formatBytes(t.bytes.before.raw)} | ${formatBytes(t.bytes.after.raw)} | ${formatFactor(t.bytes.factorRaw)} |`);
  const estimated = t.bytes.before.gzipEstimated || t.bytes.after.gzipEstimated ? ', estimated from a 1/8 sample' : '';
  lines.push(`| bytes (gzip${estimated}) | ${formatBytes(t.bytes.before.gzip)} | ${formatBytes(t.bytes.after.gzip)} | ${formatFactor(t.bytes.factorGzip)} |`);
  const runDense = report.matrices.some((m) => m.method === 'prune');
  lines.push(
    runDense
      ? `| MACs of targeted matrices | ${formatCount(t.macs.before)} | run dense | 1.00x |`
      : `| MACs of targeted matrices | ${formatCount(t.macs.before)} | ${formatCount(t.macs.after)} | ${formatFactor(t.macs.before / t.macs.after)} |`,
  );
  lines.push('', '## Latency', '');
  if (report.latency) {
    lines.push('| batch | original median (p10-p90) | compressed median (p10-p90) | speedup |', '|--:|--:|--:|--:|');
    for (const b of report.latency.batches) {
      lines.push(
        `| ${b.batch} | ${formatMs(b.original.medianMs)} (${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)}) | ` +
          `${formatMs(b.compressed.medianMs)} (${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}) | ${formatFactor(b.speedup)}${withinNoise(b) ? ' (within noise)' : ''} |`,
      );
    }
    if (report.latency.batches.some(withinNoise)) lines.push('', `Within noise: ${NOISE_NOTE.replace(/^within noise: /, '')}.`);
    for (const note of report.latency.skipped) lines.push('', note);
    lines.push('', `Up to ${report.latency.runs} timed runs per model and batch (${report.latency.batches.map((b) => b.runs).join(', ')} made, capped at 30 s a batch), A/B interleaved after warm-up, on ${threadsText(report.latency.threads)}.`);
  } else {
    lines.push('Not measured (`--no-bench`).');
  }
  if (report.browserLatency) {
    lines.push('', '| in the browser | batch | original median (p10-p90) | compressed median (p10-p90) | speedup |', '|---|--:|--:|--:|--:|');
    for (const row of browserLatencyRows(report.browserLatency)) lines.push(`| ${row.join(' | ')} |`);
    lines.push('', 'Stock TF.js in headless Chromium, from a local server; A/B interleaved after warm-up.');
  }
  lines.push('', '## Fidelity', '');
  lines.push(`${report.fidelity.probes} ${report.fidelity.source} probe inputs.`, '');
  if (report.fidelity.source === 'generated' && report.fidelity.outputs.length) lines.push(`Note: ${PROBE_CAVEAT}.`, '');
  lines.push('| output | relative error | top-1 agreement | KL divergence |', '|---|--:|--:|--:|');
  for (const f of report.fidelity.outputs) {
    lines.push(`| ${f.output} | ${f.relativeError.toFixed(4)} | ${formatPercent(f.top1Agreement)} | ${f.klDivergence === null ? 'n/a' : f.klDivergence.toFixed(4)} |`);
  }
  for (const u of report.fidelity.unmeasured ?? []) lines.push('', `Not measured for ${u.output}: ${u.reason}`);
  if (report.model.asyncOps?.length) lines.push('', `The graph runs through \`executeAsync\` (it holds ${report.model.asyncOps.join(', ')}).`);
  const tuned = finetuneLines(report);
  if (tuned.length) lines.push('', '## Fine-tuning', '', '```', ...tuned, '```');
  const evaluated = evalLines(report);
  if (evaluated.length) lines.push('', '## Evaluation', '', '```', ...evaluated, '```');
  if (report.skipped.length) {
    lines.push('', '## Left as they are', '');
    for (const s of report.skipped) lines.push(`- \`${s.weight}\` [${s.shape.join('x')}]: ${s.reason}`);
  }
  if (report.unknownLayers.length) {
    lines.push('', `Unknown layers passed through: ${report.unknownLayers.map((u) => `${u.layer} (${u.className})`).join(', ')}`);
  }
  const c = report.context;
  lines.push('', '## Context', '', `hmf ${report.tool.version}, TF.js ${c.tfjsVersion} on ${c.backend} (${threadsText(c.threads)}), Node ${c.node}, ${c.cpu}, ${c.platform}; ${c.wallSeconds.toFixed(1)} s.`, '');
  return lines.join('\n');
}
