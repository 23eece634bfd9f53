import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep, win32 } from 'node:path';
import { ModelFormatError } from '../errors.js';

function escapes(from: string, to: string): boolean {
  const rel = relative(from, to);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

/**
 * The absolute path of shard `p` listed in `modelJson`'s manifest, refusing
 * anything outside the model's folder (docs/ARCHITECTURE.md §5): absolute paths, URLs,
 * `..` components, and symbolic links that resolve outside the folder.
 * Returns the resolved real path (so the file read is the file checked) and its size.
 */
export async function resolveShardPath(modelJson: string, modelDir: string, p: string): Promise<{ path: string; bytes: number }> {
  const refuse = (why: string): never => {
    throw new ModelFormatError(
      `${modelJson}: weightsManifest path ${JSON.stringify(p)} ${why}; expected a file name relative to the model folder ${modelDir}`,
    );
  };
  if (p === '') refuse('is empty');
  if (isAbsolute(p) || win32.isAbsolute(p)) refuse('is absolute');
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) refuse('is a URL');
  if (p.includes('\\') || p.includes('\0')) refuse('contains a backslash or NUL character');
  const target = resolve(modelDir, p);
  if (escapes(modelDir, target)) refuse('points outside the model folder');
  let real: string;
  try {
    real = await realpath(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelFormatError(`${modelJson}: weight shard ${JSON.stringify(p)} listed in weightsManifest is missing: expected a file at ${target}, found nothing`, {
        cause: err,
      });
    }
    throw new ModelFormatError(`${modelJson}: cannot open weight shard ${target}: ${(err as Error).message}`, { cause: err });
  }
  const realDir = await realpath(modelDir);
  if (escapes(realDir, real)) refuse(`resolves through a symbolic link to ${real}, outside the model folder`);
  const info = await stat(real);
  if (!info.isFile()) refuse(`is not a regular file`);
  return { path: real, bytes: info.size };
}
