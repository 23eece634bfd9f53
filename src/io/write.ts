import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { encodeModel } from './encode.js';
import type { ModelFile, WriteOptions, WrittenModel } from './types.js';

function checkFileName(name: string): void {
  const plain = name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
  if (!plain) throw new UsageError(`output file ${JSON.stringify(name)}: expected a plain file name without folders`);
}

/** What is at `dir` now: nothing, or a folder that may be replaced. */
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
    throw new UsageError(
      `--out ${dir}: the output folder exists and is not empty (${entries.length} entries); expected a new or empty folder, or pass --force to replace it`,
    );
  }
  return 'present';
}

/**
 * Fails early, before any work is done, when `outDir` could not be written:
 * a non-empty folder without `force`, a file, or a symbolic link.
 */
export async function checkOutDir(outDir: string, force = false): Promise<void> {
  await inspectOut(resolve(outDir), force);
}

/**
 * `.<out name>.hmf-<tmp|old>-<pid>-<random>` beside the output folder: hidden, and naming
 * the process that owns it, so a later run can tell a folder left by a killed process.
 */
function tempName(parent: string, base: string, tag: 'tmp' | 'old'): string {
  return join(parent, `.${base}.hmf-${tag}-${process.pid}-${randomBytes(6).toString('hex')}`);
}

const TEMP_PATTERN = /^\.(.+)\.hmf-(tmp|old)-(\d+)-[0-9a-f]{12}$/;

/** Folders this process is writing or swapping right now: what a signal handler must undo. */
const pending = new Map<string, { dir: string; old?: string }>();

/**
 * Undoes the writes in progress, synchronously (for a SIGINT/SIGTERM handler): temporary
 * folders are deleted, and a replaced output folder moved aside is put back. The output
 * folder is then either complete (the rename had happened) or as it was before the run.
 */
export function abandonPendingWrites(): void {
  for (const [tmp, { dir, old }] of pending) {
    rmSync(tmp, { recursive: true, force: true });
    if (old && existsSync(old)) {
      if (!existsSync(dir)) renameSync(old, dir);
      else rmSync(old, { recursive: true, force: true });
    }
  }
  pending.clear();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what killed runs (SIGKILL, power loss) left in `parent`: temporary folders of
 * processes that no longer exist. An output folder moved aside by a killed `--force` run
 * is put back if nothing took its place, else deleted.
 */
export async function removeStaleTemporaries(parent: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_PATTERN.exec(name);
    if (!m || Number(m[3]) === process.pid || alive(Number(m[3]))) continue;
    const path = join(parent, name);
    const dir = join(parent, m[1]);
    if (m[2] === 'old' && !existsSync(dir)) await rename(path, dir);
    else await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/**
 * Writes `files` (plain names -> contents) as the whole content of `outDir`
 * (docs/ARCHITECTURE.md §5): into a temporary folder beside `outDir`, then renamed into
 * place, so a failure leaves no half-written folder. A non-empty `outDir` is
 * refused unless `force`, and then replaced only once the new folder is complete.
 */
export async function writeFiles(
  files: ReadonlyMap<string, string | Uint8Array>,
  outDir: string,
  options: Pick<WriteOptions, 'force'> = {},
): Promise<WrittenModel> {
  for (const name of files.keys()) checkFileName(name);
  const dir = resolve(outDir);
  const parent = dirname(dir);
  const base = basename(dir);
  const existing = await inspectOut(dir, options.force === true);
  await mkdir(parent, { recursive: true });
  await removeStaleTemporaries(parent);
  const tmp = tempName(parent, base, 'tmp');
  pending.set(tmp, { dir });
  const written: WrittenModel['files'] = [];
  try {
    await mkdir(tmp);
    for (const [name, content] of files) {
      await writeFile(join(tmp, name), content);
      written.push({ name, bytes: typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength });
    }
    if (existing === 'absent') await rename(tmp, dir);
    else await replaceFolder(tmp, dir, tempName(parent, base, 'old'), (old) => pending.set(tmp, { dir, old }));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    pending.delete(tmp);
  }
  return { dir, files: written, totalBytes: written.reduce((a, f) => a + f.bytes, 0) };
}

/** Moves `dir` aside, renames `tmp` into its place, then deletes the old folder; restores it if the swap fails. */
async function replaceFolder(tmp: string, dir: string, old: string, movingAside: (old: string) => void): Promise<void> {
  movingAside(old);
  await rename(dir, old);
  try {
    await rename(tmp, dir);
  } catch (err) {
    await rename(old, dir);
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Writes `model.json` + `group1-shardNofM.bin` (+ `extraFiles`) into `outDir`
 * (docs/ARCHITECTURE.md §3, §5) through `writeFiles`. Weights are encoded before the disk
 * is touched, so invalid weights fail with nothing written. Deterministic: the
 * same input gives byte-identical files.
 */
export async function writeModel(model: Pick<ModelFile, 'json' | 'weights'>, outDir: string, options: WriteOptions = {}): Promise<WrittenModel> {
  const files = new Map<string, string | Uint8Array>(encodeModel(model, options));
  for (const [name, content] of Object.entries(options.extraFiles ?? {})) {
    checkFileName(name);
    if (files.has(name) || /^group\d+-shard\d+of\d+\.bin$/.test(name)) {
      throw new UsageError(`output file ${JSON.stringify(name)}: the name is taken by the model's own files`);
    }
    files.set(name, content);
  }
  return writeFiles(files, outDir, options);
}
