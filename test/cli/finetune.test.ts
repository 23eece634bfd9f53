import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { FINETUNE_DEFAULTS } from '../../src/finetune/index.js';
import { repoRoot, tempDir } from '../helpers.js';
import { accuracyOn, loadStock, runHmf } from './run.js';

const fixture = join(repoRoot, 'fixtures', 'intent-mlp');
const model = join(fixture, 'model.json');
const testJson = join(fixture, 'test.json');
const real = JSON.parse(readFileSync(testJson, 'utf8')) as { inputs: number[][]; labels: number[] };

interface Fidelity {
  relativeError: number;
  top1Agreement: number;
  klDivergence: number | null;
}

interface FinetuneReport {
  finetune: {
    bestEpoch: number;
    epochs: number;
    history: { validationLoss: number }[];
    initialValidationLoss: number;
    fidelityBefore: Fidelity[];
    fidelityAfter: Fidelity[];
    labelled: boolean;
    labelWeight: number;
    schedule: string;
    batchSize: number;
    learningRate: number;
  };
  matrices: { weight: string; method: string }[];
}

/** A slice of the fixture's real examples written as a data file (labels optional). */
function sliceFile(dir: string, name: string, count: number, labelled = true): string {
  const path = join(dir, name);
  const inputs = real.inputs.slice(0, count);
  writeFileSync(path, JSON.stringify(labelled ? { inputs, labels: real.labels.slice(0, count) } : { inputs }));
  return path;
}

/** Every kernel of a stock-loaded model, by weight name. */
async function kernels(modelJson: string): Promise<Map<string, Float32Array>> {
  const m = await loadStock(modelJson);
  const out = new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  m.dispose();
  return out;
}

before(async () => {
  await initBackend();
});

