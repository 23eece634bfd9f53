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
