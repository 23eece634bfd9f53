/**
 * Fuzzes what hmf reads: model.json of a layers model (intent-mlp) and of a graph model
 * (the lookup-table word classifier of export-lookup-graph.ts: Placeholders, Const,
 * GatherV2, MatMul, a hash table and its initializer graph), the weight shard's bytes, and
 * a --calibration data file. Each case mutates one thing with fast-check (a field replaced
 * by another JSON value or a value chosen to hurt, deleted, wrapped, duplicated; bytes
 * truncated, extended, overwritten with NaN / Infinity / huge floats; data text cut) and
 * runs `compress()` on it. The rules checked on every case:
 *   - no internal error: any failure is an HmfError with exit 2, 3 or 4;
 *   - a rejection names the file and the field (the mutated key or the object it sits in);
 *   - a rejection writes nothing (no output folder, no temporary folder beside it);
 *   - a success writes a complete output folder;
 *   - no case runs longer than 10 s (a watchdog kills and counts it).
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/fuzz.js [--cases 10000] [--seed 1] [--kinds layers,graph,shard,data]
 *
 * Prints one JSON summary (counts by kind and outcome, every violation with its case index
 * and seed) and exits 1 when a rule was broken.
 */
import fc from 'fast-check';
import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compress } from '../src/compress.js';
import { HmfError } from '../src/errors.js';
import { encodeModel } from '../src/io/index.js';
import { lookupGraph } from './export-lookup-graph.js';
import { repoRoot } from '../test/helpers.js';

export type FuzzKind = 'layers' | 'graph' | 'shard' | 'data';
export const FUZZ_KINDS: readonly FuzzKind[] = ['layers', 'graph', 'shard', 'data'];

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One edit of a JSON document: at the `at`-th candidate path (interesting keys first). */
export interface JsonMutation {
  at: number;
  interesting: boolean;
  op: 'replace' | 'delete' | 'wrap' | 'duplicate' | 'empty';
  value: Json;
}

export interface ShardMutation {
  op: 'truncate' | 'extend' | 'float' | 'byte' | 'empty' | 'missing';
  position: number;
  count: number;
  float: number;
  byte: number;
}

export interface TextMutation {
  op: 'cut' | 'jsonl' | 'bom' | 'invalid-utf8' | 'empty';
  position: number;
}

export type FuzzCase =
  | { kind: 'layers' | 'graph'; json: JsonMutation }
  | { kind: 'shard'; shard: ShardMutation }
  | { kind: 'data'; json: JsonMutation | null; text: TextMutation | null };

/** Keys whose values hmf and TF.js read: mutations land on them most of the time. */
const INTERESTING = new Set([
  'dtype', 'shape', 'name', 'paths', 'weights', 'weightsManifest', 'quantization', 'scale', 'min', 'original_dtype', 'group',
  'class_name', 'config', 'layers', 'units', 'input_dim', 'output_dim', 'batch_input_shape', 'inbound_nodes', 'input_layers', 'output_layers',
  'activation', 'use_bias', 'format', 'modelTopology', 'node', 'op', 'input', 'attr', 'tensorShape', 'dim', 'size', 'value', 'tensor', 'type',
  'signature', 'inputs', 'outputs', 'resourceId', 'modelInitializer', 'initializerSignature', 'labels', 'transpose_a', 'transpose_b', 'fused_ops',
]);

/** Values that hurt: wrong types, out-of-range numbers, paths outside the folder, other dtypes, other ops. */
const NASTY: Json[] = [
  null, true, -1, 0, 0.5, 1e9, 2 ** 31, -(2 ** 53), 1e308, '', ' ', '../outside.bin', '/etc/passwd', 'group1-shard1of1.bin', 'x'.repeat(300),
  'float16', 'uint8', 'uint16', 'int32', 'string', 'bool', 'complex64', 'float64', 'DT_FLOAT', 'DT_STRING', 'DT_RESOURCE',
  'Dense', 'LSTM', 'Bidirectional', 'Model', 'Sequential', 'MatMul', '_FusedMatMul', 'Const', 'Placeholder', '__proto__', 'constructor',
  [], {}, [0], [-1], [1, 2, 3], [[]], [null], { dtype: 'uint8', scale: 0, min: 0 }, { dtype: 'float16' }, { dtype: 'uint8', scale: 'x', min: null },
];

function jsonMutation(): fc.Arbitrary<JsonMutation> {
  return fc.record({
    at: fc.nat(),
    interesting: fc.boolean(),
    op: fc.constantFrom('replace', 'replace', 'replace', 'delete', 'wrap', 'duplicate', 'empty'),
    value: fc.oneof(fc.constantFrom(...NASTY), fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>, fc.integer({ min: -5, max: 5000 })),
  });
}

