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
  const matrices = (n: number) => `${n} matri${n === 1 ? 'x' : 'ces'}`;
  const lines = [
    `reached ${formatFactor(t.targeted.factor)} on the ${matrices(report.matrices.length)} targeted (${compressed.length} compressed), ` +
      `${formatFactor(t.model.factor)} on the whole model (parameters), ${formatFactor(t.bytes.factorRaw)} in raw bytes ` +
      `(${formatBytes(t.bytes.before.raw)} -> ${formatBytes(t.bytes.after.raw)} on disk)`,
  ];
  const dense: string[] = [];
  // Kept dense by the plan (for speed, or where the budget did more elsewhere) or by the rewrite (see each row's note).
  const planned = leftDense.filter((m) => m.note?.startsWith('kept dense'));
  const unexpressed = leftDense.filter((m) => !m.note?.startsWith('kept dense'));
  const params = (ms: typeof leftDense) => formatCount(ms.reduce((s, m) => s + m.paramsBefore, 0));
  if (planned.length) dense.push(`${matrices(planned.length)} the plan kept dense (${params(planned)} params, see the notes)`);
  if (unexpressed.length) dense.push(`${matrices(unexpressed.length)} the rewrite could not express (${params(unexpressed)} params, see the notes)`);
  if (report.skipped.length) dense.push(`${report.skipped.length} matri${report.skipped.length === 1 ? 'x' : 'ces'} not targeted (${formatCount(skippedParams)} params, listed below)`);
  if (other > 0) dense.push(`${formatCount(other)} params of biases, normalisation and other weights`);
  if (dense.length) lines.push(`stayed dense: ${dense.join('; ')}`);
  return lines;
}
