/**
 * Small SVG plots for the HTML report, drawn as text (no script, no library): horizontal
 * bars, latency distributions (each run a dot, the p10-p90 band and the median), and a
 * scatter with its Pareto front. Every plot is an `<svg>` with a title and labelled axes.
 */

export const COLORS = {
  original: '#8a8f98',
  compressed: '#2f6fdb',
  hmf: '#2f6fdb',
  lmf: '#e07b22',
  prune: '#2e9d57',
  other: '#7b5ea7',
  grid: '#e3e6ea',
  text: '#1f2328',
  muted: '#5b636e',
} as const;

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0';
}

/** Round ticks for [0, max] or [min, max]: 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

function tickLabel(v: number, unit = ''): string {
  const abs = Math.abs(v);
  const text = abs >= 1e6 ? `${num(v / 1e6)}M` : abs >= 1e4 ? `${num(v / 1e3)}k` : abs > 0 && abs < 0.01 ? v.toExponential(0) : num(v);
  return text + unit;
}

export interface Bar {
  label: string;
  /** One value per series. */
  values: number[];
  /** Text after the bars (e.g. the value); default: the values. */
  note?: string;
}

export interface BarChart {
  title: string;
  /** Names and colours of the series (one bar each per row). */
  series: { name: string; color: string }[];
  bars: Bar[];
  axisLabel: string;
  format?: (v: number) => string;
}

/** Horizontal bars, one row per item, one bar per series in each row. */
export function barChart(chart: BarChart): string {
  const fmt = chart.format ?? ((v: number) => tickLabel(v));
  const labelWidth = Math.min(260, 12 + 7 * Math.max(...chart.bars.map((b) => b.label.length), 4));
  const plotWidth = 420;
  const noteWidth = 150;
  const barHeight = 12;
  const rowHeight = chart.series.length * barHeight + 8;
  const top = 44;
  const width = labelWidth + plotWidth + noteWidth;
  const height = top + chart.bars.length * rowHeight + 36;
  const max = Math.max(...chart.bars.flatMap((b) => b.values), 0) || 1;
  const ticks = niceTicks(0, max);
  const scaleMax = Math.max(max, ticks[ticks.length - 1]);
  const x = (v: number) => labelWidth + (Math.max(0, v) / scaleMax) * plotWidth;
  const parts: string[] = [];
  parts.push(`<text x="0" y="16" font-weight="600" fill="${COLORS.text}">${escapeXml(chart.title)}</text>`);
  let legendX = labelWidth;
  for (const s of chart.series) {
    parts.push(`<rect x="${legendX}" y="24" width="10" height="10" fill="${s.color}"/><text x="${legendX + 14}" y="33" fill="${COLORS.muted}">${escapeXml(s.name)}</text>`);
    legendX += 24 + 7 * s.name.length;
  }
  for (const t of ticks) {
    parts.push(`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${top - 4}" y2="${height - 30}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${num(x(t))}" y="${height - 16}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(fmt(t))}</text>`);
  }
  chart.bars.forEach((bar, i) => {
    const y0 = top + i * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${num(y0 + rowHeight / 2 + 2)}" text-anchor="end" fill="${COLORS.text}">${escapeXml(bar.label)}</text>`);
    bar.values.forEach((v, s) => {
      const series = chart.series[s];
      parts.push(
        `<rect class="bar" x="${labelWidth}" y="${num(y0 + s * barHeight)}" width="${num(Math.max(1, x(v) - labelWidth))}" height="${barHeight - 2}" fill="${series.color}">` +
          `<title>${escapeXml(`${bar.label} ${series.name}: ${fmt(v)}`)}</title></rect>`,
      );
    });
    const note = bar.note ?? bar.values.map(fmt).join(' -> ');
    parts.push(`<text x="${labelWidth + plotWidth + 8}" y="${num(y0 + rowHeight / 2 + 2)}" fill="${COLORS.muted}">${escapeXml(note)}</text>`);
  });
  parts.push(`<text x="${labelWidth + plotWidth / 2}" y="${height - 2}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(chart.axisLabel)}</text>`);
  return svg(width, height, chart.title, parts);
}

export interface Distribution {
  label: string;
  color: string;
  /** Milliseconds of each run. */
  samples: readonly number[];
}

/**
 * Latency distributions on one shared axis: per row every run as a dot (spread vertically
 * so they do not hide each other), the p10-p90 band and a tick at the median.
 */
