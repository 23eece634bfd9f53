import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertFinite } from '../../src/io/codec.js';

const entry = { name: 'dense/kernel', shape: [11], dtype: 'float32' as const };

test('assertFinite finds NaN and ±Infinity at every position, the unrolled body and the tail alike', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (let at = 0; at < 11; at++) {
      const values = Float32Array.from({ length: 11 }, (_, i) => (i % 3) - 1.5);
      values[at] = bad;
      assert.throws(() => assertFinite(values, entry, 'model.json'), (err: Error) => err.message.includes(`found ${bad} at flat index ${at}`), `${bad} at ${at}`);
    }
  }
});

test('assertFinite reports the first of several non-finite values and counts them all', () => {
  const values = new Float32Array(11);
  values[9] = NaN;
  values[2] = -Infinity;
  values[10] = Infinity;
  assert.throws(() => assertFinite(values, entry, 'model.json'), /found -Infinity at flat index 2 \(3 non-finite values in all\)/);
});

test('assertFinite accepts finite values, the largest float32 and -0 included', () => {
  const values = Float32Array.from([3.4028234663852886e38, -3.4028234663852886e38, -0, 1e-45, 0, 1, 2, 3, 4]);
  assert.doesNotThrow(() => assertFinite(values, entry, 'model.json'));
  assert.doesNotThrow(() => assertFinite(new Float32Array(0), entry, 'model.json'));
});
