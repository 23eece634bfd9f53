import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { LayerTiming } from './latency.js';

/**
 * Layer micro-benchmark results kept between runs on this machine, by the backend, its
 * thread count, the TF.js version, the CPU and the layer's shapes and structures: the same
 * command then plans the same way every time (byte-identical files, DESIGN.md §5) instead
 * of flipping a close call with the machine's noise, and repeated runs skip the timing.
 * In `$HMF_CACHE/latency.json`, else `$XDG_CACHE_HOME/hmf/` or `~/.cache/hmf/`;
 * `HMF_LATENCY_CACHE=off` measures afresh and keeps nothing; `HMF_LATENCY_CACHE=<file>` keeps them there. A file that cannot be read or
 * written is ignored: the cache only saves time.
 */
export class LatencyCache {
  private readonly entries: Record<string, LayerTiming>;
  private readonly path: string | null;
  private readonly prefix: string;
  private dirty = false;

  constructor(context: { backend: string; threads: number; tfjs: string }, path: string | null = defaultCachePath()) {
    this.path = path;
    this.prefix = `${context.backend}/${context.threads}/${context.tfjs}/${cpus()[0]?.model ?? 'cpu'}|`;
    this.entries = path ? readEntries(path) : {};
  }

  get(key: string): LayerTiming | undefined {
    return this.entries[this.prefix + key];
  }

  set(key: string, timing: LayerTiming): void {
    this.entries[this.prefix + key] = timing;
    this.dirty = true;
  }

  /** Writes the entries (merged with what other runs wrote meanwhile) by an atomic rename. */
  save(): void {
    if (!this.path || !this.dirty) return;
    try {
      const merged = { ...readEntries(this.path), ...this.entries };
      mkdirSync(dirname(this.path), { recursive: true });
      const temp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(temp, JSON.stringify(merged));
      renameSync(temp, this.path);
      this.dirty = false;
    } catch {
      // A cache that cannot be written costs only time.
    }
  }
}

function readEntries(path: string): Record<string, LayerTiming> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, LayerTiming>) : {};
  } catch {
    return {};
  }
}

export function defaultCachePath(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.HMF_LATENCY_CACHE === 'off') return null;
  if (env.HMF_LATENCY_CACHE) return env.HMF_LATENCY_CACHE;
  const base = env.HMF_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hmf');
  return join(base, 'latency.json');
}
