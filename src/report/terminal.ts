import type { Report } from './schema.js';
import { browserLatencyLines } from './browser.js';
import {
  formatBytes,
  formatCount,
  formatFactor,
  formatMs,
  formatPercent,
  shapeText,
  macsCell,
  matrixLayer,
  NOISE_NOTE,
  plainStyle,
  PROBE_CAVEAT,
  table,
  threadsText,
  withinNoise,
  type Style,
} from './format.js';
import { headlineLines } from './headline.js';
import { planLines } from './plan.js';

/** The two lines that load a model using hmf runtime layers. */
export const RUNTIME_SNIPPET = [
  "import * as tf from '@tensorflow/tfjs';",
  "import { registerHmfLayers } from 'hmf/runtime';",
  'registerHmfLayers(tf); // before tf.loadLayersModel(...); in a page: <script src="hmf-runtime.min.js"> after TF.js\'s',
];

/** The compress report as a terminal table (docs/ARCHITECTURE.md §4). */
export function renderTerminal(report: Report, style: Style = plainStyle): string {
  const out: string[] = [];
  const o = report.options;
  out.push(style.bold(`hmf ${report.tool.version}  ${o.method} x${o.factor}`) + `  ${report.model.path}`);
  out.push(style.dim(`  -> ${report.output.path ?? '(not written)'}`));
  out.push(...headlineLines(report).map((l, i) => (i === 0 ? style.bold(l) : l)));
  out.push('');
  if (report.matrices.length === 0) {
    out.push(style.warn('No matrix was compressed: none is large enough or of a supported layer type.'));
  } else {
    const header = ['layer', 'role', 'shape', 'method', 'r', 'k', 'sparsity', 'params', 'factor', 'MACs', 'rel.err', 'sec'];
    const rows = report.matrices.map((m) => [
      matrixLayer(m),
      m.role,
      shapeText(m),
      m.method === 'dense' ? style.warn('dense') : m.method + (m.selection ? `/${m.selection}` : ''),
      m.rank === null ? '' : String(m.rank),
      m.denseOutputs === null ? '' : String(m.denseOutputs),
      m.sparsity === null ? '' : formatPercent(m.sparsity),
      `${formatCount(m.paramsBefore)} -> ${formatCount(m.paramsAfter)}`,
      formatFactor(m.paramsBefore / m.paramsAfter),
      macsCell(m),
      m.relativeError.toFixed(4),
      m.seconds.toFixed(2),
    ]);
    out.push(...table(header, rows, [false, false, false, false, true, true, true, true, true, true, true, true]).map((l, i) => (i === 0 ? style.bold(l) : l)));
    for (const m of report.matrices) if (m.note) out.push(style.dim(`  note ${matrixLayer(m)} ${m.role}: ${m.note}`));
    for (const m of report.matrices) if (m.storage) out.push(style.dim(`  stored ${matrixLayer(m)} ${m.role}: ${storageText(m.storage)}`));
    out.push(...planLines(report, style));
  }
  out.push('');
  const t = report.totals;
  out.push(`targeted params  ${formatCount(t.targeted.paramsBefore)} -> ${formatCount(t.targeted.paramsAfter)}  (${style.bold(formatFactor(t.targeted.factor))})`);
  out.push(`model params     ${formatCount(t.model.paramsBefore)} -> ${formatCount(t.model.paramsAfter)}  (${formatFactor(t.model.factor)})`);
  if (t.storedParams.after !== t.model.paramsAfter) {
    out.push(style.dim(`stored values    ${formatCount(t.storedParams.before)} -> ${formatCount(t.storedParams.after)} (pruned zeros are stored dense)`));
  }
  out.push(`bytes raw        ${formatBytes(t.bytes.before.raw)} -> ${formatBytes(t.bytes.after.raw)}  (${formatFactor(t.bytes.factorRaw)})`);
  const estimated = t.bytes.before.gzipEstimated || t.bytes.after.gzipEstimated ? style.dim(' (estimated from a 1/8 sample)') : '';
  out.push(`bytes gzip       ${formatBytes(t.bytes.before.gzip)} -> ${formatBytes(t.bytes.after.gzip)}  (${formatFactor(t.bytes.factorGzip)})${estimated}`);
  const latency = report.latency;
  if (latency) {
    for (const b of latency.batches) {
      const noisy = withinNoise(b);
      const speed = noisy ? formatFactor(b.speedup) : b.speedup >= 1 ? style.good(formatFactor(b.speedup)) : style.bad(formatFactor(b.speedup));
      out.push(
        `latency batch ${String(b.batch).padEnd(3)} ${formatMs(b.original.medianMs)} -> ${formatMs(b.compressed.medianMs)}  (speedup ${speed}${noisy ? `, ${style.warn('within noise')}` : ''})` +
          style.dim(`  p10-p90 ${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)} vs ${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}, ${b.runs} runs, ${threadsText(latency.threads)}`),
      );
    }
    if (latency.batches.some(withinNoise)) out.push(style.dim(`latency          ${NOISE_NOTE}`));
    for (const note of latency.skipped) out.push(style.dim(`latency          ${note}`));
  } else {
    out.push(style.dim('latency          not measured (--no-bench)'));
  }
  if (report.browserLatency) out.push(...browserLatencyLines(report.browserLatency, style));
  for (const f of report.fidelity.outputs) {
    out.push(
      `fidelity ${f.output}: relative output error ${f.relativeError.toFixed(4)}, top-1 agreement ${formatPercent(f.top1Agreement)}` +
        (f.klDivergence === null ? '' : `, KL ${f.klDivergence.toFixed(4)}`) +
        style.dim(` (${report.fidelity.probes} ${report.fidelity.source} probes)`),
    );
  }
  if (report.fidelity.source === 'generated' && report.fidelity.outputs.length) out.push(style.dim(`  ${PROBE_CAVEAT}`));
  for (const u of report.fidelity.unmeasured ?? []) out.push(`fidelity ${u.output}: ${style.warn('not measured')}: ${u.reason}`);
  if (report.model.asyncOps?.length) out.push(style.dim(`graph runs through executeAsync (it holds ${report.model.asyncOps.join(', ')})`));
  out.push(...finetuneLines(report), ...evalLines(report));
  if (report.skipped.length) {
    out.push('');
    out.push(style.dim('left as they are:'));
    for (const s of report.skipped) out.push(style.dim(`  ${s.weight} [${s.shape.join('x')}]: ${s.reason}`));
  }
  if (report.unknownLayers.length) {
    out.push(style.dim(`unknown layers passed through: ${report.unknownLayers.map((u) => `${u.layer} (${u.className})`).join(', ')}`));
  }
  if (report.output.runtimeRequired) {
    out.push(style.warn('runtime required: this model uses hmf runtime layers; load it with:'));
    out.push(...RUNTIME_SNIPPET.map((l) => `    ${l}`));
  } else {
    out.push(style.dim('runtime required: no (loads in stock TF.js)'));
  }
  out.push(style.dim(`backend ${report.context.backend} (${threadsText(report.context.threads)}), tfjs ${report.context.tfjsVersion}, ${report.context.wallSeconds.toFixed(1)} s`));
  return out.join('\n');
}