export function fuzzCase(kind: FuzzKind): fc.Arbitrary<FuzzCase> {
  if (kind === 'layers' || kind === 'graph') return jsonMutation().map((json) => ({ kind, json }));
  if (kind === 'shard') {
    return fc
      .record({
        op: fc.constantFrom('truncate', 'extend', 'float', 'float', 'float', 'byte', 'empty', 'missing'),
        position: fc.nat(),
        count: fc.integer({ min: 1, max: 64 }),
        float: fc.oneof(fc.constantFrom(NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 65520, 1e30), fc.double()),
        byte: fc.integer({ min: 0, max: 255 }),
      })
      .map((shard) => ({ kind, shard }) as FuzzCase);
  }
  return fc
    .oneof(
      jsonMutation().map((json) => ({ json, text: null })),
      fc.record({ op: fc.constantFrom('cut', 'jsonl', 'bom', 'invalid-utf8', 'empty'), position: fc.nat() }).map((text) => ({ json: null, text: text as TextMutation })),
    )
    .map((m) => ({ kind: 'data', ...m }) as FuzzCase);
}

/** Every path of a JSON document (not the root), with the key it ends in. */
function paths(doc: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(doc)) doc.forEach((v, i) => (out.push([...prefix, i]), paths(v, [...prefix, i], out)));
  else if (doc !== null && typeof doc === 'object') for (const k of Object.keys(doc)) out.push([...prefix, k]), paths(doc[k], [...prefix, k], out);
  return out;
}

function lastKey(path: readonly (string | number)[]): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === 'string') return path[i] as string;
  return '';
}

/** Applies `m` to a copy of `doc`; returns the new document and the path it changed. */
export function applyJson(doc: Json, m: JsonMutation): { doc: Json; path: (string | number)[] } {
  const copy = structuredClone(doc);
  const all = paths(copy);
  const preferred = all.filter((p) => INTERESTING.has(lastKey(p)));
  const pool = m.interesting && preferred.length ? preferred : all;
  const path = pool[m.at % pool.length];
  let parent: Json = copy;
  for (const k of path.slice(0, -1)) parent = (parent as Record<string, Json>)[k as string];
  const key = path[path.length - 1];
  const holder = parent as Record<string | number, Json>;
  const old = holder[key];
  if (m.op === 'delete') {
    if (Array.isArray(holder)) holder.splice(key as number, 1);
    else delete holder[key];
  } else if (m.op === 'wrap') holder[key] = m.value !== null && typeof m.value === 'object' && !Array.isArray(m.value) ? { wrapped: old } : [old];
  else if (m.op === 'duplicate' && Array.isArray(holder)) holder.splice(key as number, 0, structuredClone(old));
  else if (m.op === 'empty') holder[key] = Array.isArray(old) ? [] : old !== null && typeof old === 'object' ? {} : typeof old === 'string' ? '' : 0;
  else holder[key] = m.value;
  return { doc: copy, path };
}

/** Names that identify a path's field in a message: its keys and the `name`s of the objects on it. */
function fieldNames(doc: Json, path: readonly (string | number)[]): string[] {
  const names = path.filter((k): k is string => typeof k === 'string' && k.length > 1);
  let at: Json = doc;
  for (const k of path) {
    if (at === null || typeof at !== 'object') break;
    const name = (at as Record<string, Json>).name;
    if (typeof name === 'string' && name.length > 0) names.push(name);
    at = (at as Record<string | number, Json>)[k as string];
  }
  return names;
}

interface Base {
  files: Map<string, Uint8Array>;
  data?: string;
}

/** The unmutated inputs of each kind. */
export async function loadBases(): Promise<Record<FuzzKind, Base>> {
  const intent = join(repoRoot, 'fixtures', 'intent-mlp');
  const layers = new Map<string, Uint8Array>([
    ['model.json', readFileSync(join(intent, 'model.json'))],
    ['group1-shard1of1.bin', readFileSync(join(intent, 'group1-shard1of1.bin'))],
  ]);
  const graph = encodeModel(await lookupGraph(40));
  const test = JSON.parse(readFileSync(join(intent, 'test.json'), 'utf8')) as { inputs: number[][]; labels: number[] };
  const data = JSON.stringify({ inputs: test.inputs.slice(0, 6), labels: test.labels.slice(0, 6) });
  return { layers: { files: layers }, graph: { files: graph }, shard: { files: layers }, data: { files: layers, data } };
}

export type Outcome = 'ok' | 'exit2' | 'exit3' | 'exit4' | 'internal' | 'other';

export interface CaseResult {
  outcome: Outcome;
  seconds: number;
  message: string;
  /** Rule broken, if any. */
  violation: string | null;
}

