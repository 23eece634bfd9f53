import { tf } from '../src/tf.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from dist/test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

let processRoot: string | undefined;

/**
 * One folder per test process in the system temp folder, removed when the process exits
 * (node --test runs each file in a process of its own), so a test run leaves the temp
 * folder as it found it whatever the tests forget to delete.
 */
export function testRoot(): string {
  if (processRoot === undefined) {
    const root = mkdtempSync(join(tmpdir(), 'hmf-test-'));
    processRoot = root;
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return processRoot;
}

/** A fresh folder inside this process's test root (see testRoot). */
export function tempDir(prefix = 'hmf-test-'): string {
  return mkdtempSync(join(testRoot(), prefix));
}

/**
 * Where fetched test material (published models) is kept: $HMF_CACHE, else the
 * repository's git-ignored .cache/. CI points it outside the clone so it is fetched once.
 */
export const cacheDir: string = process.env.HMF_CACHE ? resolve(process.env.HMF_CACHE) : join(repoRoot, '.cache');

/** What `model.save()` writes, kept in memory. */
export async function savedArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(0), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts) throw new Error('model.save wrote nothing');
  return artifacts;
}
