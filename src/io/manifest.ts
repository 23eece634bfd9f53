import { ModelFormatError } from '../errors.js';
import type { ModelFormat, Quantization, StoredDtype } from './types.js';

/** A validated weights-manifest entry. */
export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: StoredDtype;
  quantization?: Quantization;
  group?: 'model' | 'optimizer';
}

/** A validated weights-manifest group; `raw` keeps the entries exactly as the file has them. */
export interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
  raw: Record<string, unknown>[];
}

export interface ParsedModelJson {
  /** model.json without weightsManifest, other keys in file order. */
  json: Record<string, unknown>;
  /** model.json exactly as parsed, weightsManifest included. */
  full: Record<string, unknown>;
  format: ModelFormat;
  groups: ManifestGroup[];
}

export const STORED_DTYPES: readonly StoredDtype[] = ['float32', 'int32', 'bool', 'string', 'complex64'];
const QUANT_DTYPES = ['uint8', 'uint16', 'float16'] as const;

/** A short description of what a JSON value is, for error messages. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `the ${typeof v} ${String(v)}`;
}

/** A JSON value as it would appear in the file, for error messages about names and dtypes. */
function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : kindOf(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates the text of a model.json; `file` names it in errors. */
export function parseModelJson(text: string, file: string): ParsedModelJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ModelFormatError(`${file}: not valid JSON (${(err as Error).message}); expected a TF.js model.json`, { cause: err });
  }
  if (!isObject(parsed)) {
    throw new ModelFormatError(`${file}: expected a JSON object with "modelTopology" and "weightsManifest", found ${kindOf(parsed)}`);
  }
  const keys = Object.keys(parsed);
  const found = keys.length > 0 ? `keys ${keys.map((k) => JSON.stringify(k)).join(', ')}` : 'an empty object';
  if (!isObject(parsed.modelTopology)) {
    const what = 'modelTopology' in parsed ? kindOf(parsed.modelTopology) : found;
    throw new ModelFormatError(`${file}: expected "modelTopology" to be an object (layers or graph model topology), found ${what}`);
  }
  if (!Array.isArray(parsed.weightsManifest)) {
    const what = 'weightsManifest' in parsed ? kindOf(parsed.weightsManifest) : found;
    throw new ModelFormatError(`${file}: expected "weightsManifest" to be an array of weight groups {paths, weights}, found ${what}`);
  }
  const groups = parsed.weightsManifest.map((g, i) => parseGroup(g, i, file));
  const seen = new Set<string>();
  for (const g of groups) {
    for (const w of g.weights) {
      if (seen.has(w.name)) throw new ModelFormatError(`${file}: weight "${w.name}" appears twice in weightsManifest; expected unique names`);
      seen.add(w.name);
    }
  }
  const json: Record<string, unknown> = {};
  for (const k of keys) if (k !== 'weightsManifest') json[k] = parsed[k];
  return { json, full: parsed, format: detectFormat(parsed, parsed.modelTopology, file), groups };
}

function detectFormat(json: Record<string, unknown>, topology: Record<string, unknown>, file: string): ModelFormat {
  const f = json.format;
  if (f === 'layers-model' || f === 'graph-model') return f;
  if (f !== undefined && f !== null) {
    throw new ModelFormatError(`${file}: "format" is ${quote(f)}; expected "layers-model" or "graph-model"`);
  }
  if ('node' in topology) return 'graph-model';
  if ('model_config' in topology || 'class_name' in topology) return 'layers-model';
  throw new ModelFormatError(
    `${file}: cannot tell the model format: no "format" key, and "modelTopology" has neither "node" (graph model) nor "model_config"/"class_name" (layers model)`,
  );
}

/** Validates a flat list of weight specs (e.g. ModelArtifacts.weightSpecs); `file` names their source in errors. */
export function parseWeightSpecs(specs: unknown, file: string): ManifestEntry[] {
  return parseGroup({ paths: [], weights: specs }, 0, file).weights;
}

function parseGroup(g: unknown, index: number, file: string): ManifestGroup {
  const where = `${file}: weightsManifest[${index}]`;
  if (!isObject(g)) throw new ModelFormatError(`${where}: expected an object {paths, weights}, found ${kindOf(g)}`);
  if (!Array.isArray(g.paths) || !g.paths.every((p) => typeof p === 'string')) {
    throw new ModelFormatError(`${where}.paths: expected an array of shard file names, found ${kindOf(g.paths)}`);
  }
  if (!Array.isArray(g.weights)) {
    throw new ModelFormatError(`${where}.weights: expected an array of weight entries, found ${kindOf(g.weights)}`);
  }
  const raw: Record<string, unknown>[] = [];
  const weights = g.weights.map((e, j) => {
    if (!isObject(e)) throw new ModelFormatError(`${where}.weights[${j}]: expected an object {name, shape, dtype}, found ${kindOf(e)}`);
    raw.push(e);
    return parseEntry(e, `${where}.weights[${j}]`, file);
  });
  return { paths: g.paths as string[], weights, raw };
}

function parseEntry(e: Record<string, unknown>, where: string, file: string): ManifestEntry {
  if (typeof e.name !== 'string' || e.name === '') {
    throw new ModelFormatError(`${where}: expected "name" to be a non-empty string, found ${kindOf(e.name)}`);
  }
  const at = `${file}: weight "${e.name}"`;
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ModelFormatError(`${at}: expected "shape" to be an array of non-negative integers, found ${JSON.stringify(shape)}`);
  }
  const dtype = e.dtype;
  if (!STORED_DTYPES.includes(dtype as StoredDtype)) {
    throw new ModelFormatError(`${at}: unknown dtype ${quote(dtype)}; expected one of ${STORED_DTYPES.join(', ')}`);
  }
  const entry: ManifestEntry = { name: e.name, shape: shape as number[], dtype: dtype as StoredDtype };
  if (!Number.isSafeInteger(shape.reduce((a: number, d: number) => a * d, 1))) {
    throw new ModelFormatError(`${at}: shape ${JSON.stringify(shape)} has too many elements`);
  }
  if (e.quantization !== undefined && e.quantization !== null) entry.quantization = parseQuantization(e.quantization, entry.dtype, at);
  if (e.group === 'model' || e.group === 'optimizer') entry.group = e.group;
  return entry;
}

function parseQuantization(q: unknown, dtype: StoredDtype, at: string): Quantization {
  if (!isObject(q)) throw new ModelFormatError(`${at}: expected "quantization" to be an object {dtype, scale?, min?}, found ${kindOf(q)}`);
  const qd = q.dtype;
  if (qd === 'float16') {
    if (dtype !== 'float32') throw new ModelFormatError(`${at}: float16 quantization needs dtype float32, found ${dtype}`);
    return { dtype: 'float16' };
  }
  if (qd === 'uint8' || qd === 'uint16') {
    if (dtype !== 'float32' && dtype !== 'int32') {
      throw new ModelFormatError(`${at}: ${qd} quantization needs dtype float32 or int32, found ${dtype}`);
    }
    const { scale, min } = q;
    if (typeof scale !== 'number' || !Number.isFinite(scale) || typeof min !== 'number' || !Number.isFinite(min)) {
      throw new ModelFormatError(
        `${at}: ${qd} quantization needs finite numbers "scale" and "min", found scale ${kindOf(scale)} and min ${kindOf(min)}`,
      );
    }
    return { dtype: qd, scale, min };
  }
  throw new ModelFormatError(`${at}: unknown quantization dtype ${quote(qd)}; expected one of ${QUANT_DTYPES.join(', ')}`);
}
