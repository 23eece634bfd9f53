/**
 * What the character-level language-model fixtures (char-lstm, moby-lstm) share:
 * the Moby-Dick character vocabulary and id encoding, the held-out windows, and
 * per-step scoring.
 */
import { tf } from '../src/tf.js';
import { loadMobyDick } from './data.js';

/** Characters rarer than this in the whole text map to the OOV id. */
export const MIN_COUNT = 10;
export const OOV_ID = 0;
/** Share of the text (from its start) that training may use; the rest is held out. */
export const TRAIN_FRACTION = 0.9;
export const TEST_SEQUENCES = 200;

/** Characters occurring at least MIN_COUNT times, most frequent first (ties by code point). */
export function charVocab(text: string): string[] {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return [...counts.entries()]
    .filter(([, n]) => n >= MIN_COUNT)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([ch]) => ch);
}

export interface EncodedText {
  vocab: string[];
  /** vocab.length + 1 (id 0 is OOV). */
  vocabSize: number;
  /** The whole text as ids: id i+1 = vocab[i]. */
  ids: Int32Array;
  /** First index of the held-out tail. */
  split: number;
}

export function encodedMobyDick(): EncodedText {
  const text = loadMobyDick();
  const vocab = charVocab(text);
  const index = new Map(vocab.map((ch, i) => [ch, i + 1]));
  const ids = Int32Array.from(Array.from(text, (ch) => index.get(ch) ?? OOV_ID));
  return { vocab, vocabSize: vocab.length + 1, ids, split: Math.floor(ids.length * TRAIN_FRACTION) };
}

/** `count` non-overlapping windows of `seq` ids spread evenly over [from, to), labels shifted by one. */
export function evenWindows(ids: Int32Array, from: number, to: number, count: number, seq: number): { inputs: number[][]; labels: number[][] } {
  const stride = Math.floor((to - from - seq - 1) / count);
  const inputs: number[][] = [];
  const labels: number[][] = [];
  for (let k = 0; k < count; k++) {
    const s = from + k * stride;
    inputs.push(Array.from(ids.subarray(s, s + seq)));
    labels.push(Array.from(ids.subarray(s + 1, s + seq + 1)));
  }
  return { inputs, labels };
}

/** Per-step accuracy and perplexity of next-character predictions. */
export function scoreLm(model: tf.LayersModel, inputs: number[][], labels: number[][]): { accuracy: number; perplexity: number } {
  return tf.tidy(() => {
    const probs = model.predict(tf.tensor2d(inputs, undefined, 'int32'), { batchSize: 50 }) as tf.Tensor3D;
    const target = tf.tensor2d(labels, undefined, 'int32');
    const vocab = probs.shape[2];
    const hits = tf.equal(tf.argMax(probs, -1), target).cast('float32').mean().arraySync() as number;
    const picked = tf.sum(tf.mul(probs, tf.oneHot(target, vocab)), -1);
    const nll = tf.neg(tf.log(tf.maximum(picked, 1e-12))).mean().arraySync() as number;
    return { accuracy: hits, perplexity: Math.exp(nll) };
  });
}
