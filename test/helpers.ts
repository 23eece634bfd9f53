import { tf } from '../src/tf.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
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
    removeOrphanRoots();
    const root = mkdtempSync(join(tmpdir(), `hmf-test-${process.pid}-`));
    processRoot = root;
    process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  }
  return processRoot;
}

/**
 * Roots of test processes that died without their exit handler (killed, or crashed hard):
 * `hmf-test-<pid>-*` whose process is gone. Removed by the next test process.
 */
function removeOrphanRoots(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^hmf-test-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
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
 * The planner's latency answers (src/plan/latencyCache.ts) go into this process's test root:
 * tests measure afresh rather than reuse a cache the machine kept from other runs, and runs
 * within one test file (the same command twice) share them, as a user's runs would.
 */
process.env.HMF_LATENCY_CACHE ??= join(testRoot(), 'latency.json');

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
