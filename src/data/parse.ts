import { extname } from 'node:path';
import { UsageError } from '../errors.js';

/** A data file's examples before they are checked against the model: raw JSON values. */
export interface RawExamples {
  format: 'json' | 'jsonl';
  count: number;
  /** One raw value per example, for each model input (keyed by input name). */
  inputs: Map<string, unknown[]>;
  labels: unknown[] | null;
  /** Where example `i`'s input (or label) sits in the file, for messages: `inputs[3]`, `line 4: input.ids`. */
  where(i: number, part: 'input' | 'label', input: string): string;
}

const JSON_SHAPE = '{"inputs": [...], "labels": [...]}';
const JSONL_SHAPE = '{"input": ..., "label": ...}';

/**
 * Splits a data file's text into raw examples (docs/ARCHITECTURE.md §5): one JSON object
 * `{"inputs", "labels"}`, or JSON Lines of `{"input", "label"}` (by extension
 * .jsonl / .ndjson, or by content). `names` are the model's input names.
 */
export function parseDataText(text: string, path: string, names: readonly string[]): RawExamples {
  if (text.trim() === '') throw new UsageError(`${path}: empty file: expected ${JSON_SHAPE} or JSON Lines of ${JSONL_SHAPE}`);
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return parseJsonLines(text, path, names);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    if (looksLikeJsonLines(text)) return parseJsonLines(text, path, names);
    throw new UsageError(`${path}: malformed JSON: ${syntaxMessage(err, text)}`, { cause: err });
  }
  // A JSON Lines file of one line is also valid JSON.
  if (isObject(value) && 'input' in value && !('inputs' in value)) return parseJsonLines(text, path, names);
  return parseJsonObject(value, path, names);
}

function parseJsonObject(value: unknown, path: string, names: readonly string[]): RawExamples {
  if (!isObject(value)) throw new UsageError(`${path}: expected an object ${JSON_SHAPE}, found ${describe(value)}`);
  checkKeys(value, ['inputs', 'labels'], path, '');
  if (!('inputs' in value)) throw new UsageError(`${path}: expected an object ${JSON_SHAPE}, found no "inputs" key`);
  const raw = value.inputs;
  const inputs = new Map<string, unknown[]>();
  let keyed = false;
  if (Array.isArray(raw) && names.length === 1) {
    inputs.set(names[0], raw);
  } else if (isObject(raw)) {
    keyed = true;
    checkInputKeys(raw, names, `${path}: inputs`);
    for (const name of names) {
      const list = raw[name];
      if (!Array.isArray(list)) throw new UsageError(`${path}: inputs.${name}: expected an array with one entry per example, found ${describe(list)}`);
      inputs.set(name, list);
    }
  } else if (Array.isArray(raw)) {
    throw new UsageError(`${path}: inputs: the model has ${names.length} inputs: expected an object keyed by input name (${names.join(', ')}), found an array`);
  } else {
    throw new UsageError(`${path}: inputs: expected an array with one entry per example, found ${describe(raw)}`);
  }
  const count = inputs.get(names[0])?.length ?? 0;
  for (const [name, list] of inputs) {
    if (list.length !== count) {
      throw new UsageError(`${path}: inputs.${name}: expected ${count} examples like inputs.${names[0]}, found ${list.length}`);
    }
  }
  if (count === 0) throw new UsageError(`${path}: inputs: expected at least one example, found none`);
  let labels: unknown[] | null = null;
  if ('labels' in value && value.labels !== null) {
    if (!Array.isArray(value.labels)) throw new UsageError(`${path}: labels: expected an array with one label per example, found ${describe(value.labels)}`);
    if (value.labels.length !== count) {
      throw new UsageError(`${path}: labels: expected ${count} labels (one per example in inputs), found ${value.labels.length}`);
    }
    labels = value.labels;
  }
  return {
    format: 'json',
    count,
    inputs,
    labels,
    where: (i, part, input) => (part === 'label' ? `labels[${i}]` : keyed ? `inputs.${input}[${i}]` : `inputs[${i}]`),
  };
}

