import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { DEFAULT_SHARD_BYTES, checkQuantizeMode, encodeWeights, splitShards, withManifest } from './encode.js';
import type { ModelFile, WriteOptions, WrittenModel } from './types.js';

const SHARD_NAME = /^group\d+-shard\d+of\d+\.bin$/;

function checkExtraName(name: string): void {
  const plain = name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
  if (!plain) throw new UsageError(`extra output file ${JSON.stringify(name)}: expected a plain file name without folders`);
  if (name === 'model.json' || SHARD_NAME.test(name)) {
    throw new UsageError(`extra output file ${JSON.stringify(name)}: the name is taken by the model's own files`);
  }
}

/** What is at `dir` now: nothing, an empty folder, or a non-empty folder. */
async function inspectOut(dir: string, force: boolean): Promise<'absent' | 'present'> {
  let info;
  try {
    info = await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new UsageError(`--out ${dir}: cannot inspect the output folder: ${(err as Error).message}`, { cause: err });
  }
  if (info.isSymbolicLink()) throw new UsageError(`--out ${dir}: expected a folder, found a symbolic link; give the real folder`);
  if (!info.isDirectory()) throw new UsageError(`--out ${dir}: expected a folder, found an existing file`);
  const entries = await readdir(dir);
  if (entries.length > 0 && !force) {
    throw new UsageError(`--out ${dir}: the output folder exists and is not empty (${entries.length} entries); expected a new or empty folder, or pass --force to replace it`);
  }
  return 'present';
}

function tempName(parent: string, base: string, tag: string): string {
  return join(parent, `.${base}.hmf-${tag}-${randomBytes(6).toString('hex')}`);
}

/**
 * Writes `model.json` + `group1-shardNofM.bin` (+ extra files) into `outDir`
 * (DESIGN.md §3, §5): everything is written into a temporary folder beside
 * `outDir` and renamed into place, so a failure leaves no half-written model;
 * a non-empty `outDir` is refused unless `force`, and then replaced only once
 * the new folder is complete. Output is deterministic for the same input.
 */
export async function writeModel(model: Pick<ModelFile, 'json' | 'weights'>, outDir: string, options: WriteOptions = {}): Promise<WrittenModel> {
  const mode = checkQuantizeMode(options.quantize ?? 'keep');
  const extras = Object.entries(options.extraFiles ?? {});
  for (const [name] of extras) checkExtraName(name);
  // Encode before touching the disk: invalid weights fail with nothing written.
  const { specs, data } = encodeWeights(model.weights, mode);
  const shards = splitShards(data, options.shardBytes ?? DEFAULT_SHARD_BYTES);
  const manifest = [{ paths: shards.map((s) => s.name), weights: specs }];
  const modelJson = Buffer.from(JSON.stringify(withManifest(model.json, manifest)), 'utf8');

  const dir = resolve(outDir);
  const parent = dirname(dir);
  const base = basename(dir);
  const existing = await inspectOut(dir, options.force === true);
  await mkdir(parent, { recursive: true });
  const tmp = tempName(parent, base, 'tmp');
  await mkdir(tmp);
  const files: WrittenModel['files'] = [];
  try {
    const put = async (name: string, content: string | Uint8Array): Promise<void> => {
      await writeFile(join(tmp, name), content);
      files.push({ name, bytes: typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength });
    };
    await put('model.json', modelJson);
    for (const s of shards) await put(s.name, s.bytes);
    for (const [name, content] of extras) await put(name, content);
    if (existing === 'absent') {
      await rename(tmp, dir);
    } else {
      await replaceFolder(tmp, dir, tempName(parent, base, 'old'));
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0) };
}

/** Moves `dir` aside, renames `tmp` into its place, then deletes the old folder; restores it if the swap fails. */
async function replaceFolder(tmp: string, dir: string, old: string): Promise<void> {
  await rename(dir, old);
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rename(old, dir);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}
