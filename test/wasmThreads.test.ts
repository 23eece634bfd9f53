import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, tempDir } from './helpers.js';

/**
 * Each case runs in its own process: the backend is chosen once per process. The
 * script prints the thread count and a digest of products, a convolution and an LSTM
 * step, then returns without process.exit, so a pool thread left referenced would hang
 * it (caught by the timeout).
 */
const script = `
import { tf } from ${JSON.stringify(join(repoRoot, 'dist/src/tf.js'))};
import { createHash } from 'node:crypto';
import { backendThreads, initBackend, limitBackendThreads } from ${JSON.stringify(join(repoRoot, 'dist/src/backend.js'))};
import { gaussianArray } from ${JSON.stringify(join(repoRoot, 'dist/src/linalg/random.js'))};
await initBackend('wasm');
const digest = () => {
  const h = createHash('sha256');
  const add = (t) => { h.update(new Uint8Array(t.dataSync().buffer)); t.dispose(); };
  const a = tf.tensor2d(gaussianArray(301 * 517, 1), [301, 517]);
  const b = tf.tensor2d(gaussianArray(517 * 263, 2), [517, 263]);
  add(tf.matMul(a, b));
  const img = tf.tensor4d(gaussianArray(2 * 33 * 33 * 8, 3), [2, 33, 33, 8]);
  const filt = tf.tensor4d(gaussianArray(3 * 3 * 8 * 16, 4), [3, 3, 8, 16]);
  add(tf.conv2d(img, filt, 1, 'same'));
  const lstm = tf.layers.lstm({ units: 64, returnSequences: true, kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }), recurrentInitializer: tf.initializers.glorotUniform({ seed: 7 }) });
  add(lstm.apply(tf.tensor3d(gaussianArray(4 * 12 * 32, 5), [4, 12, 32])));
  tf.dispose([a, b, img, filt]);
  return h.digest('hex');
};
const threads = backendThreads();
const first = digest();
// Lowered to one thread for the rest of the process (as before fine-tuning and latency).
const limited = limitBackendThreads(1);
console.log(JSON.stringify({ threads, digest: first, limited, limitedDigest: digest(), raised: limitBackendThreads(4) }));
`;

interface Probe {
  threads: number;
  digest: string;
  limited: number;
  limitedDigest: string;
  raised: number;
  stderr: string;
}

function run(env: Record<string, string>): Probe {
  // --input-type=module -e resolves packages from the working directory (the repository).
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, `the process did not end by itself (${r.signal}); stderr: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Omit<Probe, 'stderr'>), stderr: r.stderr };
}

describe('threaded wasm backend', () => {
  it('runs XNNPACK on 2 threads in Node, exits by itself, and computes exactly what 1 thread computes', () => {
    const two = run({ HMF_WASM_THREADS: '2' });
    const one = run({ HMF_WASM_THREADS: '1' });
    assert.equal(two.threads, 2);
    assert.equal(one.threads, 1);
    assert.equal(two.digest, one.digest, 'matMul, conv2d and an LSTM must not depend on the thread count');
    assert.equal(two.stderr, '');
    // limitBackendThreads lowers the pool (never raises it), and results stay the same.
    assert.equal(two.limited, 1);
    assert.equal(two.raised, 1);
    assert.equal(two.limitedDigest, two.digest);
    assert.equal(one.limited, 1);
  });

  it('falls back to one thread when the threaded build cannot start (its files cannot be written)', () => {
    const dir = tempDir('hmf-threads-');
    const notADir = join(dir, 'file');
    writeFileSync(notADir, '');
    const broken = run({ HMF_WASM_THREADS: '2', XDG_CACHE_HOME: notADir, TMPDIR: notADir });
    const one = run({ HMF_WASM_THREADS: '1' });
    assert.equal(broken.threads, 1);
    assert.equal(broken.digest, one.digest);
  });
});