describe('hmf compress --finetune on intent-mlp through the binary', () => {
  const dir = tempDir();
  const data = sliceFile(dir, 'train.json', 100);

  it('HMF x4 calibrated + fine-tuned: validation fidelity no worse than before, stock TF.js loads the output', async () => {
    const out = join(dir, 'hmf');
    const r = await runHmf(['compress', model, '--objective', 'size', '-f', '4', '-o', out, '--no-bench', '--json', '-q', '--calibration', data, '--finetune', data, '--epochs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as FinetuneReport;
    const ft = report.finetune;
    assert.equal(ft.history.length, 2);
    assert.equal(ft.schedule, 'cosine');
    assert.equal(ft.labelWeight, 0);
    const best = ft.bestEpoch === 0 ? ft.initialValidationLoss : ft.history[ft.bestEpoch - 1].validationLoss;
    assert.ok(best <= ft.initialValidationLoss);
    assert.ok(ft.history.every((h) => h.validationLoss >= best));
    // Distillation loss = H(teacher) + KL(teacher || student): the kept state's KL cannot be above the start's.
    const [before, after] = [ft.fidelityBefore[0], ft.fidelityAfter[0]];
    assert.ok(after.klDivergence! <= before.klDivergence! + 1e-6, `KL before ${before.klDivergence} after ${after.klDivergence}`);
    const stock = await loadStock(join(out, 'model.json'));
    assert.ok(accuracyOn(stock, testJson) > 0.75);
    stock.dispose();
  });

  it('pruned x4 + fine-tuned: the pruned zeros stay zero and the kept weights are trained', async () => {
    const plain = join(dir, 'prune');
    const tuned = join(dir, 'prune-ft');
    const common = ['-m', 'prune', '-f', '4', '--no-bench', '--json', '-q', '--calibration', data];
    // A low rate: at the default the validation loss rises on this small slice and the start is kept.
    const tune = ['--finetune', data, '--epochs', '2', '--learning-rate', '0.0001'];
    const [a, b] = [await runHmf(['compress', model, '--objective', 'size', ...common, '-o', plain]), await runHmf(['compress', model, '--objective', 'size', ...common, '-o', tuned, ...tune])];
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const report = JSON.parse(b.stdout) as FinetuneReport;
    assert.ok(report.finetune.bestEpoch >= 1, `fine-tuning kept the start: ${JSON.stringify(report.finetune.history)}`);
    const pruned = report.matrices.filter((m) => m.method === 'prune').map((m) => m.weight);
    assert.ok(pruned.length > 0);
    const [before, after] = [await kernels(join(plain, 'model.json')), await kernels(join(tuned, 'model.json'))];
    for (const name of pruned) {
      const x = before.get(name)!;
      const y = after.get(name)!;
      let zeros = 0;
      let changed = 0;
      for (let i = 0; i < x.length; i++) {
        if (x[i] === 0) {
          zeros++;
          assert.ok(y[i] === 0, `${name}[${i}] was pruned and became ${y[i]}`);
        } else if (y[i] !== x[i]) changed++;
      }
      assert.ok(zeros >= x.length / 2, `${name}: ${zeros} zeros of ${x.length}`);
      assert.ok(changed > 0, `${name}: no kept weight was trained`);
    }
    const stock = await loadStock(join(tuned, 'model.json'));
    assert.equal((stock.predict(tf.tensor2d(real.inputs.slice(0, 3))) as tf.Tensor).shape[0], 3);
    stock.dispose();
  });
});

describe('hmf compress --label-weight', () => {
  const dir = tempDir();
  const labelled = sliceFile(dir, 'labelled.json', 100);
  const unlabelled = sliceFile(dir, 'unlabelled.json', 100, false);

  it('mixes the label loss in when the data has labels', async () => {
    const r = await runHmf(['compress', model, '--objective', 'size', '-o', join(dir, 'ok'), '--no-bench', '--json', '-q', '--finetune', labelled, '--epochs', '1', '--label-weight', '0.5']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as FinetuneReport;
    assert.equal(report.finetune.labelWeight, 0.5);
    assert.equal(report.finetune.labelled, true);
  });

  const bad: [string, string[], RegExp][] = [
    ['above 1', ['--finetune', labelled, '--label-weight', '1.5'], /--label-weight: expected a number between 0 and 1, found 1\.5/],
    ['negative', ['--finetune', labelled, '--label-weight', '-0.1'], /--label-weight: expected a number between 0 and 1/],
    ['not a number', ['--finetune', labelled, '--label-weight', 'half'], /--label-weight: expected a number, found "half"/],
    ['data without labels', ['--finetune', unlabelled, '--label-weight', '0.5'], /--label-weight 0\.5: .*unlabelled\.json has no labels/],
    ['without --finetune', ['--label-weight', '0.5'], /--label-weight 0\.5: only applies with --finetune/],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: exit 2 naming the flag`, async () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}`);
      const r = await runHmf(['compress', model, '--objective', 'size', '-o', out, '--no-bench', '-q', ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }
});

describe('the terminal and markdown reports show fine-tuning and --eval', () => {
  it('prints the kept epoch, validation loss and held-out fidelity before -> after, and the eval metrics', async () => {
    const dir = tempDir();
    const data = sliceFile(dir, 'train.json', 100);
    const out = join(dir, 'out');
    const md = join(dir, 'report.md');
    const r = await runHmf(['compress', model, '--objective', 'size', '-f', '4', '-m', 'prune', '-o', out, '--no-bench', '-q', '--finetune', data, '--epochs', '1', '--learning-rate', '0.0001', '--eval', testJson, '--report', md]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as FinetuneReport & { eval: { metrics: { accuracy: number } } };
    const kept = report.finetune.bestEpoch === 0 ? 'kept the starting weights' : `kept epoch ${report.finetune.bestEpoch} of 1`;
    assert.match(
      r.stdout,
      new RegExp(`fine-tuned +90 examples \\(1 epoch, peak learning rate 0.0001, label weight 0; label weight by default for a classifier\\), ${kept}, validation loss ${report.finetune.initialValidationLoss.toFixed(4)} -> `),
    );
    assert.match(r.stdout, /on 10 held-out: relative error [\d.]+ -> [\d.]+, top-1 agreement [\d.]+% -> [\d.]+%/);
    const accuracy = `${(report.eval.metrics.accuracy * 100).toFixed(1)}%`;
    assert.match(r.stdout, new RegExp(`eval .*test\\.json \\(\\d+ examples\\): accuracy ${accuracy.replace('.', '\\.')}, cross-entropy`));
    const markdown = readFileSync(md, 'utf8');
    assert.match(markdown, /## Fine-tuning/);
    assert.match(markdown, new RegExp(`## Evaluation[\\s\\S]*accuracy ${accuracy.replace('.', '\\.')}`));
  });
});

describe('fine-tuning settings by model kind', () => {
  it('a language model (an output per step) gets the sequence defaults, a classifier the classifier defaults; given flags win', async () => {
    const lmDir = join(repoRoot, 'fixtures', 'char-lstm');
    const lmTest = JSON.parse(readFileSync(join(lmDir, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[][] };
    const dir = tempDir();
    const lmData = join(dir, 'lm.json');
    writeFileSync(lmData, JSON.stringify({ inputs: lmTest.inputs.slice(0, 12), labels: lmTest.labels.slice(0, 12) }));
    const lm = await runHmf(['compress', join(lmDir, 'model.json'), '-m', 'lmf', '-f', '4', '-o', join(dir, 'lm'), '--no-bench', '--json', '-q', '--finetune', lmData]);
    assert.equal(lm.code, 0, lm.stderr);
    const seq = (JSON.parse(lm.stdout) as { finetune: FinetuneReport['finetune'] & { kind: string; defaulted: string[] } }).finetune;
    assert.equal(seq.kind, 'sequence');
    assert.deepEqual([seq.epochs, seq.learningRate, seq.labelWeight], [FINETUNE_DEFAULTS.sequence.epochs, FINETUNE_DEFAULTS.sequence.learningRate, FINETUNE_DEFAULTS.sequence.labelWeight]);
    assert.deepEqual(seq.defaulted, ['epochs', 'learningRate', 'labelWeight']);
    const data = sliceFile(dir, 'train.json', 40);
    const cls = await runHmf(['compress', model, '--objective', 'size', '-o', join(dir, 'cls'), '--no-bench', '--json', '-q', '--finetune', data, '--epochs', '1']);
    assert.equal(cls.code, 0, cls.stderr);
    const c = (JSON.parse(cls.stdout) as { finetune: FinetuneReport['finetune'] & { kind: string; defaulted: string[] } }).finetune;
    assert.equal(c.kind, 'classifier');
    assert.deepEqual([c.epochs, c.learningRate], [1, FINETUNE_DEFAULTS.classifier.learningRate]);
    assert.deepEqual(c.defaulted, ['learningRate', 'labelWeight']);
  });
});