const decoder = new TextDecoder();

function mutateShard(bytes: Uint8Array, m: ShardMutation): Uint8Array | null {
  if (m.op === 'missing') return null;
  if (m.op === 'empty') return new Uint8Array(0);
  if (m.op === 'truncate') return new Uint8Array(bytes.subarray(0, Math.max(0, bytes.length - 1 - (m.position % bytes.length))));
  if (m.op === 'extend') return Uint8Array.from([...bytes, ...new Array<number>(m.count).fill(m.byte)]);
  const out = new Uint8Array(bytes); // a copy (Buffer#slice would be a view of the base)
  if (m.op === 'byte') out[m.position % out.length] = m.byte;
  else new DataView(out.buffer).setFloat32(4 * (m.position % (out.length / 4)), m.float, true);
  return out;
}

function mutateText(text: string, m: TextMutation): Uint8Array {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (m.op === 'empty') return new Uint8Array(0);
  if (m.op === 'cut') return enc(text.slice(0, m.position % text.length));
  if (m.op === 'bom') return enc(`\ufeff${text}`);
  if (m.op === 'invalid-utf8') {
    const b = enc(text);
    b[m.position % b.length] = 0xff; // enc() made a fresh array
    return b;
  }
  const d = JSON.parse(text) as { inputs: unknown[]; labels: unknown[] };
  const lines = d.inputs.map((x, i) => JSON.stringify({ input: x, label: d.labels[i] }));
  lines.splice(m.position % lines.length, 0, '{"input": [1, 2');
  return enc(lines.join('\n'));
}

