import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { latencyThreads, wantedWasmThreads } from '../src/backend.js';
import { UsageError } from '../src/errors.js';

function withEnv(name: string, value: string | undefined, run: () => void): void {
  const saved = process.env[name];
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
  try {
    run();
  } finally {
    if (saved === undefined) delete process.env[name];
    else process.env[name] = saved;
  }
}

test('wantedWasmThreads: one per core up to 4 by default; HMF_WASM_THREADS sets it; nonsense is a usage error naming it', () => {
  withEnv('HMF_WASM_THREADS', undefined, () => assert.equal(wantedWasmThreads(), Math.min(availableParallelism(), 4)));
  withEnv('HMF_WASM_THREADS', '1', () => assert.equal(wantedWasmThreads(), 1));
  withEnv('HMF_WASM_THREADS', '3', () => assert.equal(wantedWasmThreads(), 3));
  withEnv('HMF_WASM_THREADS', '16', () => assert.equal(wantedWasmThreads(), 4));
  for (const bad of ['0', '-2', '1.5', 'two']) withEnv('HMF_WASM_THREADS', bad, () => assert.throws(() => wantedWasmThreads(), (e: unknown) => e instanceof UsageError && e.message.includes('HMF_WASM_THREADS') && e.message.includes(bad)));
});

test('latencyThreads: 1 by default (as stock TF.js runs wasm); HMF_LATENCY_THREADS sets it; nonsense is a usage error naming it', () => {
  withEnv('HMF_LATENCY_THREADS', undefined, () => assert.equal(latencyThreads(), 1));
  withEnv('HMF_LATENCY_THREADS', '2', () => assert.equal(latencyThreads(), 2));
  for (const bad of ['0', 'x', '2.5']) withEnv('HMF_LATENCY_THREADS', bad, () => assert.throws(() => latencyThreads(), (e: unknown) => e instanceof UsageError && e.message.includes('HMF_LATENCY_THREADS') && e.message.includes(bad)));
});
