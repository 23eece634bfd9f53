import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AFFINE_MAX, affineParams, decodesExactly, dequantize, quantizeAffine, roundHalfEven } from '../../src/io/affine.js';

test('roundHalfEven matches numpy round', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.49, -1.5, -2.5, 7].map(roundHalfEven), [0, 2, 2, 3, -2, -2, 7]);
});

test('affineParams nudges the range so that 0 is exactly representable', () => {
  const values = new Float32Array([-0.73, -0.1, 0, 0.2, 1.31]);
  for (const dtype of ['uint8', 'uint16'] as const) {
    const p = affineParams(values, dtype);
    const codes = quantizeAffine(values, p, dtype);
    assert.equal(dequantize(codes[2], p, 'float32'), 0);
    const span = AFFINE_MAX[dtype] * p.scale;
    assert.ok(Math.abs(span - (1.31 + 0.73)) < 1e-6); // float32 inputs
    for (let i = 0; i < values.length; i++) {
      assert.ok(Math.abs(dequantize(codes[i], p, 'float32') - values[i]) <= p.scale / 2 + 1e-6, `value ${i}`);
    }
  }
});

test('affineParams keeps a one-sided range as is and a constant weight at scale 1', () => {
  const pos = affineParams(new Float32Array([0.5, 1, 2]), 'uint8');
  assert.equal(pos.min, 0.5);
  assert.ok(Math.abs(pos.scale - 1.5 / 255) < 1e-15);
  assert.deepEqual(affineParams(new Float32Array([3, 3, 3]), 'uint8'), { scale: 1, min: 3 });
  assert.deepEqual(affineParams(new Float32Array([]), 'uint16'), { scale: 1, min: 0 });
});

test('quantizeAffine clips to the code range and decodesExactly detects values off the grid', () => {
  const p = { scale: 0.5, min: -1 };
  const codes = quantizeAffine(new Float32Array([-5, -1, 0, 126.5, 1000]), p, 'uint8');
  assert.deepEqual([...codes], [0, 0, 2, 255, 255]);
  const onGrid = new Float32Array([-1, 0, 0.5]);
  assert.ok(decodesExactly(quantizeAffine(onGrid, p, 'uint8'), onGrid, p, 'float32'));
  const offGrid = new Float32Array([-1, 0.3]);
  assert.ok(!decodesExactly(quantizeAffine(offGrid, p, 'uint8'), offGrid, p, 'float32'));
  const ints = new Int32Array([-1, 3, 100]);
  assert.ok(decodesExactly(quantizeAffine(ints, p, 'uint16'), ints, p, 'int32'));
});
