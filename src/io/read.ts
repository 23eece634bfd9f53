import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ModelFormatError } from '../errors.js';
import { decodeEntry, fixedByteLength, layoutGroup, type GroupLayout } from './codec.js';
import { parseModelJson, type ManifestGroup, type ParsedModelJson } from './manifest.js';
import { resolveShardPath } from './paths.js';
import type { ModelFile, Weight } from './types.js';

/** One manifest group with its shard bytes, length-checked against the manifest. */
export interface CheckedGroup {
  group: ManifestGroup;
  /** Shard files in manifest order. */
  files: { path: string; bytes: number }[];
  /** The group's shards concatenated. */
  data: Buffer;
  /** Byte offset of each weight in `data`. */
  starts: number[];
}

export interface CheckedModel {
  /** Absolute path of model.json. */
  path: string;
  /** The bytes of model.json. */
  jsonData: Buffer;
  parsed: ParsedModelJson;
  groups: CheckedGroup[];
}

async function readModelJson(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const found = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a folder' : (err as Error).message;
    const inside = join(path, 'model.json');
    const hint = code === 'EISDIR' && (await stat(inside).then((s) => s.isFile(), () => false)) ? `; did you mean ${inside}?` : '';
    throw new ModelFormatError(`${path}: cannot read the model: expected a TF.js model.json file, found ${found}${hint}`, { cause: err });
  }
}

/**
 * Reads model.json and every shard it lists, with the checks of docs/ARCHITECTURE.md §5:
 * valid JSON and manifest, shard paths inside the model folder, and each
 * group's shard bytes exactly what its weights need. Weights are not decoded.
 */
export async function loadChecked(modelJsonPath: string): Promise<CheckedModel> {
  const path = resolve(modelJsonPath);
  const text = await readModelJson(path);
  const parsed = parseModelJson(text.toString('utf8'), path);
  const dir = dirname(path);
  const groups: CheckedGroup[] = [];
  for (const [index, group] of parsed.groups.entries()) {
    const files: CheckedGroup['files'] = [];
    for (const p of group.paths) files.push(await resolveShardPath(path, dir, p));
    const check = (layout: GroupLayout, found: number): void => {
      if (layout.needed !== found) throw lengthError(path, index, group, files, layout, found);
    };
    // Without string weights the sizes alone decide: refuse before reading any shard.
    if (group.weights.every((w) => fixedByteLength(w) !== null)) {
      const onDisk = files.reduce((a, f) => a + f.bytes, 0);
      check(layoutGroup(group.weights, onDisk), onDisk);
    }
    const buffers = await Promise.all(files.map((f) => readFile(f.path)));
    // Sizes as read, should a file have changed since it was checked.
    buffers.forEach((b, i) => (files[i].bytes = b.byteLength));
    const data = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
    const layout = layoutGroup(group.weights, data.byteLength, data);
    check(layout, data.byteLength);
    groups.push({ group, files, data, starts: layout.starts });
  }
  return { path, jsonData: text, parsed, groups };
}

function lengthError(
  path: string,
  index: number,
  group: ManifestGroup,
  files: CheckedGroup['files'],
  layout: GroupLayout,
  found: number,
): ModelFormatError {
  const shards = group.paths.map((p, i) => `${p} (${files[i].bytes} bytes)`).join(', ') || 'none';
  const inString = layout.truncatedAt !== undefined && group.weights.find((w) => w.name === layout.truncatedAt)?.dtype === 'string';
  const detail =
    layout.truncatedAt !== undefined
      ? `the data ends inside weight "${layout.truncatedAt}"`
      : `${found - layout.needed} bytes are left over after the last weight`;
  return new ModelFormatError(
    `${path}: weight group ${index + 1} needs ${inString ? 'at least ' : ''}${layout.needed} bytes for its ${group.weights.length} weights ` +
      `per weightsManifest, found ${found} bytes in its shard files ${shards}; ${detail}`,
  );
}

/** Decodes the weights of checked groups, in manifest order. */
export function decodeGroups(groups: readonly CheckedGroup[], file: string): Weight[] {
  const weights: Weight[] = [];
  for (const g of groups) {
    g.group.weights.forEach((entry, i) => {
      const end = i + 1 < g.starts.length ? g.starts[i + 1] : g.data.byteLength;
      weights.push(decodeEntry(entry, g.data.subarray(g.starts[i], end), file));
    });
  }
  return weights;
}

/**
 * Reads a TF.js model (layers or graph format) from its model.json: the JSON
 * without its weightsManifest, and every weight decoded and dequantized.
 * Throws ModelFormatError naming the file and weight on anything unsafe or invalid.
 */
export async function readModel(modelJsonPath: string): Promise<ModelFile> {
  return modelFromChecked(await loadChecked(modelJsonPath));
}

/** The ModelFile of a checked model (its weights decoded). */
export function modelFromChecked(checked: CheckedModel): ModelFile {
  return {
    json: checked.parsed.json,
    format: checked.parsed.format,
    weights: decodeGroups(checked.groups, checked.path),
    path: checked.path,
  };
}
