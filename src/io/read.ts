import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ModelFormatError } from '../errors.js';
import { decodeEntry, layoutGroup } from './codec.js';
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
    throw new ModelFormatError(`${path}: cannot read the model: expected a TF.js model.json file, found ${found}`, { cause: err });
  }
}

/**
 * Reads model.json and every shard it lists, with the checks of DESIGN.md §5:
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
    const buffers: Buffer[] = [];
    for (const p of group.paths) {
      const real = await resolveShardPath(path, dir, p);
      const buf = await readFile(real);
      buffers.push(buf);
      files.push({ path: real, bytes: buf.byteLength });
    }
    const data = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers);
    const layout = layoutGroup(group.weights, data);
    if (layout.needed !== data.byteLength) {
      const shards = group.paths.map((p, i) => `${p} (${files[i].bytes} bytes)`).join(', ') || 'none';
      const truncatedString = layout.truncatedAt !== undefined && group.weights.find((w) => w.name === layout.truncatedAt)?.dtype === 'string';
      const detail =
        layout.truncatedAt !== undefined
          ? `the data ends inside weight "${layout.truncatedAt}"`
          : `${data.byteLength - layout.needed} bytes are left over after the last weight`;
      throw new ModelFormatError(
        `${path}: weight group ${index + 1} needs ${truncatedString ? 'at least ' : ''}${layout.needed} bytes for its ${group.weights.length} weights ` +
          `per weightsManifest, found ${data.byteLength} bytes in its shard files ${shards}; ${detail}`,
      );
    }
    groups.push({ group, files, data, starts: layout.starts });
  }
  return { path, jsonData: text, parsed, groups };
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
  const checked = await loadChecked(modelJsonPath);
  return {
    json: checked.parsed.json,
    format: checked.parsed.format,
    weights: decodeGroups(checked.groups, checked.path),
    path: checked.path,
  };
}