/** How --sparse stored a pruned matrix, in words. */
export function storageText(s: NonNullable<Report['matrices'][number]['storage']>): string {
  if (s.format === 'dense') return `dense, ${formatBytes(s.bytes)}${s.note ? ` (${s.note})` : ''}`;
  const layout = s.format === 'csr' ? 'CSR (values, column indices, row counts)' : 'bitmap (values and a bit per entry)';
  const k = s.kernelOnWasm;
  const kernel = !k ? '' : k.oneRow === k.rows ? `${k.rows} product on wasm` : `${k.oneRow} product on wasm for one row, ${k.rows} for several`;
  return `${layout}, ${formatBytes(s.bytes)} instead of ${formatBytes(s.denseBytes)} dense; ${formatPercent(s.density)} non-zero: ${kernel} (the sparse kernel only where measured not slower)`;
}

/** --finetune: the kept epoch, validation loss and fidelity on the held-out slice before -> after. */
export function finetuneLines(report: Report): string[] {
  const f = report.finetune;
  if (!f) return [];
  const last = f.history.find((h) => h.epoch === f.bestEpoch);
  const loss = `validation loss ${f.initialValidationLoss.toFixed(4)} -> ${(last?.validationLoss ?? f.initialValidationLoss).toFixed(4)}`;
  const kept = f.bestEpoch === 0 ? 'kept the starting weights (no epoch improved them)' : `kept epoch ${f.bestEpoch} of ${f.epochs}`;
  const chosen = f.defaulted?.length ? `; ${f.defaulted.map((k) => (k === 'learningRate' ? 'learning rate' : k === 'labelWeight' ? 'label weight' : k)).join(', ')} by default for a ${f.kind}` : '';
  const settings = `${f.epochs} epoch${f.epochs === 1 ? '' : 's'}, peak learning rate ${f.learningRate}, label weight ${f.labelWeight}${chosen}`;
  const lines = [`fine-tuned       ${f.trainExamples} examples (${settings}), ${kept}, ${loss}`];
  if (f.gradual) {
    const g = f.gradual;
    const sparsity = f.history.map((h) => (h.sparsity === undefined ? '?' : formatPercent(h.sparsity))).join(', ');
    lines.push(`  gradual pruning: sparsity raised at steps ${g.beginStep}-${g.endStep} of ${g.totalSteps} (every ${g.frequency}), then held; after each epoch ${sparsity}`);
  }
  f.fidelityAfter.forEach((after, i) => {
    const before = f.fidelityBefore[i];
    if (!before) return;
    lines.push(
      `  ${after.output} on ${f.validationExamples} held-out: relative error ${before.relativeError.toFixed(4)} -> ${after.relativeError.toFixed(4)}, ` +
        `top-1 agreement ${formatPercent(before.top1Agreement)} -> ${formatPercent(after.top1Agreement)}`,
    );
  });
  return lines;
}

/** --eval: the written model's labelled metrics and agreement with the original. */
export function evalLines(report: Report): string[] {
  const e = report.eval;
  if (!e) return [];
  const m = e.metrics;
  const metrics = m
    ? m.perplexity !== null
      ? `perplexity ${m.perplexity.toFixed(3)}, next-token accuracy ${formatPercent(m.accuracy)}`
      : `accuracy ${formatPercent(m.accuracy)}, cross-entropy ${m.crossEntropy.toFixed(4)}`
    : 'no labels';
  const agreement = e.reference?.outputs[0] ? `, top-1 agreement with the original ${formatPercent(e.reference.outputs[0].top1Agreement)}` : '';
  return [`eval             ${e.data.path} (${e.data.examples} examples): ${metrics}${agreement}`];
}
