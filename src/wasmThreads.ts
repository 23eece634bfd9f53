/**
 * Multi-threaded TF.js wasm in Node. The wasm backend ships a threaded SIMD build
 * (XNNPACK on a pthread pool) but only enables it in browsers
 * (tensorflow/tfjs#3830): in Node its flag is false, and the build's loader passes
 * its pthread worker script and its own source to the workers as Blob URLs, which
 * Node's worker_threads cannot start or read. Its glue does handle Node otherwise.
 *
 * enableWasmThreads() bridges exactly those gaps, for the duration of one
 * `tf.setBackend('wasm')`: the two Blobs the loader makes are written to files (named by
 * their content, in the temp folder) and their Blob URLs replaced by those paths; and
 * since the pool size comes from navigator.hardwareConcurrency / 2 (os.cpus() in Node,
 * halved for hyper-threading), os.cpus() reports twice the wanted thread count meanwhile.
 * Everything patched is restored before it returns.
 *
 * Results do not depend on the thread count: XNNPACK splits products and convolutions
 * by output tiles, each output is accumulated by one thread in the same order (tests).
 */
import { tf } from './tf.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';

/** The loader's variable name for its own source, which it hands to each pthread worker. */
const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';
/** The glue's bundled names for Node modules (rollup's require$$N), which its source refers to. */
const FACTORY_PRELUDE =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";

/** The part of the emscripten module the release below needs. */
interface PthreadModule {
  PThread?: { unusedWorkers: Worker[]; runningWorkers: Worker[] };
}

/**
 * Sets up the next `tf.setBackend('wasm')` for `threads` threads and runs `init`, which
 * must make that call. Returns what `init` returns. Throws (after restoring everything)
 * if `init` throws; the caller then falls back to the single-threaded build.
 */
export async function withWasmThreads<T>(threads: number, init: () => Promise<T>): Promise<T> {
  const dir = join(os.tmpdir(), `hmf-tfjs-wasm-${tf.version.tfjs}`);
  // Fails here, before anything is patched, where the files could not be written.
  mkdirSync(dir, { recursive: true });
  const texts = new WeakMap<Blob, string>();
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL.bind(URL);
  const realCpus = os.cpus;
  let factoryPath: string | undefined;
  const RecordingBlob = class extends RealBlob {
    constructor(parts: ConstructorParameters<typeof Blob>[0] = [], options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts, options);
      const text = parts.map((p) => (typeof p === 'string' ? p : '')).join('');
      texts.set(this, text);
      if (text.startsWith(FACTORY_PREFIX)) factoryPath = contentFile(dir, FACTORY_PRELUDE + text, '.js');
    }
  };
  globalThis.Blob = RecordingBlob;
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined) return realCreate(blob);
    if (factoryPath === undefined) throw new Error('wasm threads: the pthread worker came before the module source');
    // The worker turns the module source it is sent (a Blob) into a URL and reads that file.
    const patch = `URL.createObjectURL = () => ${JSON.stringify(factoryPath)}; URL.revokeObjectURL = () => {};\n`;
    return contentFile(dir, patch + text, '.cjs');
  };
  const cpu = realCpus()[0];
  os.cpus = () => Array.from({ length: 2 * threads }, () => cpu);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  try {
    return await init();
  } catch (err) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    throw err;
  } finally {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreate;
    os.cpus = realCpus;
  }
}

/**
 * After the threaded backend is up: lets the process exit while its pool threads idle
 * (emscripten keeps a worker running a pthread referenced), and ends the spare workers
 * the loader pre-starts (8, where the pool uses threads - 1).
 */
export function releaseWasmWorkers(module: unknown): void {
  const pthread = (module as PthreadModule).PThread;
  if (!pthread) return;
  for (const w of pthread.runningWorkers) w.unref();
  for (const w of pthread.unusedWorkers) void w.terminate();
  pthread.unusedWorkers.length = 0;
}

/** Writes `text` once to dir/<hash><ext> (atomically: temp file, then rename) and returns the path. */
function contentFile(dir: string, text: string, ext: string): string {
  const path = join(dir, createHash('sha256').update(text).digest('hex').slice(0, 16) + ext);
  if (existsSync(path)) return path;
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
  return path;
}
