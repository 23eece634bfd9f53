import { UsageError } from '../errors.js';
import { describe, type RawExamples } from './parse.js';
import type { Dataset, DatasetInput, DataSignature } from './types.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** What a single value must be; returns what was expected when it is not, else null. */
type ValueCheck = (v: number) => string | null;

/**
 * Checks raw examples against the model's inputs (and, when given, its first
 * output without the batch axis, which the labels must fit) and packs them into
 * typed arrays. Every problem is a UsageError naming file, example, input,
 * what was expected and what was found.
 */
export function toDataset(raw: RawExamples, path: string, signatures: readonly DataSignature[], output?: readonly (number | null)[]): Dataset {
  const inputs = signatures.map((sig) => packInput(raw, path, sig));
  const { labels, labelShape } = raw.labels ? packLabels(raw, raw.labels, path, output) : { labels: null, labelShape: [] };
  return { path, format: raw.format, count: raw.count, inputs, labels, labelShape };
}

function packInput(raw: RawExamples, path: string, sig: DataSignature): DatasetInput {
  const examples = raw.inputs.get(sig.name)!;
  const shapeText = `[${sig.shape.map((d) => d ?? '?').join(', ')}]`;
  const expectedValue = valueExpectation(sig);
  const check: ValueCheck = (v) => {
    // A float input is stored as float32: beyond its range a value becomes Infinity (found by
    // scripts/fuzz.ts: 8.8e247 in a --calibration file made the Gram's damping loop run on).
    if (sig.dtype === 'float32') return Math.abs(v) <= FLOAT32_MAX ? null : `a float32 value (magnitude at most ${FLOAT32_MAX})`;
    if (!Number.isInteger(v) || Math.abs(v) >= 2 ** 31) return expectedValue;
    if (sig.vocab !== undefined && (v < 0 || v >= sig.vocab)) return expectedValue;
    return null;
  };
  const packer = new Packer(sig.shape, check, (i) => `${path}: ${raw.where(i, 'input', sig.name)}`, ` (input "${sig.name}")`, shapeText, expectedValue);
  const values = packer.pack(examples, sig.dtype);
  return { name: sig.name, shape: packer.dims, dtype: sig.dtype, values };
}

function valueExpectation(sig: DataSignature): string {
  if (sig.dtype === 'float32') return 'a number';
  if (sig.vocab !== undefined) return `an integer token id in [0, ${sig.vocab})`;
  return 'an integer (int32 input)';
}

function packLabels(raw: RawExamples, labels: unknown[], path: string, output?: readonly (number | null)[]): { labels: Int32Array; labelShape: number[] } {
  // Labels index the last axis of the output: [w] takes class ids, [steps, w] per-step ids.
  const shape: (number | null)[] = output ? output.slice(0, -1) : inferShape(labels[0]);
  const width = output ? (output.length === 0 ? 1 : output[output.length - 1]) : null;
  const classes = width === null ? null : Math.max(width, 2);
  const expected = classes === null ? 'an integer class id >= 0' : `an integer class id in [0, ${classes})`;
  const check: ValueCheck = (v) => (Number.isInteger(v) && v >= 0 && (classes === null || v < classes) ? null : expected);
  const outputText = output ? ` (the model's output has shape [${output.map((d) => d ?? '?').join(', ')}] per example)` : '';
  const what = shape.length === 0 ? `a class id${outputText}` : `an array of per-step target ids${outputText}`;
  const packer = new Packer(shape, check, (i) => `${path}: ${raw.where(i, 'label', '')}`, '', what, expected);
  const values = packer.pack(labels, 'int32') as Int32Array;
  return { labels: values, labelShape: packer.dims };
}

/** The shape of a nested array, following first elements. */
function inferShape(value: unknown): (number | null)[] {
  const shape: (number | null)[] = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(null);
  return shape;
}

/** Walks nested JSON arrays of one shape into a flat typed array. */
class Packer {
  /** The shape with unknown lengths resolved from the first example. */
  dims: number[] = [];
  private readonly index: number[] = [];
  private example = 0;

  constructor(
    private readonly shape: readonly (number | null)[],
    private readonly check: ValueCheck,
    private readonly where: (example: number) => string,
    private readonly suffix: string,
    /** The whole example, as messages name it: a shape or a description. */
    private readonly whole: string,
    private readonly expectedValue: string,
  ) {}

  pack(examples: readonly unknown[], dtype: 'float32' | 'int32'): Float32Array | Int32Array {
    this.dims = this.resolve(examples[0]);
    const size = this.dims.reduce((a, b) => a * b, 1);
    const out = dtype === 'int32' ? new Int32Array(examples.length * size) : new Float32Array(examples.length * size);
    for (let i = 0; i < examples.length; i++) {
      this.example = i;
      this.walk(examples[i], 0, out, i * size);
    }
    return out;
  }

  /** Unknown lengths take the first example's; a malformed first example is reported by walk(). */
  private resolve(first: unknown): number[] {
    let v = first;
    return this.shape.map((d) => {
      const length = Array.isArray(v) ? v.length : 0;
      v = Array.isArray(v) ? v[0] : undefined;
      return d ?? length;
    });
  }

  private walk(value: unknown, depth: number, out: Float32Array | Int32Array, pos: number): number {
    if (depth === this.dims.length) {
      if (typeof value !== 'number') this.fail(this.expectedValue, describe(value), depth);
      if (!Number.isFinite(value)) this.fail(`a finite ${this.expectedValue.replace(/^an? /, '')}`, String(value), depth);
      const problem = this.check(value);
      if (problem !== null) this.fail(problem, String(value), depth);
      out[pos] = value;
      return pos + 1;
    }
    const length = this.dims[depth];
    if (!Array.isArray(value)) this.fail(this.arrayExpectation(depth), describe(value), depth);
    if (value.length !== length || length === 0) {
      const agree = this.shape[depth] === null ? (length === 0 ? ' (a non-empty array)' : ` (an axis of unknown length: every example must have the length of the first, ${length})`) : '';
      this.fail(`${this.arrayExpectation(depth)}${agree}`, describe(value), depth);
    }
    for (let j = 0; j < length; j++) {
      this.index[depth] = j;
      pos = this.walk(value[j], depth + 1, out, pos);
    }
    return pos;
  }

  private arrayExpectation(depth: number): string {
    if (depth === 0) return `${this.whole.startsWith('[') ? `shape ${this.whole}: ` : `${this.whole}: `}an array of ${this.dims[0]}`;
    return `an array of ${this.dims[depth]} (axis ${depth} of ${this.whole.startsWith('[') ? `shape ${this.whole}` : 'the label'})`;
  }

  private fail(expected: string, found: string, depth: number): never {
    const at = this.index.slice(0, depth).map((j) => `[${j}]`).join('');
    throw new UsageError(`${this.where(this.example)}${at}${this.suffix}: expected ${expected}, found ${found}`);
  }
}
