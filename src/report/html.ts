import type { BatchLatency } from '../measure/latency.js';
import { browserBackendLabel } from './browser.js';
import { formatBytes, formatCount, formatFactor, formatMs, formatPercent, shapeText, threadsText } from './format.js';
import type { Report } from './schema.js';
import { barChart, COLORS, distributionPlot, escapeXml, paretoPlot, type ScatterPoint } from './svg.js';
import { evalLines, finetuneLines, RUNTIME_SNIPPET } from './terminal.js';

/**
 * The report as one self-contained HTML file (`--report report.html`): the tables of the
 * Markdown report plus plots drawn as inline SVG (per-matrix error and parameters, the
 * latency distribution of every timed batch, in Node and in the browser). No script, no
 * external file: it opens anywhere, offline.
 */
export function renderHtml(report: Report): string {
  const o = report.options;
  const t = report.totals;
  const body: string[] = [];
  body.push(`<h1>hmf report: ${escapeXml(o.method)} x${o.factor}</h1>`);
  body.push(`<p class="sub"><code>${escapeXml(report.model.path)}</code> (${escapeXml(report.model.format)}, ${escapeXml(report.model.className)}) &rarr; <code>${escapeXml(report.output.path ?? '(not written)')}</code></p>`);
  for (const w of report.warnings) body.push(`<p class="warning">Warning: ${escapeXml(w)}</p>`);
  body.push(summaryCards(report));

  body.push('<h2>Matrices</h2>');
  if (report.matrices.length === 0) body.push('<p>No matrix was compressed: none is large enough or of a supported layer type.</p>');
  else {
    body.push(
      table(
        ['layer', 'role', 'shape', 'method', 'r', 'k', 'sparsity', 'params before', 'params after', 'MACs before', 'MACs after', 'rel. error', 'seconds'],
        report.matrices.map((m) => [
          m.layer,
          m.role,
          shapeText(m),
          m.method + (m.selection ? `/${m.selection}` : ''),
          m.rank === null ? '' : String(m.rank),
          m.denseOutputs === null ? '' : String(m.denseOutputs),
          m.sparsity === null ? '' : formatPercent(m.sparsity),
          formatCount(m.paramsBefore),
          formatCount(m.paramsAfter),
          formatCount(m.macsBefore),
          formatCount(m.macsAfter),
          m.relativeError.toFixed(4),
          m.seconds.toFixed(2),
        ]),
        3,
      ),
    );
    for (const m of report.matrices) if (m.note) body.push(`<p class="note">${escapeXml(`${m.layer} ${m.role}: ${m.note}`)}</p>`);
    const label = (m: Report['matrices'][number]) => m.weight;
    body.push(
      figure(
        'matrix-error',
        barChart({
          title: 'Relative weight error per matrix, ||K - K\u2032||F / ||K||F',
          series: [{ name: 'relative error', color: COLORS.compressed }],
          bars: report.matrices.map((m) => ({ label: label(m), values: [m.relativeError], note: m.relativeError.toFixed(4) })),
          axisLabel: 'relative error',
        }),
      ),
      figure(
        'matrix-params',
        barChart({
          title: 'Parameters per matrix, before and after',
          series: [
            { name: 'before', color: COLORS.original },
            { name: 'after', color: COLORS.compressed },
          ],
          bars: report.matrices.map((m) => ({ label: label(m), values: [m.paramsBefore, m.paramsAfter], note: `${formatCount(m.paramsBefore)} -> ${formatCount(m.paramsAfter)}` })),
          axisLabel: 'parameters',
          format: (v) => formatCount(Math.round(v)),
        }),
      ),
    );
  }

  body.push('<h2>Totals</h2>');
  const estimated = t.bytes.before.gzipEstimated || t.bytes.after.gzipEstimated ? ', estimated from a 1/8 sample' : '';
  body.push(
    table(
      ['', 'before', 'after', 'factor'],
      [
        ['targeted parameters', formatCount(t.targeted.paramsBefore), formatCount(t.targeted.paramsAfter), formatFactor(t.targeted.factor)],
        ['model parameters', formatCount(t.model.paramsBefore), formatCount(t.model.paramsAfter), formatFactor(t.model.factor)],
        ['bytes (raw)', formatBytes(t.bytes.before.raw), formatBytes(t.bytes.after.raw), formatFactor(t.bytes.factorRaw)],
        [`bytes (gzip${estimated})`, formatBytes(t.bytes.before.gzip), formatBytes(t.bytes.after.gzip), formatFactor(t.bytes.factorGzip)],
        ['MACs of targeted matrices', formatCount(t.macs.before), formatCount(t.macs.after), formatFactor(t.macs.before / t.macs.after)],
      ],
      1,
    ),
  );

  body.push('<h2>Latency</h2>');
  body.push(...latencySection(report));

  body.push('<h2>Fidelity</h2>');
  body.push(`<p>${report.fidelity.probes} ${escapeXml(report.fidelity.source)} probe inputs.</p>`);
  body.push(
    table(
      ['output', 'relative error', 'top-1 agreement', 'KL divergence'],
      report.fidelity.outputs.map((f) => [f.output, f.relativeError.toFixed(4), formatPercent(f.top1Agreement), f.klDivergence === null ? 'n/a' : f.klDivergence.toFixed(4)]),
      1,
    ),
  );
  const tuned = finetuneLines(report);
  if (tuned.length) body.push('<h2>Fine-tuning</h2>', `<pre>${escapeXml(tuned.join('\n'))}</pre>`);
  const evaluated = evalLines(report);
  if (evaluated.length) body.push('<h2>Evaluation</h2>', `<pre>${escapeXml(evaluated.join('\n'))}</pre>`);
  if (report.skipped.length) {
    body.push('<h2>Left as they are</h2>', `<ul>${report.skipped.map((s) => `<li><code>${escapeXml(s.weight)}</code> [${s.shape.join('x')}]: ${escapeXml(s.reason)}</li>`).join('')}</ul>`);
  }
  if (report.unknownLayers.length) {
    body.push(`<p>Unknown layers passed through: ${escapeXml(report.unknownLayers.map((u) => `${u.layer} (${u.className})`).join(', '))}</p>`);
  }
  body.push('<h2>Loading the output</h2>');
  body.push(
    report.output.runtimeRequired
      ? `<p>This model uses hmf runtime layers; load it with:</p><pre>${escapeXml(RUNTIME_SNIPPET.join('\n'))}</pre>`
      : '<p>Stock TF.js loads it (<code>tf.loadLayersModel</code> / <code>tf.loadGraphModel</code>); no runtime needed.</p>',
  );
  const c = report.context;
  body.push('<h2>Context</h2>');
  body.push(
    `<p><code>${escapeXml(report.command)}</code></p><p>hmf ${escapeXml(report.tool.version)}, TF.js ${escapeXml(c.tfjsVersion)} on ${escapeXml(c.backend)} (${threadsText(c.threads)}), ` +
      `Node ${escapeXml(c.node)}, ${escapeXml(c.cpu)}, ${escapeXml(c.platform)}; seed ${o.seed}; ${c.wallSeconds.toFixed(1)} s.</p>`,
  );
  return page(`hmf report: ${o.method} x${o.factor}`, body);
}

