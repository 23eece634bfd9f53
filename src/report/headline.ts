import type { Report } from './schema.js';
import { formatBytes, formatCount, formatFactor } from './format.js';

/**
 * What the run reached, in words, for the top of the report: the factor on the targeted
 * weights and on the whole model (what the asked factor does not say), and what stayed
 * dense and why. Planner information (issue 13) can extend these lines.
 */
export function headlineLines(report: Report): string[] {
  const t = report.totals;
  const compressed = report.matrices.filter((m) => m.method !== 'dense');
  const leftDense = report.matrices.filter((m) => m.method === 'dense');
  const skippedParams = report.skipped.reduce((s, m) => s + m.shape.reduce((a, d) => a * d, 1), 0);
  const rowsParams = report.matrices.reduce((s, m) => s + m.paramsBefore, 0);
  const other = Math.max(0, t.model.paramsBefore - rowsParams - skippedParams);
  const lines = [
    `reached ${formatFactor(t.targeted.factor)} on the ${compressed.length} targeted matri${compressed.length === 1 ? 'x' : 'ces'}, ` +
      `${formatFactor(t.model.factor)} on the whole model (parameters), ${formatFactor(t.bytes.factorRaw)} in raw bytes ` +
      `(${formatBytes(t.bytes.before.raw)} -> ${formatBytes(t.bytes.after.raw)} on disk)`,
  ];
  const dense: string[] = [];
  if (leftDense.length) {
    const params = leftDense.reduce((s, m) => s + m.paramsBefore, 0);
    dense.push(`${leftDense.length} matri${leftDense.length === 1 ? 'x' : 'ces'} the rewrite could not express (${formatCount(params)} params, see the notes)`);
  }
  if (report.skipped.length) dense.push(`${report.skipped.length} matri${report.skipped.length === 1 ? 'x' : 'ces'} not targeted (${formatCount(skippedParams)} params, listed below)`);
  if (other > 0) dense.push(`${formatCount(other)} params of biases, normalisation and other weights`);
  if (dense.length) lines.push(`stayed dense: ${dense.join('; ')}`);
  return lines;
}
