import { tf } from './tf.js';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { UsageError } from './errors.js';
import { releaseWasmWorkers, withWasmThreads } from './wasmThreads.js';

const requireModule = createRequire(import.meta.url);

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let active: BackendName | undefined;

/**
 * Selects the TF.js backend (docs/ARCHITECTURE.md §6): tfjs-node where it loads, else wasm,
 * else cpu. `preferred` forces one and fails if it cannot be used.
 * Returns the name of the backend in use. Safe to call more than once.
 */
export function initBackend(preferred?: BackendName): Promise<BackendName> {
  // One at a time: compress() starts the backend while it reads the model and may fail
  // before awaiting it; a second call meanwhile would set the backend up twice at once
  // (found by scripts/fuzz.ts: a compress() right after a rejected one failed internally).
  const run = initializing.then(() => initBackendNow(preferred));
  initializing = run.catch(() => {});
  return run;
}

let initializing: Promise<unknown> = Promise.resolve();

async function initBackendNow(preferred?: BackendName): Promise<BackendName> {
  // Bad thread settings fail here, before any work (and not inside the loop, which would take them for a backend failure).
  wantedWasmThreads();
  latencyThreads();
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

/** Largest XNNPACK pool hmf asks for (the build allows 8; scaling was measured on 2 cores only). */
const MAX_WASM_THREADS = 4;

/**
 * Threads for the wasm backend: HMF_WASM_THREADS when set (1 = the single-threaded
 * build), else one per core, at most MAX_WASM_THREADS either way.
 */
export function wantedWasmThreads(): number {
  return Math.min(threadsFromEnv('HMF_WASM_THREADS') ?? availableParallelism(), MAX_WASM_THREADS);
}

/**
 * Threads latency is timed on: HMF_LATENCY_THREADS when set, else 1 (stock TF.js's wasm in
 * Node, and in browsers that are not cross-origin isolated); at most the backend's own.
 */
export function latencyThreads(): number {
  return threadsFromEnv('HMF_LATENCY_THREADS') ?? 1;
}

/** A positive integer from environment variable `name`; undefined when unset or empty; UsageError otherwise. */
function threadsFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name}: expected a positive integer (a thread count), found "${raw}"`);
  return n;
}

/**
 * Lowers the wasm backend's XNNPACK pool to `threads` from here on (never raises it; other
 * backends are left as they are) and returns the count in use. Many small ops run faster
 * on one thread, where waking the pool costs more than it saves (a fine-tuning step:
 * char-lstm 510 -> 456 ms, sentiment-gru 272 -> 213 ms, sentiment-mlp 19.0 -> 14.2 ms),
 * and stock TF.js runs wasm on one thread in Node and in browsers that are not
 * cross-origin isolated, so latency is timed so. The replaced pool is not freed
 * (the build exports no way to): its idle thread stays until the process ends.
 */
export function limitBackendThreads(threads: number): number {
  const current = backendThreads();
  const tfjs = wasmApi();
  if (tfjs?.initWithThreadsCount && threads >= 1 && threads < current) tfjs.initWithThreadsCount(threads);
  return backendThreads();
}

/** The part of tfjs-backend-wasm's module API used here (threads). */
interface WasmApi {
  getThreadsCount?: () => number;
  initWithThreadsCount?: (n: number) => void;
}

function wasmApi(): WasmApi | undefined {
  if (tf.getBackend() !== 'wasm') return undefined;
  return (tf.backend() as unknown as { wasm?: { tfjs?: WasmApi } }).wasm?.tfjs;
}

/** Threads the active wasm backend computes on (1 for other backends or the plain build). */
export function backendThreads(): number {
  return wasmApi()?.getThreadsCount?.() ?? 1;
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
