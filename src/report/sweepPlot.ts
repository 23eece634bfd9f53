import type { SweepReport, SweepRow } from '../sweep.js';
import { renderSweepHtml } from './html.js';
import { paretoPlot, type ScatterPoint } from './svg.js';

/** The two views of a sweep: quality against raw size (log scale), and against batch-1 latency. */
function views(report: SweepReport): { title: string; points: ScatterPoint[]; axes: { x: string; y: string; logX?: boolean } }[] {
  const rows = report.rows.filter((r) => r.quality !== null && r.bytes !== null);
  const q = report.quality;
  const y = `${q.name} (${q.higherIsBetter ? 'higher' : 'lower'} is better)`;
  const timed = rows.filter((r) => r.latency?.[0]);
  const batch = timed[0]?.latency?.[0].batch ?? 1;
  return [
    { title: 'Quality against size', points: points(rows, (r) => r.bytes!.raw / 1024, q.higherIsBetter), axes: { x: 'raw size (KiB, log scale)', y, logX: true } },
    { title: 'Quality against latency', points: points(timed, (r) => r.latency![0].medianMs, q.higherIsBetter), axes: { x: `latency at batch ${batch} (ms, 1 thread)`, y } },
  ];
}

/** The rows as points of one view, each flagged when on that view's own front (no point at least as far left and as good, and better in one). */
function points(rows: readonly SweepRow[], xOf: (r: SweepRow) => number, higherIsBetter: boolean): ScatterPoint[] {
  const better = (a: number, b: number) => (higherIsBetter ? a > b : a < b);
  return rows.map((r) => ({
    x: xOf(r),
    y: r.quality!,
    label: r.method === 'original' ? 'original' : `x${r.factor}`,
    group: r.method,
    front: !rows.some((o) => o !== r && xOf(o) <= xOf(r) && !better(r.quality!, o.quality!) && (xOf(o) < xOf(r) || better(o.quality!, r.quality!))),
  }));
}

/** The sweep's plot file: both views side by side in one SVG. */
export function renderSweepSvg(report: SweepReport): string {
  const panels = views(report).map((v) => paretoPlot(v.title, v.points, v.axes));
  const sizes = panels.map((p) => /width="([\d.]+)" height="([\d.]+)"/.exec(p)!.slice(1).map(Number));
  const width = sizes.reduce((s, [w]) => s + w + 20, 0);
  const height = Math.max(...sizes.map(([, h]) => h));
  let x = 0;
  const placed = panels.map((p, i) => {
    const at = x;
    x += sizes[i][0] + 20;
    return `<g class="panel" transform="translate(${at} 0)">${p}</g>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#ffffff"/>${placed.join('')}</svg>\n`;
}

/** `hmf sweep --report x.html`: the views and the table in one self-contained page. */
export function renderSweepPage(report: SweepReport, table: { header: string[]; rows: string[][] }): string {
  return renderSweepHtml({
    title: `hmf sweep: ${report.model.path}`,
    context: [report.command, `methods ${report.options.methods.join(', ')}; factors ${report.options.factors.map((f) => `x${f}`).join(', ')}; quality: ${report.quality.name}`],
    table,
    plots: views(report),
  });
}
