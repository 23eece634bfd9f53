import { tf } from '../../src/tf.js';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../src/backend.js';
import { batchLabels, batchRanges, batchTensors, parseData } from '../../src/data/index.js';

describe('batches', () => {
  before(async () => {
    await initBackend();
  });

  const data = parseData(
    JSON.stringify({ inputs: { a: [[1, 2], [3, 4], [5, 6]], b: [7, 8, 9] }, labels: [0, 1, 1] }),
    'd.json',
    [
      { name: 'a', shape: [2], dtype: 'float32' },
      { name: 'b', shape: [], dtype: 'int32' },
    ],
  );

  it('ranges cover every example once', () => {
    assert.deepEqual(batchRanges(5, 2), [{ start: 0, end: 2 }, { start: 2, end: 4 }, { start: 4, end: 5 }]);
    assert.deepEqual(batchRanges(4, 4), [{ start: 0, end: 4 }]);
  });

  it('one tensor per input with the batch axis first, dtypes kept', () => {
    const [a, b] = batchTensors(data, 1, 3);
    assert.deepEqual(a.shape, [2, 2]);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(Array.from(a.dataSync()), [3, 4, 5, 6]);
    assert.deepEqual(b.shape, [2]);
    assert.equal(b.dtype, 'int32');
    assert.deepEqual(Array.from(b.dataSync()), [8, 9]);
    tf.dispose([a, b]);
    assert.deepEqual(Array.from(batchLabels(data, 1, 3)!), [1, 1]);
  });

  it('a fixed batch size is filled with copies of the last example', () => {
    const [a, b] = batchTensors(data, 2, 3, 3);
    assert.deepEqual(a.shape, [3, 2]);
    assert.deepEqual(Array.from(a.dataSync()), [5, 6, 5, 6, 5, 6]);
    assert.deepEqual(Array.from(b.dataSync()), [9, 9, 9]);
    tf.dispose([a, b]);
  });
});
