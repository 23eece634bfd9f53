/**
 * Recovery table (issue 6): for every fixture at factor 4, held-out accuracy
 * (classifiers) or perplexity (char LM) of the original and of HMF, LMF and prune,
 * each plain, calibrated, and calibrated + fine-tuned (2 epochs, the library's default
 * schedule). Calibration data (CALIBRATION_EXAMPLES examples) and fine-tuning data (up to
 * FINETUNE_EXAMPLES; distillation needs no labels, so more of the training split is fair)
 * come from each fixture's training split, never from test.json; they are written to
 * .cache/recovery/. The calibration examples are the first of the fine-tuning examples.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/recovery-table.js [fixture ...]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compress } from '../src/compress.js';
import { evaluate } from '../src/eval.js';
import type { MethodName } from '../src/methods/types.js';
import { cacheDir, encodeIds, loadChatbot, loadMobyDick, repoRoot, seededRandom, seededShuffle, sentimentSplit, tokenize } from './data.js';

const CALIBRATION_EXAMPLES = 512;
const FINETUNE_EXAMPLES = 2048;
const FACTOR = 4;
const EPOCHS = 2;
const SEED = 20240601;
const FIXTURES = ['sentiment-mlp', 'sentiment-embed', 'intent-mlp', 'char-lstm', 'sentiment-gru', 'sentiment-cnn'];

interface Examples {
  inputs: number[][];
  labels: (number | number[])[];
}

function vocabOf(fixture: string): string[] {
  return JSON.parse(readFileSync(join(repoRoot, 'fixtures', fixture, 'vocab.json'), 'utf8')) as string[];
}

function bagOfWords(tokens: string[], index: Map<string, number>): number[] {
  const v = new Array<number>(index.size).fill(0);
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) v[i] = 1;
  }
  return v;
}

/** Up to `count` examples of the fixture's training split, encoded as its script encodes them. */
export function trainingExamples(fixture: string, count: number): Examples {
  if (fixture === 'sentiment-mlp' || fixture === 'sentiment-embed' || fixture === 'sentiment-gru' || fixture === 'sentiment-cnn') {
    const train = seededShuffle(sentimentSplit().train, SEED).slice(0, count);
    const vocab = vocabOf(fixture);
    if (fixture === 'sentiment-mlp') {
      const index = new Map(vocab.map((w, i) => [w, i]));
      return { inputs: train.map((s) => bagOfWords(tokenize(s.text), index)), labels: train.map((s) => s.label) };
    }
    // vocab.json holds the words of ids 2.. (0 padding, 1 OOV).
    const words = vocab.length === 4000 ? vocab.slice(2) : vocab;
    const index = new Map(words.map((w, i) => [w, i + 2]));
    return { inputs: train.map((s) => encodeIds(tokenize(s.text), index, 32)), labels: train.map((s) => s.label) };
  }
  if (fixture === 'intent-mlp') {
    const data = loadChatbot();
    const intents = [...new Set(data.map((e) => e.intent))].sort();
    const train = data.filter((e) => e.split === 'train').slice(0, count);
    const index = new Map(vocabOf(fixture).map((w, i) => [w, i]));
    return { inputs: train.map((e) => bagOfWords(tokenize(e.text), index)), labels: train.map((e) => intents.indexOf(e.intent)) };
  }
  if (fixture === 'char-lstm' || fixture === 'moby-lstm') {
    const text = loadMobyDick();
    const index = new Map(vocabOf(fixture).map((ch, i) => [ch, i + 1]));
    const ids = Int32Array.from(Array.from(text, (ch) => index.get(ch) ?? 0));
    // moby-lstm trained on the first 85% (85-90% was its validation log); char-lstm on the first 90%.
    const split = Math.floor(ids.length * (fixture === 'moby-lstm' ? 0.85 : 0.9));
    const rand = seededRandom(SEED);
    const inputs: number[][] = [];
    const labels: number[][] = [];
    for (let k = 0; k < count; k++) {
      const s = Math.floor(rand() * (split - 64 - 1));
      inputs.push(Array.from(ids.subarray(s, s + 64)));
      labels.push(Array.from(ids.subarray(s + 1, s + 65)));
    }
    return { inputs, labels };
  }
  throw new Error(`unknown fixture ${fixture}`);
}

function score(metrics: { accuracy: number; perplexity: number | null } | null, lm: boolean): number {
  if (!metrics) return NaN;
  return lm ? (metrics.perplexity ?? NaN) : metrics.accuracy;
}

async function main(): Promise<void> {
  const fixtures = process.argv.slice(2).length ? process.argv.slice(2) : FIXTURES;
  const work = join(cacheDir, 'recovery');
  mkdirSync(work, { recursive: true });
  const lines: string[] = [];
  const header = '| fixture | metric | original | variant | HMF | LMF | prune |';
  lines.push(header, '|---|---|---|---|---|---|---|');
  for (const fixture of fixtures) {
    const dir = join(repoRoot, 'fixtures', fixture);
    const model = join(dir, 'model.json');
    const test = join(dir, 'test.json');
    const lm = fixture === 'char-lstm';
    const dataPath = join(work, `${fixture}-train.json`);
    const finetunePath = join(work, `${fixture}-finetune.json`);
    writeFileSync(dataPath, JSON.stringify(trainingExamples(fixture, CALIBRATION_EXAMPLES)));
    const finetuneData = trainingExamples(fixture, FINETUNE_EXAMPLES);
    writeFileSync(finetunePath, JSON.stringify(finetuneData));
    process.stderr.write(`${fixture}: ${finetuneData.inputs.length} fine-tuning examples\n`);
    const original = score((await evaluate(model, { data: test })).metrics, lm);
    const cells: Record<string, Record<string, string>> = { plain: {}, calibrated: {}, 'calibrated + fine-tuned': {} };
    for (const method of ['hmf', 'lmf', 'prune'] as MethodName[]) {
      for (const variant of Object.keys(cells)) {
        const out = join(work, `${fixture}-${method}-${variant.replace(/[^a-z]+/g, '-')}`);
        rmSync(out, { recursive: true, force: true });
        const t0 = performance.now();
        const { report } = await compress(model, {
          factor: FACTOR,
          method,
          out,
          force: true,
          bench: false,
          ...(variant !== 'plain' ? { calibration: dataPath } : {}),
          ...(variant === 'calibrated + fine-tuned' ? { finetune: finetunePath, epochs: EPOCHS } : {}),
        });
        const value = score((await evaluate(join(out, 'model.json'), { data: test })).metrics, lm);
        cells[variant][method] = lm ? value.toFixed(3) : (100 * value).toFixed(1);
        process.stderr.write(
          `${fixture} ${method} ${variant}: ${cells[variant][method]} (factor ${report.totals.targeted.factor.toFixed(2)}, ${((performance.now() - t0) / 1000).toFixed(1)} s${
            report.finetune ? `; fine-tuning ${report.finetune.seconds.toFixed(1)} s, best epoch ${report.finetune.bestEpoch}` : ''
          })\n`,
        );
      }
    }
    const orig = lm ? original.toFixed(3) : (100 * original).toFixed(1);
    for (const variant of Object.keys(cells)) {
      const c = cells[variant];
      lines.push(`| ${fixture} | ${lm ? 'perplexity' : 'accuracy %'} | ${orig} | ${variant} | ${c.hmf} | ${c.lmf} | ${c.prune} |`);
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
