/**
 * Issue 15's table: the published convnets — nsfwjs's MobileNetV2 (layers, uint8) and
 * human-models' faceres-deep and gear (graph) — compressed with each method: whole-model
 * bytes on disk before -> after, fidelity on generated probes, batch-1 latency at the
 * model's own input size (A/B interleaved, one wasm thread).
 *
 *   npm run build && node dist/scripts/fetch-published.js && node dist/scripts/fetch-human-models.js
 *   flock -x /work/team/cpu.lock node dist/scripts/conv-table.js [--factor 2] [--methods hmf,lmf,prune] [--runs 10]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress } from '../src/compress.js';
import type { MethodName } from '../src/methods/types.js';
import { formatBytes } from '../src/report/format.js';
import { humanModelPath } from './fetch-human-models.js';
import { publishedModelDir } from './fetch-published.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const factor = Number(flag('--factor', '2'));
const methods = flag('--methods', 'hmf,lmf,prune').split(',') as MethodName[];
const runs = Number(flag('--runs', '10'));
const models: [string, string][] = [
  ['MobileNetV2 (nsfwjs, layers)', join(publishedModelDir(), 'model.json')],
  ['faceres-deep (graph)', humanModelPath('faceres-deep')],
  ['gear (graph)', humanModelPath('gear')],
];

const work = mkdtempSync(join(tmpdir(), 'hmf-conv-table-'));
const rows = [
  `| model | method x${factor} | targeted | whole model on disk (raw) | ratio | gzip ratio | rel. output error | top-1 agreement | batch 1: original -> compressed | speedup |`,
  '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
];
try {
  for (const [name, path] of models) {
    if (!existsSync(path)) throw new Error(`${path} is missing: fetch it first (see the header of this script)`);
    for (const method of methods) {
      const { report } = await compress(path, { method, factor, out: join(work, `${method}-${rows.length}`), runs });
      const t = report.totals;
      const f = report.fidelity.outputs;
      const b1 = report.latency?.batches.find((b) => b.batch === 1);
      rows.push(
        `| ${name} | ${method} | ${t.targeted.factor.toFixed(2)}x | ${formatBytes(t.bytes.before.raw)} -> ${formatBytes(t.bytes.after.raw)} | ` +
          `${(t.bytes.after.raw / t.bytes.before.raw).toFixed(3)} | ${(t.bytes.after.gzip / t.bytes.before.gzip).toFixed(3)} | ` +
          `${f.map((o) => o.relativeError.toFixed(3)).join(', ')} | ${f.map((o) => `${(100 * o.top1Agreement).toFixed(0)}%`).join(', ')} | ` +
          `${b1 ? `${b1.original.medianMs.toFixed(1)} -> ${b1.compressed.medianMs.toFixed(1)} ms` : '-'} | ${b1 ? `${b1.speedup.toFixed(2)}x` : '-'} |`,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.stdout.write(`${rows.join('\n')}\n`);
