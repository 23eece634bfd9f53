import * as tf from '@tensorflow/tfjs';
import { UsageError } from './errors.js';

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
      if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend(name)) {
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
