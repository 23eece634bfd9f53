// Held-out accuracy and latency of every classifier fixture, original vs HMF, LMF and
// prune at factors 2, 4 and 8 (issue notes). Rerun: npm run build && node dist/scripts/accuracy-table.js
import { tf } from '../src/tf.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initBackend } from '../src/backend.js';
import { compress } from '../src/compress.js';
import { fileLoader } from '../src/io/index.js';
import type { MethodName } from '../src/methods/types.js';

const root = resolve(import.meta.dirname, '..', '..');
const fixtures = process.argv.slice(2).length ? process.argv.slice(2) : ['sentiment-mlp', 'sentiment-embed', 'intent-mlp'];
const methods: MethodName[] = ['hmf', 'lmf', 'prune'];
const factors = [2, 4, 8];

function accuracy(model: tf.LayersModel, testJson: string): number {
  const data = JSON.parse(readFileSync(testJson, 'utf8')) as { inputs: number[][]; labels: number[] };
  return tf.tidy(() => {
    const x = tf.tensor(data.inputs, undefined, model.inputs[0].dtype === 'int32' ? 'int32' : 'float32');
    const predicted = (model.predict(x) as tf.Tensor).argMax(-1).dataSync();
    return data.labels.filter((label, i) => predicted[i] === label).length / data.labels.length;
  });
}

await initBackend();
const work = mkdtempSync(join(tmpdir(), 'hmf-accuracy-'));
const lines = ['| fixture | method | factor | targeted factor | accuracy | Δ vs original | rel. output error | latency b1 (orig/comp) | latency b32 (orig/comp) | compress s |', '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|'];
for (const name of fixtures) {
  const dir = join(root, 'fixtures', name);
  if (!existsSync(join(dir, 'model.json'))) continue;
  const original = await tf.loadLayersModel(fileLoader(join(dir, 'model.json')));
  const base = accuracy(original, join(dir, 'test.json'));
  original.dispose();
  lines.push(`| ${name} | original | 1 | 1.00 | ${base.toFixed(4)} | | | | | |`);
  for (const method of methods) {
    for (const factor of factors) {
      const out = join(work, `${name}-${method}-${factor}`);
      const t0 = performance.now();
      const { report } = await compress(join(dir, 'model.json'), { method, factor, out, runs: 30 });
      const seconds = (performance.now() - t0) / 1000;
      const model = await tf.loadLayersModel(fileLoader(join(out, 'model.json')));
      const acc = accuracy(model, join(dir, 'test.json'));
      model.dispose();
      const lat = report.latency!.batches.map((b) => `${b.original.medianMs.toFixed(3)}/${b.compressed.medianMs.toFixed(3)} ms (${b.speedup.toFixed(2)}x)`);
      lines.push(
        `| ${name} | ${method} | ${factor} | ${report.totals.targeted.factor.toFixed(2)} | ${acc.toFixed(4)} | ${(acc - base >= 0 ? '+' : '') + (acc - base).toFixed(4)} | ` +
          `${report.fidelity.outputs[0].relativeError.toFixed(4)} | ${lat[0]} | ${lat[1]} | ${seconds.toFixed(1)} |`,
      );
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  }
}
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${lines.join('\n')}\n`);
