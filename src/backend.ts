import { tf } from './tf.js';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { UsageError } from './errors.js';
import { releaseWasmWorkers, withWasmThreads } from './wasmThreads.js';

const requireModule = createRequire(import.meta.url);

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let active: BackendName | undefined;

/**
 * Selects the TF.js backend (DESIGN.md §6): tfjs-node where it loads, else wasm,
 * else cpu. `preferred` forces one and fails if it cannot be used.
 * Returns the name of the backend in use. Safe to call more than once.
 */
export async function initBackend(preferred?: BackendName): Promise<BackendName> {
  const order: BackendName[] = preferred ? [preferred] : ['tensorflow', 'wasm', 'cpu'];
  const failures: string[] = [];
  for (const name of order) {
    if (active === name) return name;
    try {
      if (name === 'tensorflow') await import('@tensorflow/tfjs-node' as string);
      if (name === 'wasm' && (await setWasmBackend())) {
        active = name;
        return name;
      }
      if (name !== 'wasm' && (await tf.setBackend(name))) {
        await tf.ready();
        active = name;
        return name;
      }
      failures.push(`${name}: setBackend returned false`);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new UsageError(`--backend: no usable TF.js backend (${failures.join('; ')})`);
}

/** Largest XNNPACK pool the wasm backend is given (its own cap). */
const MAX_WASM_THREADS = 4;

/**
 * Threads for the wasm backend: HMF_WASM_THREADS when set (1 = the single-threaded
 * build), else one per core up to MAX_WASM_THREADS.
 */
export function wantedWasmThreads(): number {
  const raw = process.env.HMF_WASM_THREADS;
  const n = raw === undefined || raw === '' ? availableParallelism() : Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_WASM_THREADS) : 1;
}

/** Threads the active wasm backend computes on (1 for other backends or the plain build). */
export function backendThreads(): number {
  if (tf.getBackend() !== 'wasm') return 1;
  const tfjs = (tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } }).wasm?.tfjs;
  return tfjs?.getThreadsCount?.() ?? 1;
}

/** The wasm backend, threaded when more than one thread is wanted and that works, else the plain SIMD build. */
async function setWasmBackend(): Promise<boolean> {
  requireModule('@tensorflow/tfjs-backend-wasm'); // registers the backend; require() for the reason in tf.ts
  const threads = wantedWasmThreads();
  if (threads > 1) {
    try {
      if (await withWasmThreads(threads, () => tf.setBackend('wasm'))) {
        await tf.ready();
        releaseWasmWorkers((tf.backend() as unknown as { wasm: unknown }).wasm);
        return true;
      }
    } catch {
      // fall through to the single-threaded build
    }
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  }
  if (!(await tf.setBackend('wasm'))) return false;
  await tf.ready();
  return true;
}