export function distributionPlot(title: string, rows: readonly Distribution[], unit = 'ms'): string {
  const labelWidth = 84;
  const plotWidth = 340;
  const rowHeight = 34;
  const top = 30;
  const width = labelWidth + plotWidth + 122;
  const height = top + rows.length * rowHeight + 36;
  const all = rows.flatMap((r) => r.samples);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const pad = (hi - lo) * 0.05 || hi * 0.05 || 1;
  const ticks = niceTicks(Math.max(0, lo - pad), hi + pad);
  const min = Math.min(Math.max(0, lo - pad), ticks[0]);
  const max = Math.max(hi + pad, ticks[ticks.length - 1]);
  const x = (v: number) => labelWidth + ((v - min) / (max - min)) * plotWidth;
  const parts: string[] = [`<text x="0" y="16" font-weight="600" fill="${COLORS.text}">${escapeXml(title)}</text>`];
  for (const t of ticks) {
    parts.push(`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${top}" y2="${height - 30}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${num(x(t))}" y="${height - 16}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(tickLabel(t))}</text>`);
  }
  rows.forEach((row, i) => {
    const mid = top + i * rowHeight + rowHeight / 2;
    const sorted = [...row.samples].sort((a, b) => a - b);
    // Linear interpolation between order statistics, as the report's tables compute them.
    const q = (p: number) => {
      const pos = (sorted.length - 1) * p;
      const lo = Math.floor(pos);
      return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
    };
    parts.push(`<text x="${labelWidth - 8}" y="${num(mid + 4)}" text-anchor="end" fill="${COLORS.text}">${escapeXml(row.label)}</text>`);
    if (sorted.length === 0) return;
    parts.push(`<rect class="band" x="${num(x(q(0.1)))}" y="${num(mid - 9)}" width="${num(Math.max(1, x(q(0.9)) - x(q(0.1))))}" height="18" fill="${row.color}" fill-opacity="0.18"/>`);
    row.samples.forEach((v, j) => {
      const jitter = (((j * 7919) % 13) / 12 - 0.5) * 12;
      parts.push(`<circle class="run" cx="${num(x(v))}" cy="${num(mid + jitter)}" r="2.2" fill="${row.color}" fill-opacity="0.75"/>`);
    });
    parts.push(`<line x1="${num(x(q(0.5)))}" x2="${num(x(q(0.5)))}" y1="${num(mid - 11)}" y2="${num(mid + 11)}" stroke="${COLORS.text}" stroke-width="2"/>`);
    parts.push(`<text x="${labelWidth + plotWidth + 8}" y="${num(mid + 4)}" fill="${COLORS.muted}">median ${escapeXml(tickLabel(q(0.5)))} ${unit}</text>`);
  });
  parts.push(`<text x="${labelWidth + plotWidth / 2}" y="${height - 2}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(`milliseconds per run (${rows.map((r) => r.samples.length).join(' / ')} runs; band p10-p90, bar median)`)}</text>`);
  return svg(width, height, title, parts);
}

export interface ScatterPoint {
  x: number;
  y: number;
  label: string;
  group: string;
  /** On the Pareto front: drawn filled and joined by the front's line. */
  front: boolean;
}

/**
 * A scatter of candidates (e.g. size against fidelity) coloured by group, the Pareto front
 * joined by a line; `logX` for sizes spanning orders of magnitude.
 */
