import type { tf } from '../tf.js';
import type { WireTensor } from './page.js';

/** A Node tensor as it crosses into the page: plain numbers (bool as 0/1) or strings, its dtype kept. */
export async function toWire(t: tf.Tensor): Promise<WireTensor> {
  const dtype = t.dtype === 'int32' || t.dtype === 'bool' || t.dtype === 'string' ? t.dtype : 'float32';
  const values = dtype === 'string' ? ((await t.array()) as unknown[]).flat(Infinity as 1) : Array.from(await t.data());
  return { shape: [...t.shape], dtype, values: values as (number | string)[] };
}
