import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const intent = join(repoRoot, 'fixtures', 'intent-mlp', 'model.json');
const graph = join(repoRoot, 'fixtures', 'graph-mlp', 'model.json');
const testData = JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'intent-mlp', 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };

function dataFile(dir: string, name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('hmf compress --calibration / --finetune with bad data files', () => {
  const dir = tempDir();
  const good = { inputs: testData.inputs.slice(0, 40), labels: testData.labels.slice(0, 40) };
  const bad: [string, unknown, RegExp][] = [
    ['wrong shape', { inputs: [[1, 0, 1]] }, /130|shape|length/i],
    ['wrong dtype', { inputs: [testData.inputs[0].map(() => 'a')] }, /number|string/i],
    ['empty', { inputs: [] }, /empty|no examples|at least/i],
    ['not JSON', '{"inputs": [', /JSON/i],
    ['labels that do not match', { inputs: good.inputs, labels: good.labels.slice(0, 3) }, /label/i],
  ];
  for (const flag of ['--calibration', '--finetune']) {
    for (const [what, content, message] of bad) {
      it(`${flag}: ${what} exits 2 naming the problem`, async () => {
        const file = dataFile(dir, `${flag.slice(2)}-${what.replace(/ /g, '-')}.json`, content);
        const r = await runHmf(['compress', intent, '-o', join(dir, `out-${flag}-${what}`), '--no-bench', flag, file]);
        assert.ok(r.code === 2 || r.code === 3, `exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.ok(r.stderr.includes(file) || r.stderr.includes(flag), r.stderr);
        assert.equal(r.stdout, '');
      });
    }
  }
  it('--finetune on a graph model is a usage error', async () => {
    const file = dataFile(dir, 'graph.json', { inputs: [new Array(2000).fill(0)] });
    const r = await runHmf(['compress', graph, '-o', join(dir, 'out-graph'), '--no-bench', '--finetune', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--finetune: .*graph model/);
  });
  it('--epochs 0 is a usage error', async () => {
    const file = dataFile(dir, 'good0.json', good);
    const r = await runHmf(['compress', intent, '-o', join(dir, 'out-e0'), '--no-bench', '--finetune', file, '--epochs', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--epochs/);
  });
});

describe('hmf compress --calibration --finetune --eval through the binary', () => {
  it('reports weighted errors, calibration fidelity, fine-tuning before/after and the eval numbers', async () => {
    const dir = tempDir();
    const data = dataFile(dir, 'calib.json', { inputs: testData.inputs.slice(0, 60), labels: testData.labels.slice(0, 60) });
    const out = join(dir, 'out');
    const r = await runHmf([
      'compress', intent, '-f', '2', '-m', 'prune', '-o', out, '--no-bench', '--json', '-q',
      '--calibration', data, '--finetune', data, '--epochs', '1', '--eval', join(repoRoot, 'fixtures', 'intent-mlp', 'test.json'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      fidelity: { source: string; probes: number };
      matrices: { weightedError?: number | null; method: string }[];
      calibration: { examples: number };
      finetune: { fidelityBefore: unknown[]; fidelityAfter: unknown[]; history: unknown[] };
      eval: { metrics: { accuracy: number } };
    };
    assert.equal(report.fidelity.source, 'calibration');
    assert.equal(report.fidelity.probes, 60);
    assert.equal(report.calibration.examples, 60);
    assert.ok(report.matrices.every((m) => typeof m.weightedError === 'number' && m.weightedError >= 0 && m.weightedError < 1));
    assert.equal(report.finetune.history.length, 1);
    assert.equal(report.finetune.fidelityAfter.length, 1);
    assert.ok(report.eval.metrics.accuracy > 0.5);
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { eval?: unknown };
    assert.ok(written.eval, 'report.json carries the eval numbers');
  });
});