export function paretoPlot(title: string, points: readonly ScatterPoint[], axes: { x: string; y: string; logX?: boolean }): string {
  const left = 70;
  const plotWidth = 520;
  const plotHeight = 300;
  const top = 44;
  const width = left + plotWidth + 30;
  const height = top + plotHeight + 44;
  const tx = (v: number) => (axes.logX ? Math.log10(Math.max(v, 1e-12)) : v);
  const xs = points.map((p) => tx(p.x));
  const ys = points.map((p) => p.y);
  const [x0, x1] = padRange(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = padRange(Math.min(...ys), Math.max(...ys));
  const x = (v: number) => left + ((tx(v) - x0) / (x1 - x0)) * plotWidth;
  const y = (v: number) => top + plotHeight - ((v - y0) / (y1 - y0)) * plotHeight;
  const parts: string[] = [`<text x="0" y="16" font-weight="600" fill="${COLORS.text}">${escapeXml(title)}</text>`];
  const groups = [...new Set(points.map((p) => p.group))];
  let legendX = left;
  for (const g of groups) {
    parts.push(`${marker(GROUP_MARKERS[g] ?? 'circle', legendX + 5, 29, groupColor(g), groupColor(g), '', 'legend')}<text x="${legendX + 14}" y="33" fill="${COLORS.muted}">${escapeXml(g)}</text>`);
    legendX += 30 + 7 * g.length;
  }
  parts.push(`<text x="${legendX + 10}" y="33" fill="${COLORS.muted}">filled: Pareto front</text>`);
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${left - 6}" y="${num(y(t) + 4)}" text-anchor="end" fill="${COLORS.muted}">${escapeXml(tickLabel(t))}</text>`);
  }
  const xTicks = axes.logX ? logTicks(x0, x1) : niceTicks(x0, x1);
  for (const t of xTicks) {
    parts.push(`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${top}" y2="${top + plotHeight}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${num(x(t))}" y="${top + plotHeight + 16}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(tickLabel(t))}</text>`);
  }
  const front = points.filter((p) => p.front).sort((a, b) => a.x - b.x);
  if (front.length > 1) {
    parts.push(`<polyline class="front" points="${front.map((p) => `${num(x(p.x))},${num(y(p.y))}`).join(' ')}" fill="none" stroke="${COLORS.text}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  // Methods that can land on the same point (HMF identical to LMF) stay visible: a shape each, the smallest drawn last.
  const order = ['original', 'prune', 'lmf', 'hmf'];
  for (const p of [...points].sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group))) {
    const color = groupColor(p.group);
    const title = `<title>${escapeXml(`${p.group} ${p.label}: ${tickLabel(p.x)}, ${tickLabel(p.y)}`)}</title>`;
    parts.push(marker(GROUP_MARKERS[p.group] ?? 'circle', x(p.x), y(p.y), p.front ? color : '#ffffff', color, title));
    parts.push(`<text x="${num(x(p.x) + 7)}" y="${num(y(p.y) + (LABEL_DY[p.group] ?? -6))}" fill="${color}" font-size="10">${escapeXml(p.label)}</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 4}" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(axes.x)}</text>`);
  parts.push(`<text transform="translate(12 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="${COLORS.muted}">${escapeXml(axes.y)}</text>`);
  return svg(width, height, title, parts);
}

/** Ticks of a log10 axis over [10^lo, 10^hi]: 1, 2 and 5 times powers of ten (only the powers when that is too many). */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let d = Math.floor(lo); d <= Math.ceil(hi); d++) for (const m of [1, 2, 5]) ticks.push(m * 10 ** d);
  const inside = ticks.filter((t) => Math.log10(t) >= lo && Math.log10(t) <= hi);
  return inside.length > 8 ? inside.filter((t) => Number.isInteger(Math.log10(t))) : inside;
}

/** Marker shapes of the groups of a Pareto plot (a sweep's methods). */
const GROUP_MARKERS: Record<string, 'circle' | 'square' | 'triangle' | 'diamond'> = { hmf: 'circle', lmf: 'square', prune: 'triangle', original: 'diamond' };
/** Vertical offsets of the groups' labels, so that labels of one factor do not sit on each other. */
const LABEL_DY: Record<string, number> = { hmf: -7, lmf: 14, prune: 4, original: -7 };

function marker(shape: 'circle' | 'square' | 'triangle' | 'diamond', cx: number, cy: number, fill: string, stroke: string, title: string, cls = 'point'): string {
  const common = `class="${cls}" fill="${fill}" stroke="${stroke}" stroke-width="2"`;
  if (shape === 'circle') return `<circle ${common} cx="${num(cx)}" cy="${num(cy)}" r="4.5">${title}</circle>`;
  if (shape === 'square') return `<rect ${common} x="${num(cx - 5.5)}" y="${num(cy - 5.5)}" width="11" height="11">${title}</rect>`;
  const pts = shape === 'triangle' ? [[cx, cy - 6.5], [cx + 6.5, cy + 5.5], [cx - 6.5, cy + 5.5]] : [[cx, cy - 7], [cx + 7, cy], [cx, cy + 7], [cx - 7, cy]];
  return `<polygon ${common} points="${pts.map(([a, b]) => `${num(a)},${num(b)}`).join(' ')}">${title}</polygon>`;
}

function groupColor(group: string): string {
  return (COLORS as Record<string, string>)[group] ?? COLORS.other;
}

function padRange(lo: number, hi: number): [number, number] {
  if (!(hi > lo)) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.08;
  return [lo - pad, hi + pad];
}

function svg(width: number, height: number, title: string, parts: string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img" aria-label="${escapeXml(title)}" ${FONT}>` +
    parts.join('') +
    '</svg>'
  );
}
