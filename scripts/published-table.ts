// Issue notes: the published graph models (human-models) compressed with each method at
// factors 2 and 4: parameters, relative output error, latency ratio.
// Rerun: npm run build && HMF_CACHE=... node dist/scripts/fetch-human-models.js && node dist/scripts/published-table.js
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress } from '../src/compress.js';
import type { MethodName } from '../src/methods/types.js';
import { HUMAN_MODELS, humanModelPath } from './fetch-human-models.js';

const work = mkdtempSync(join(tmpdir(), 'hmf-published-'));
const rows = [
  '| model | method | factor | targeted params before -> after | achieved | rel. output error | top-1 agree | latency (batch) orig -> comp | speedup |',
  '|---|---|--:|--:|--:|--:|--:|--:|--:|',
];
for (const name of HUMAN_MODELS) {
  const path = humanModelPath(name);
  if (!existsSync(path)) {
    process.stderr.write(`${path} missing: run node dist/scripts/fetch-human-models.js first\n`);
    process.exit(2);
  }
  for (const method of ['hmf', 'lmf', 'prune'] as MethodName[]) {
    for (const factor of [2, 4]) {
      const { report } = await compress(path, { method, factor, out: join(work, `${name}-${method}-${factor}`), runs: 8, probes: 8 });
      const t = report.totals.targeted;
      const f = report.fidelity.outputs;
      const lat = report.latency!.batches[0];
      rows.push(
        `| ${name} | ${method} | ${factor} | ${t.paramsBefore.toLocaleString('en-US')} -> ${t.paramsAfter.toLocaleString('en-US')} | ${t.factor.toFixed(2)} | ` +
          `${f.map((o) => o.relativeError.toExponential(2)).join(', ')} | ${f.map((o) => (o.top1Agreement * 100).toFixed(1) + '%').join(', ')} | ` +
          `${lat.original.medianMs.toFixed(2)} -> ${lat.compressed.medianMs.toFixed(2)} ms (${lat.batch}) | ${lat.speedup.toFixed(2)}x |`,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${rows.join('\n')}\n`);
