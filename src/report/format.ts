/** Text styling hooks; the CLI passes chalk's, everything else gets plain text. */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  good(s: string): string;
  bad(s: string): string;
  warn(s: string): string;
}

export const plainStyle: Style = { bold: id, dim: id, good: id, bad: id, warn: id };

function id(s: string): string {
  return s;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** A matrix row's shape as the report shows it: a convolution's kernel (3x3x32x64), else n x m. */
export function shapeText(m: { shape: readonly number[]; kernelShape?: readonly number[] }): string {
  return (m.kernelShape ?? m.shape).join('x');
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatFactor(f: number): string {
  return Number.isFinite(f) ? `${f.toFixed(2)}x` : 'inf';
}

export function formatMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`;
}

export function formatPercent(p: number): string {
  return `${(p * 100).toFixed(1)}%`;
}

/** Lays out rows as aligned columns; numbers (right-aligned) where `right[i]`. */
export function table(header: string[], rows: string[][], right: boolean[] = []): string[] {
  const widths = header.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(widths[i] - visible(c));
        return right[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/** Length without ANSI colour codes. */
function visible(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** "1 thread", "2 threads". */
export function threadsText(threads: number): string {
  return `${threads} thread${threads === 1 ? '' : 's'}`;
}

/** A matrix row's layer as shown: a Bidirectional layer's matrices say which direction they belong to. */
export function matrixLayer(m: { layer: string; weight: string }): string {
  const direction = /\/(forward|backward)_[^/]*\//.exec(m.weight)?.[1];
  return direction ? `${m.layer} (${direction})` : m.layer;
}

/**
 * MACs of a row as "before -> after". Pruned kernels are stored and run dense (TF.js has no
 * sparse kernels): their MACs do not drop, whatever the zeros, so the cell says so.
 */
export function macsCell(m: { method: string; macsBefore: number; macsAfter: number }): string {
  if (m.method === 'prune' && m.macsBefore > 0) return `${formatCount(m.macsBefore)} run dense`;
  return `${formatCount(m.macsBefore)} -> ${formatCount(m.macsAfter)}`;
}

/** p10-p90 of the two models as stats of timed runs. */
export interface TimedPair {
  original: { medianMs: number; p10Ms: number; p90Ms: number };
  compressed: { medianMs: number; p10Ms: number; p90Ms: number };
  /** The paired runs' verdict (measure/latency.ts verdictOf). */
  verdict: string;
}

/** True when the interleaved runs show no difference (verdictOf: a sign test and a 2% effect): the speedup may be noise. */
export function withinNoise(b: TimedPair): boolean {
  return b.verdict === 'within noise';
}

/** The note printed beside a difference withinNoise() calls noise. */
export const NOISE_NOTE = 'within noise: the interleaved runs show no difference of 2% or more (sign test, p < 1%); more --runs or a quieter machine would tell';

/** Said under fidelity measured on generated probes. */
export const PROBE_CAVEAT =
  'measured on generated probes (random inputs), which is often optimistic against real data: ' +
  'give --calibration data.json with inputs from your task to measure on those';
