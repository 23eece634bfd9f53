import type { BrowserBackendLatency, BrowserLatencyReport } from '../browser/bench.js';
import { formatFactor, formatMs, plainStyle, type Style } from './format.js';

/** How a browser backend is named in reports: `wasm (SIMD, 1 thread)`, `webgl (software: SwiftShader)`. */
export function browserBackendLabel(b: BrowserBackendLatency): string {
  if (b.backend === 'webgl') {
    const renderer = /swiftshader/i.test(b.detail) ? 'SwiftShader' : b.detail;
    return `webgl (${b.software ? `software-rendered: ${renderer}` : renderer})`;
  }
  return `${b.backend} (${b.detail})`;
}

/** The browser's latency lines of the terminal report (compress --bench-browser). */
export function browserLatencyLines(report: BrowserLatencyReport, style: Style = plainStyle): string[] {
  const lines = [`latency in ${report.browser} (TF.js ${report.tfjsVersion}, stock page, A/B interleaved after warm-up):`];
  for (const backend of report.backends) {
    for (const b of backend.batches) {
      const speed = b.speedup >= 1 ? style.good(formatFactor(b.speedup)) : style.bad(formatFactor(b.speedup));
      lines.push(
        `  ${browserBackendLabel(backend)} batch ${String(b.batch).padEnd(3)} ${formatMs(b.original.medianMs)} -> ${formatMs(b.compressed.medianMs)}  (speedup ${speed})` +
          style.dim(`  p10-p90 ${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)} vs ${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)}, ${b.runs} runs`),
      );
    }
    for (const note of backend.skipped) lines.push(style.dim(`  ${browserBackendLabel(backend)} ${note}`));
  }
  return lines;
}

/** The same as Markdown table rows (columns: where, batch, original, compressed, speedup). */
export function browserLatencyRows(report: BrowserLatencyReport): string[][] {
  return report.backends.flatMap((backend) =>
    backend.batches.map((b) => [
      `${report.browser}, ${browserBackendLabel(backend)}`,
      String(b.batch),
      `${formatMs(b.original.medianMs)} (${formatMs(b.original.p10Ms)}-${formatMs(b.original.p90Ms)})`,
      `${formatMs(b.compressed.medianMs)} (${formatMs(b.compressed.p10Ms)}-${formatMs(b.compressed.p90Ms)})`,
      formatFactor(b.speedup),
    ]),
  );
}