/**
 * Where `hmf sweep` (issue 13) plugs in: its rows as points of the Pareto plot (x the
 * size, y the quality measure) and as a table, in a page of their own.
 */
export interface SweepHtml {
  title: string;
  /** Lines under the title (model, command). */
  context: string[];
  table: { header: string[]; rows: string[][] };
  /** Pareto plots (e.g. quality against size, quality against latency). */
  plots: { title: string; points: ScatterPoint[]; axes: { x: string; y: string; logX?: boolean } }[];
}

/** The sweep as one self-contained HTML file: the Pareto plots, then the table. */
export function renderSweepHtml(sweep: SweepHtml): string {
  return page(sweep.title, [
    `<h1>${escapeXml(sweep.title)}</h1>`,
    ...sweep.context.map((l) => `<p class="sub">${escapeXml(l)}</p>`),
    ...sweep.plots.map((p) => figure('pareto', paretoPlot(p.title, p.points, p.axes))),
    table(sweep.table.header, sweep.table.rows, 2),
  ]);
}

function summaryCards(report: Report): string {
  const t = report.totals;
  const cards: [string, string, string][] = [
    ['targeted parameters', formatFactor(t.targeted.factor), `${formatCount(t.targeted.paramsBefore)} -> ${formatCount(t.targeted.paramsAfter)}`],
    ['bytes (gzip)', formatFactor(t.bytes.factorGzip), `${formatBytes(t.bytes.before.gzip)} -> ${formatBytes(t.bytes.after.gzip)}`],
  ];
  const f = report.fidelity.outputs[0];
  if (f) cards.push(['top-1 agreement', formatPercent(f.top1Agreement), `relative output error ${f.relativeError.toFixed(4)}`]);
  for (const b of report.latency?.batches ?? []) cards.push([`speedup, batch ${b.batch} (Node)`, formatFactor(b.speedup), `${formatMs(b.original.medianMs)} -> ${formatMs(b.compressed.medianMs)}`]);
  return `<div class="cards">${cards.map(([k, v, d]) => `<div class="card"><div class="k">${escapeXml(k)}</div><div class="v">${escapeXml(v)}</div><div class="d">${escapeXml(d)}</div></div>`).join('')}</div>`;
}

