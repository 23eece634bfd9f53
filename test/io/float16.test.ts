import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { tf } from '../../src/tf.js';
import { initBackend } from '../../src/backend.js';
import { HALF_MAX, floatToHalf, halfToFloat } from '../../src/io/float16.js';

before(async () => {
  await initBackend();
});

test('halfToFloat agrees with TF.js float16 dequantization on all 65536 codes', () => {
  const codes = new Uint16Array(65536);
  for (let h = 0; h < 65536; h++) codes[h] = h;
  const decoded = tf.io.decodeWeights(codes.buffer, [
    { name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } },
  ]);
  const stock = decoded.h.dataSync() as Float32Array;
  decoded.h.dispose();
  for (let h = 0; h < 65536; h++) {
    const mine = halfToFloat(h);
    if (Number.isNaN(mine)) assert.ok(Number.isNaN(stock[h]), `code ${h}`);
    else assert.ok(Object.is(Math.fround(mine), stock[h]), `code ${h}: ${mine} vs ${stock[h]}`);
  }
});

test('floatToHalf inverts halfToFloat on every non-NaN code', () => {
  for (let h = 0; h < 65536; h++) {
    const v = halfToFloat(h);
    if (Number.isNaN(v)) {
      assert.equal(floatToHalf(v) & 0x7c00, 0x7c00);
      assert.notEqual(floatToHalf(v) & 0x3ff, 0);
    } else {
      assert.equal(floatToHalf(v), h, `code ${h} (${v})`);
    }
  }
});

test('floatToHalf rounds to nearest, ties to even, in normal and subnormal range', () => {
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie -> even (down)
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
  assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -20), 0x3c01); // above the tie
  assert.equal(floatToHalf(2 ** -25), 0x0000); // half the smallest subnormal: tie -> 0
  assert.equal(floatToHalf(3 * 2 ** -25), 0x0002); // tie between codes 1 and 2 -> 2
  assert.equal(floatToHalf(-(2 ** -24)), 0x8001);
  assert.equal(floatToHalf(2 ** -14 - 2 ** -26), 0x0400); // rounds up from subnormal into the first normal
  assert.equal(floatToHalf(65519), 0x7bff);
  assert.equal(halfToFloat(0x7bff), HALF_MAX);
  assert.equal(floatToHalf(65520), 0x7c00); // overflows to +Infinity
  assert.equal(floatToHalf(-1e6), 0xfc00);
  assert.equal(floatToHalf(1e-10), 0);
});