function parseJsonLines(text: string, path: string, names: readonly string[]): RawExamples {
  const inputs = new Map<string, unknown[]>(names.map((n) => [n, []]));
  const labels: unknown[] = [];
  const lines: number[] = [];
  let keyed = false;
  const rows = text.split(/\r?\n/);
  for (let l = 0; l < rows.length; l++) {
    const row = rows[l].trim();
    if (row === '') continue;
    const at = `${path}: line ${l + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch (err) {
      throw new UsageError(`${at}: malformed JSON: ${syntaxMessage(err, row)}`, { cause: err });
    }
    if (!isObject(value) || !('input' in value)) throw new UsageError(`${at}: expected an object ${JSONL_SHAPE}, found ${describe(value)}`);
    checkKeys(value, ['input', 'label'], path, `line ${l + 1}: `);
    const hasLabel = 'label' in value && value.label !== null;
    if (lines.length > 0 && hasLabel !== (labels.length > 0)) {
      throw new UsageError(
        `${at}: every line must have a label or none must: line ${lines[0]} ${labels.length > 0 ? 'has one' : 'has none'}, this line ${hasLabel ? 'has one' : 'has none'}`,
      );
    }
    if (hasLabel) labels.push(value.label);
    const input = value.input;
    if (isObject(input)) {
      keyed = true;
      checkInputKeys(input, names, `${at}: input`);
      for (const name of names) inputs.get(name)!.push(input[name]);
    } else if (names.length === 1) {
      inputs.get(names[0])!.push(input);
    } else {
      throw new UsageError(`${at}: input: the model has ${names.length} inputs: expected an object keyed by input name (${names.join(', ')}), found ${describe(input)}`);
    }
    lines.push(l + 1);
  }
  if (lines.length === 0) throw new UsageError(`${path}: expected at least one line ${JSONL_SHAPE}, found none`);
  return {
    format: 'jsonl',
    count: lines.length,
    inputs,
    labels: labels.length > 0 ? labels : null,
    where: (i, part, input) => `line ${lines[i]}: ${part === 'label' ? 'label' : keyed ? `input.${input}` : 'input'}`,
  };
}

/** Several non-empty lines, the first a JSON object on its own. */
function looksLikeJsonLines(text: string): boolean {
  const rows = text.split(/\r?\n/).filter((r) => r.trim() !== '');
  if (rows.length < 2) return false;
  try {
    return isObject(JSON.parse(rows[0]));
  } catch {
    return false;
  }
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, at: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new UsageError(`${path}: ${at}unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}: expected only ${allowed.map((k) => `"${k}"`).join(' and ')}`);
  }
}

function checkInputKeys(value: Record<string, unknown>, names: readonly string[], at: string): void {
  const missing = names.filter((n) => !(n in value));
  const extra = Object.keys(value).filter((k) => !names.includes(k));
  if (missing.length === 0 && extra.length === 0) return;
  const found = [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `unknown ${extra.join(', ')}` : ''].filter(Boolean).join('; ');
  throw new UsageError(`${at}: expected the model's inputs ${names.join(', ')}, found ${found}`);
}

/** A JSON syntax error with line and column where the engine gives a position. */
function syntaxMessage(err: unknown, text: string): string {
  const message = (err as Error).message;
  const match = /at position (\d+)/.exec(message);
  // V8 quotes the whole text in some messages: keep only what it says is wrong.
  const short = message.replace(/^(Unexpected token '[\s\S]'), [\s\S]* is not valid JSON$/, '$1').split('\n')[0].slice(0, 200);
  if (!match) return short;
  const before = text.slice(0, Number(match[1]));
  const line = before.split('\n').length;
  const column = Number(match[1]) - before.lastIndexOf('\n');
  return line === 1 && !text.includes('\n') ? `${short} (column ${column})` : `${short} (line ${line}, column ${column})`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a JSON value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (JSON.stringify writes NaN and Infinity as null)';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return `a string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)}`;
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    return keys.length ? `an object with keys ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ', ...' : ''}` : 'an empty object';
  }
  return `${typeof value} ${String(value)}`;
}
