/**
 * Multi-threaded TF.js wasm in Node. The wasm backend ships a threaded SIMD build
 * (XNNPACK on a pthread pool) but only enables it in browsers
 * (tensorflow/tfjs#3830): in Node its flag is false, and the build's loader passes
 * its pthread worker script and its own source to the workers as Blob URLs, which
 * Node's worker_threads cannot start or read. Its glue does handle Node otherwise.
 *
 * withWasmThreads() bridges exactly those gaps, for the duration of one
 * `tf.setBackend('wasm')`: the two Blobs the loader makes are written to files (named by
 * their content, in the temp folder) and their Blob URLs replaced by those paths; since
 * the pool size comes from navigator.hardwareConcurrency / 2 (os.cpus() in Node, halved
 * for hyper-threading), os.cpus() reports twice the wanted thread count meanwhile; and
 * the workers the loader pre-starts are LazyWorkers. Everything patched is restored
 * before it returns.
 *
 * Results do not depend on the thread count: XNNPACK splits products and convolutions
 * by output tiles, each output is accumulated by one thread in the same order (tests).
 */
import { tf } from './tf.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import type { TransferListItem, Worker } from 'node:worker_threads';

/** The loader's variable name for its own source, which it hands to each pthread worker. */
const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';
/** How the loader's pthread worker script begins. */
const WORKER_PREFIX = '"use strict";var Module={};';
/** The glue's bundled names for Node modules (rollup's require$$N), which its source refers to. */
const FACTORY_PRELUDE =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";

type WorkerClass = new (path: string) => Worker;

/**
 * A pool worker that starts its thread only when it is first given a thread to run.
 * The loader starts 8 workers and waits until each has loaded the module, though the
 * pool uses threads - 1 of them: starting the other Node threads cost ~0.1 s of every
 * start and ~0.25 CPU seconds. Until then it answers the "load" message itself and keeps
 * it; on the first other message it starts the thread and sends both, in order (the
 * thread runs the second once loaded, see LOAD_BEFORE_RUN, so nothing waits on this
 * thread: the pool's creation blocks it), and drops the thread's own "loaded".
 */
class LazyWorker extends EventEmitter {
  private real: Worker | null = null;
  private load: { msg: unknown; transfer?: readonly TransferListItem[] } | null = null;
  private referenced = true;
  private dropLoaded = false;

  constructor(
    private readonly path: string,
    private readonly NodeWorker: WorkerClass,
  ) {
    super();
  }

  postMessage(msg: unknown, transfer?: readonly TransferListItem[]): void {
    if (this.real) return this.real.postMessage(msg, transfer);
    if (this.load === null && (msg as { cmd?: unknown } | null)?.cmd === 'load') {
      this.load = { msg, transfer };
      setImmediate(() => this.emit('message', { cmd: 'loaded' }));
      return;
    }
    const w = new this.NodeWorker(this.path);
    w.on('message', (m: { cmd?: unknown } | null) => {
      if (this.dropLoaded && m?.cmd === 'loaded') this.dropLoaded = false;
      else this.emit('message', m);
    });
    w.on('error', (e) => this.emit('error', e));
    if (!this.referenced) w.unref();
    this.real = w;
    if (this.load) {
      this.dropLoaded = true;
      w.postMessage(this.load.msg, this.load.transfer);
      this.load = null;
    }
    w.postMessage(msg, transfer);
  }

  ref(): void {
    this.referenced = true;
    this.real?.ref();
  }

  unref(): void {
    this.referenced = false;
    this.real?.unref();
  }

  terminate(): Promise<number> {
    return this.real ? this.real.terminate() : Promise.resolve(0);
  }
}

/**
 * Appended to the pthread worker script (LazyWorker): messages that arrive while the
 * module loads are handled once the worker has said "loaded".
 */
const LOAD_BEFORE_RUN = `
;{
  const handle = self.onmessage;
  const post = self.postMessage;
  let loading = false;
  const waiting = [];
  self.postMessage = (msg) => {
    post(msg);
    if (loading && msg && msg.cmd === 'loaded') {
      loading = false;
      for (const e of waiting.splice(0)) handle(e);
    }
  };
  self.onmessage = (e) => {
    if (loading) return void waiting.push(e);
    if (e.data && e.data.cmd === 'load') loading = true;
    handle(e);
  };
}
`;

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
  // Fails here, before anything is patched, where the files could not be written.
  const dir = wasmFilesDir();
  const texts = new WeakMap<Blob, string>();
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL.bind(URL);
  const realCpus = os.cpus;
  let factoryPath: string | undefined;
  const RecordingBlob = class extends RealBlob {
    constructor(parts: ConstructorParameters<typeof Blob>[0] = [], options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts, options);
      const text = parts.map((p) => (typeof p === 'string' ? p : '')).join('');
      // Only the loader's two Blobs: any other made meanwhile (an app's own) is left alone.
      if (text.startsWith(FACTORY_PREFIX) || text.startsWith(WORKER_PREFIX)) texts.set(this, text);
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
    return contentFile(dir, patch + text + LOAD_BEFORE_RUN, '.cjs');
  };
  // The glue sets the global Worker to worker_threads' and then starts its pool with it:
  // it gets LazyWorker instead, backed by that class.
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  let NodeWorker: WorkerClass | undefined;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () =>
      class extends LazyWorker {
        constructor(path: string) {
          if (!NodeWorker) throw new Error('wasm threads: the loader did not set its Worker class');
          super(path, NodeWorker);
        }
      },
    set: (w: WorkerClass) => {
      NodeWorker = w;
    },
  });
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
    // As the glue leaves it: its own Worker global (a thread it starts later is a plain one).
    if (workerDescriptor) Object.defineProperty(globalThis, 'Worker', workerDescriptor);
    else if (NodeWorker) Object.defineProperty(globalThis, 'Worker', { configurable: true, writable: true, value: NodeWorker });
    else delete (globalThis as { Worker?: unknown }).Worker;
  }
}

/**
 * After the threaded backend is up: lets the process exit while its pool threads idle
 * (emscripten keeps a worker running a pthread referenced), and drops the spare workers
 * the loader pre-starts (8, where the pool uses threads - 1; LazyWorkers never started).
 */
export function releaseWasmWorkers(module: unknown): void {
  const pthread = (module as PthreadModule).PThread;
  if (!pthread) return;
  for (const w of pthread.runningWorkers) w.unref();
  for (const w of pthread.unusedWorkers) void w.terminate();
  pthread.unusedWorkers.length = 0;
}

/**
 * Where the loader's scripts are kept (content-addressed, shared by every run): the user's
 * cache folder ($XDG_CACHE_HOME or ~/.cache, then hmf/), or the system temp folder where
 * that cannot be written. Not the temp folder first: a file a run leaves there looks
 * like litter (tests must leave the temp folder as they found it).
 */
function wasmFilesDir(): string {
  const name = `tfjs-wasm-${tf.version.tfjs}`;
  const cache = process.env.XDG_CACHE_HOME || join(os.homedir(), '.cache');
  const dir = join(cache, 'hmf', name);
  try {
    mkdirSync(dir, { recursive: true });
    return dir;
  } catch {
    const fallback = join(os.tmpdir(), `hmf-${name}`);
    mkdirSync(fallback, { recursive: true });
    return fallback;
  }
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