function latencySection(report: Report): string[] {
  const out: string[] = [];
  const groups: { where: string; batches: BatchLatency[]; notes: string[] }[] = [];
  if (report.latency) groups.push({ where: `Node, ${report.context.backend} (${threadsText(report.latency.threads)})`, batches: report.latency.batches, notes: report.latency.skipped });
  const browser = report.browserLatency;
  for (const b of browser?.backends ?? []) groups.push({ where: `${browser!.browser}, ${browserBackendLabel(b)}`, batches: b.batches, notes: b.skipped });
  if (groups.length === 0) return ['<p>Not measured (<code>--no-bench</code>).</p>'];
  const rows = groups.flatMap((g) =>
    g.batches.map((b) => [
      g.where,
      String(b.batch),
      `${formatMs(b.original.medianMs)} (${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)})`,
      `${formatMs(b.compressed.medianMs)} (${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)})`,
      formatFactor(b.speedup),
      String(b.runs),
    ]),
  );
  out.push(table(['where', 'batch', 'original median (p10-p90)', 'compressed median (p10-p90)', 'speedup', 'runs'], rows, 1));
  for (const g of groups) for (const note of g.notes) out.push(`<p class="note">${escapeXml(`${g.where}: ${note}`)}</p>`);
  out.push('<p class="note">Timed A/B interleaved after warm-up; each run covers the whole computation (outputs read back).</p>');
  if (browser?.backends.some((b) => b.software)) out.push('<p class="note">WebGL here renders in software (SwiftShader): its times say nothing of a GPU.</p>');
  const plots: string[] = [];
  for (const g of groups) {
    for (const b of g.batches) {
      if (!b.samples) continue;
      plots.push(
        figure(
          'latency',
          distributionPlot(`${g.where}, batch ${b.batch}`, [
            { label: 'original', color: COLORS.original, samples: b.samples.original },
            { label: 'compressed', color: COLORS.compressed, samples: b.samples.compressed },
          ]),
        ),
      );
    }
  }
  if (plots.length) out.push('<div class="grid">', ...plots, '</div>');
  return out;
}

function figure(kind: string, svg: string): string {
  return `<figure class="plot" data-plot="${kind}">${svg}</figure>`;
}

/** An HTML table; columns from `firstNumeric` on are right-aligned. */
function table(header: string[], rows: string[][], firstNumeric: number): string {
  const cell = (tag: string, text: string, i: number) => `<${tag}${i >= firstNumeric ? ' class="n"' : ''}>${escapeXml(text)}</${tag}>`;
  return (
    `<table><thead><tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('')}</tbody></table>`
  );
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:24px auto;max-width:1180px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e3e6ea;padding-bottom:4px}
.sub{color:#5b636e;margin:2px 0}.warning{background:#fff4d6;border:1px solid #f0d48a;padding:6px 10px;border-radius:4px}
.note{color:#5b636e;font-size:13px;margin:4px 0}code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;padding:8px 10px;border-radius:4px;overflow:auto}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}th,td{padding:3px 9px;border-bottom:1px solid #e3e6ea;text-align:left;white-space:nowrap}
th{background:#f6f8fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{border:1px solid #e3e6ea;border-radius:6px;padding:8px 12px;min-width:150px}
.card .k{color:#5b636e;font-size:12px}.card .v{font-size:22px;font-weight:600}.card .d{color:#5b636e;font-size:12px}
figure{margin:10px 0}.grid{display:flex;flex-wrap:wrap;gap:4px 24px}svg{max-width:100%;height:auto}
`;

function page(title: string, body: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(title)}</title><style>${STYLE}</style></head>
<body>
${body.join('\n')}
</body></html>
`;
}
