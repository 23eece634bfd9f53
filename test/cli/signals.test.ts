/**
 * Kill-safety: `hmf compress` of a large model (7 MB of weights in 2 shards) stopped by
 * SIGINT, SIGTERM or SIGKILL at random points of the run, and right when the temporary
 * output folder appears (the write itself). Afterwards the output folder is complete (every
 * shard the manifest names, at its size, and report.json) or absent. SIGINT/SIGTERM leave
 * no temporary folder; the one SIGKILL leaves is removed by the next run into the same
 * parent folder. A --force run killed while swapping folders leaves the old output or the
 * new one, never neither.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { fileSaver } from '../../src/io/index.js';
import { initBackend } from '../../src/backend.js';
import { repoRoot, tempDir } from '../helpers.js';
import { runHmf } from './run.js';

const root = tempDir();
const model = join(root, 'large', 'model.json');

async function largeModel(): Promise<void> {
  if (existsSync(model)) return;
  await initBackend('cpu');
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [768], units: 768, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 768, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.dense({ units: 768, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  await m.save(fileSaver(join(root, 'large')));
  m.dispose();
}

const ARGS = ['-m', 'lmf', '-f', '4', '--no-bench', '--probes', '2', '--quiet'];

/** Starts a compress into `out`; sends `signal` after `delayMs`, or when a temporary folder appears in `parent` (delay null). */
function compressAndKill(out: string, signal: NodeJS.Signals, delayMs: number | null, extra: string[] = []): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'hmf.js'), 'compress', model, '-o', out, ...ARGS, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let poll: NodeJS.Timeout | undefined;
    const parent = join(out, '..');
    if (delayMs !== null) setTimeout(() => child.kill(signal), delayMs);
    else {
      poll = setInterval(() => {
        if (readdirSync(parent).some((f) => f.includes('.hmf-tmp-'))) {
          clearInterval(poll);
          child.kill(signal);
        }
      }, 2);
    }
    child.on('error', reject);
    child.on('close', (code, sig) => {
      clearInterval(poll);
      resolveRun({ code, signal: sig, stderr });
    });
  });
}

/** 'complete' when the folder holds model.json, every shard at its manifest size and report.json; 'absent' when there is none. */
function outputState(out: string): 'absent' | 'complete' | string {
  if (!existsSync(out)) return 'absent';
  try {
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')) as { weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[] };
    const needed = json.weightsManifest.flatMap((g) => g.weights).reduce((s, w) => s + 4 * w.shape.reduce((a, d) => a * d, 1), 0);
    const stored = json.weightsManifest.flatMap((g) => g.paths).reduce((s, p) => s + statSync(join(out, p)).size, 0);
    if (stored !== needed) return `shards hold ${stored} bytes, the manifest needs ${needed}`;
    JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    return 'complete';
  } catch (err) {
    return `incomplete: ${(err as Error).message}`;
  }
}

const temporaries = (parent: string) => readdirSync(parent).filter((f) => f.includes('.hmf-'));

let fullRunMs = 0;

test('a large model compresses untouched (the reference run for the kill points)', async () => {
  await largeModel();
  const out = join(root, 'reference', 'out');
  mkdirSync(join(out, '..'), { recursive: true });
  const started = performance.now();
  const r = await runHmf(['compress', model, '-o', out, ...ARGS]);
  fullRunMs = performance.now() - started;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(outputState(out), 'complete');
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
  test(`${signal} at random points and while writing: the output folder is complete or absent${signal === 'SIGKILL' ? '; the next run removes the temporary folder left behind' : ', with no temporary folder left'}`, async () => {
    await largeModel();
    // Seeded points spread over the run (from start-up to past the end), then the write itself.
    const points: (number | null)[] = [0.2, 0.6, 0.9].map((f) => Math.round(f * fullRunMs));
    points.push(null, null);
    const parent = join(root, signal.toLowerCase());
    mkdirSync(parent, { recursive: true });
    let killedWhileWriting = 0;
    for (const [i, at] of points.entries()) {
      const out = join(parent, `out${i}`);
      const r = await compressAndKill(out, signal, at);
      const state = outputState(out);
      assert.ok(state === 'complete' || state === 'absent', `${signal} at ${at ?? 'write'} ms: ${state}`);
      if (r.code === 0) continue; // finished before the signal
      if (signal === 'SIGKILL') {
        assert.equal(r.signal, 'SIGKILL');
        if (at === null && temporaries(parent).some((f) => f.startsWith(`.out${i}.hmf-tmp-`))) killedWhileWriting++;
      } else if (r.signal === signal) {
        // Died by the signal itself: before the handlers were installed (nothing written yet) or after
        // they were removed at the end (everything written); either way, no temporary folder.
        assert.deepEqual(temporaries(parent), []);
      } else {
        assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, r.stderr);
        assert.match(r.stderr, new RegExp(`hmf: stopped by ${signal}; no partly written output was left`));
        assert.deepEqual(temporaries(parent), [], `${signal} at ${at ?? 'write'} ms left a temporary folder`);
        if (at === null) killedWhileWriting++;
      }
    }
    if (signal === 'SIGKILL') {
      // The next run into the same parent removes what the killed ones left.
      const next = join(parent, 'next');
      const again = await runHmf(['compress', model, '-o', next, ...ARGS]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(temporaries(parent), [], 'stale temporary folders removed');
      assert.equal(outputState(next), 'complete');
    }
    // The write-time kills did land in the write.
    assert.ok(killedWhileWriting >= 1, 'no kill landed while the output was being written');
  });
}

test('SIGTERM while --force replaces an output folder: the old folder or the new one, never neither', async () => {
  await largeModel();
  const parent = join(root, 'force');
  const out = join(parent, 'out');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'mine.txt'), 'previous output');
  for (let i = 0; i < 3; i++) {
    const r = await compressAndKill(out, 'SIGTERM', null, ['--force']);
    assert.ok(r.code === 143 || r.code === 0, r.stderr);
    const previous = existsSync(join(out, 'mine.txt'));
    assert.ok(previous || outputState(out) === 'complete', `neither the old folder nor a complete new one (${outputState(out)})`);
    assert.deepEqual(temporaries(parent), []);
    if (!previous) break;
  }
});