/** Runs one case in `dir` (created, left for the caller to remove). */
export async function runCase(c: FuzzCase, base: Base, dir: string): Promise<CaseResult> {
  const model = join(dir, 'model');
  mkdirSync(model, { recursive: true });
  let fields: string[] = [];
  let file = 'model.json';
  for (const [name, bytes] of base.files) writeFileSync(join(model, name), bytes);
  const modelJson = JSON.parse(decoder.decode(base.files.get('model.json'))) as Json;
  if (c.kind === 'layers' || c.kind === 'graph') {
    const { doc, path } = applyJson(modelJson, c.json);
    fields = fieldNames(modelJson, path);
    writeFileSync(join(model, 'model.json'), JSON.stringify(doc));
  } else if (c.kind === 'shard') {
    const shard = 'group1-shard1of1.bin';
    file = shard;
    const bytes = mutateShard(base.files.get(shard)!, c.shard);
    if (bytes === null) rmSync(join(model, shard));
    else writeFileSync(join(model, shard), bytes);
  }
  let calibration: string | undefined;
  if (c.kind === 'data') {
    calibration = join(dir, 'data.json');
    file = 'data.json';
    let text = base.data!;
    if (c.json) {
      const before = JSON.parse(text) as Json;
      const { doc, path } = applyJson(before, c.json);
      fields = fieldNames(before, path);
      text = JSON.stringify(doc);
    }
    writeFileSync(calibration, c.text ? mutateText(text, c.text) : text);
  }
  const out = join(dir, 'out');
  const started = performance.now();
  let outcome: Outcome = 'ok';
  let message = '';
  try {
    // --objective size: what is fuzzed is the reading of inputs; the plan's layer timings would
    // only slow each case (the base model of one small Dense layer is exit 4 by default: it would run slower).
    await compress(join(model, 'model.json'), { out, bench: false, probes: 2, calibration, objective: 'size' });
  } catch (err) {
    message = err instanceof Error ? err.message : String(err);
    if (err instanceof HmfError) outcome = err.exitCode === 2 ? 'exit2' : err.exitCode === 3 ? 'exit3' : err.exitCode === 4 ? 'exit4' : 'other';
    else outcome = 'internal';
  }
  const seconds = (performance.now() - started) / 1000;
  let violation: string | null = null;
  const leftovers = readdirSync(dir).filter((f) => f.includes('.hmf-'));
  if (outcome === 'internal' || outcome === 'other') violation = `${outcome}: ${message}`;
  else if (outcome !== 'ok' && existsSync(out)) violation = `rejected (${outcome}) but wrote ${out}`;
  else if (leftovers.length) violation = `temporary folder left: ${leftovers.join(', ')}`;
  else if (outcome === 'ok' && !existsSync(join(out, 'model.json'))) violation = 'succeeded without a model.json';
  else if (outcome !== 'ok' && !message.includes(file) && !(file === 'group1-shard1of1.bin' && /model\.json: .*weight "/.test(message))) violation = `message does not name ${file}: ${message}`;
  else if (outcome !== 'ok' && fields.length && !fields.some((f) => message.includes(f))) violation = `message names none of ${JSON.stringify(fields)}: ${message}`;
  return { outcome, seconds, message, violation };
}

/** The cases of a run: `count` per kind, cycling through `kinds`, from one seed. */
export function sampleCases(kinds: readonly FuzzKind[], count: number, seed: number): FuzzCase[] {
  const per = kinds.map((k, i) => fc.sample(fuzzCase(k), { numRuns: Math.ceil(count / kinds.length), seed: seed + i }));
  return Array.from({ length: count }, (_, i) => per[i % kinds.length][Math.floor(i / kinds.length)]);
}

const HANG_SECONDS = 10;

interface Summary {
  seed: number;
  cases: number;
  byKind: Record<string, Record<Outcome | 'hang', number>>;
  violations: { index: number; kind: string; violation: string; case: FuzzCase }[];
  hangs: { index: number; kind: string; case: FuzzCase }[];
  slowest: { index: number; kind: string; seconds: number };
  wallSeconds: number;
}

/** Parent: hands cases to one worker process at a time and kills it when a case passes HANG_SECONDS. */
async function runParent(count: number, seed: number, kinds: readonly FuzzKind[]): Promise<Summary> {
  const cases = sampleCases(kinds, count, seed);
  const summary: Summary = { seed, cases: count, byKind: {}, violations: [], hangs: [], slowest: { index: -1, kind: '', seconds: 0 }, wallSeconds: 0 };
  const started = performance.now();
  let next = 0;
  while (next < count) {
    next = await new Promise<number>((resolveNext) => {
      const child = fork(fileURLToPath(import.meta.url), ['--worker', String(seed), kinds.join(','), String(count), String(next)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      let index = next;
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          summary.hangs.push({ index, kind: cases[index].kind, case: cases[index] });
          tally(cases[index].kind, 'hang');
          child.kill('SIGKILL');
        }, HANG_SECONDS * 1000);
      };
      const tally = (kind: string, o: Outcome | 'hang') => {
        const k = (summary.byKind[kind] ??= { ok: 0, exit2: 0, exit3: 0, exit4: 0, internal: 0, other: 0, hang: 0 });
        k[o]++;
      };
      arm();
      child.on('message', (m: { index: number; result: CaseResult }) => {
        const c = cases[m.index];
        tally(c.kind, m.result.outcome);
        if (m.result.violation) summary.violations.push({ index: m.index, kind: c.kind, violation: m.result.violation, case: c });
        if (m.result.seconds > summary.slowest.seconds) summary.slowest = { index: m.index, kind: c.kind, seconds: m.result.seconds };
        index = m.index + 1;
        if (index % 500 === 0) process.stderr.write(`${index}/${count} cases, ${summary.violations.length} violations, ${summary.hangs.length} hangs\n`);
        if (index < count) arm();
        else clearTimeout(timer);
      });
      child.on('exit', () => {
        clearTimeout(timer);
        // After a hang (killed) or a crash, go on with the case after the one that was running.
        resolveNext(index === next || summary.hangs.some((h) => h.index === index) ? index + (index < count ? 1 : 0) : index);
      });
    });
  }
  summary.wallSeconds = (performance.now() - started) / 1000;
  return summary;
}

async function runWorker(seed: number, kinds: FuzzKind[], count: number, from: number): Promise<void> {
  const cases = sampleCases(kinds, count, seed);
  const bases = await loadBases();
  const root = mkdtempSync(join(tmpdir(), 'hmf-fuzz-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  for (let i = from; i < count; i++) {
    const dir = join(root, String(i));
    const result = await runCase(cases[i], bases[cases[i].kind], dir);
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((done) => process.send!({ index: i, result }, () => done()));
  }
  process.exit(0); // the backend's and helper's threads would keep the process alive
}

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === '--worker') {
    const [seed, kinds, count, from] = process.argv.slice(3);
    await runWorker(Number(seed), kinds.split(',') as FuzzKind[], Number(count), Number(from));
  } else {
    const kinds = flag('--kinds', FUZZ_KINDS.join(',')).split(',') as FuzzKind[];
    const bad = kinds.filter((k) => !FUZZ_KINDS.includes(k));
    if (bad.length) {
      process.stderr.write(`--kinds: expected some of ${FUZZ_KINDS.join(', ')}, found ${bad.join(', ')}\n`);
      process.exit(2);
    }
    const summary = await runParent(Number(flag('--cases', '10000')), Number(flag('--seed', '1')), kinds);
    process.stdout.write(`${JSON.stringify({ ...summary, violations: summary.violations.slice(0, 50), violationCount: summary.violations.length }, null, 2)}\n`);
    process.exitCode = summary.violations.length || summary.hangs.length ? 1 : 0;
  }
}
