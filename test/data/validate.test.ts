import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseData, type DataSignature } from '../../src/data/index.js';
import { UsageError } from '../../src/errors.js';

const usage = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && err.exitCode === 2 && pattern.test(err.message);
const dense: DataSignature[] = [{ name: 'x', shape: [3], dtype: 'float32' }];
const tokens: DataSignature[] = [{ name: 'ids', shape: [4], dtype: 'int32', vocab: 10 }];
const json = (v: unknown) => JSON.stringify(v);

describe('data files checked against the model', () => {
  it('packs float inputs and class labels into typed arrays', () => {
    const d = parseData(json({ inputs: [[1, 2, 3], [4, 5.5, -6]], labels: [1, 0] }), 'd.json', dense, { output: [2] });
    assert.equal(d.count, 2);
    assert.equal(d.format, 'json');
    assert.deepEqual(d.inputs[0].shape, [3]);
    assert.ok(d.inputs[0].values instanceof Float32Array);
    assert.deepEqual(Array.from(d.inputs[0].values), [1, 2, 3, 4, 5.5, -6]);
    assert.deepEqual(Array.from(d.labels!), [1, 0]);
    assert.deepEqual(d.labelShape, []);
  });

  it('token ids become Int32Array; per-step labels have shape [steps]', () => {
    const d = parseData(json({ inputs: [[1, 2, 3, 0], [9, 9, 0, 0]], labels: [[2, 3, 0, 1], [9, 0, 0, 0]] }), 'lm.json', tokens, { output: [4, 10] });
    assert.ok(d.inputs[0].values instanceof Int32Array);
    assert.deepEqual(Array.from(d.inputs[0].values), [1, 2, 3, 0, 9, 9, 0, 0]);
    assert.deepEqual(d.labelShape, [4]);
    assert.equal(d.labels!.length, 8);
  });

  it('several inputs in signature order', () => {
    const sigs: DataSignature[] = [{ name: 'a', shape: [2], dtype: 'float32' }, { name: 'b', shape: [], dtype: 'int32' }];
    const d = parseData(json({ inputs: { b: [7, 8], a: [[1, 2], [3, 4]] } }), 'm.json', sigs);
    assert.deepEqual(d.inputs.map((i) => i.name), ['a', 'b']);
    assert.deepEqual(Array.from(d.inputs[1].values), [7, 8]);
    assert.deepEqual(d.inputs[1].shape, []);
    assert.equal(d.labels, null);
  });

  it('JSON Lines give the same dataset as JSON', () => {
    const a = parseData(json({ inputs: [[1, 2, 3], [4, 5, 6]], labels: [0, 1] }), 'd.json', dense);
    const b = parseData('{"input": [1, 2, 3], "label": 0}\n{"input": [4, 5, 6], "label": 1}\n', 'd.jsonl', dense);
    assert.equal(b.format, 'jsonl');
    assert.deepEqual(Array.from(b.inputs[0].values), Array.from(a.inputs[0].values));
    assert.deepEqual(Array.from(b.labels!), Array.from(a.labels!));
  });

  it('wrong shape: length, rank, and a scalar where an array is expected', () => {
    assert.throws(() => parseData(json({ inputs: [[1, 2, 3], [1, 2]] }), 'd.json', dense), usage(/^d\.json: inputs\[1\] \(input "x"\): expected shape \[3\]: an array of 3, found an array of 2$/));
    assert.throws(() => parseData(json({ inputs: [[1, 2, 3], [[1], 2, 3]] }), 'd.json', dense), usage(/inputs\[1\]\[0\] \(input "x"\): expected a number, found an array of 1/));
    assert.throws(() => parseData(json({ inputs: [5] }), 'd.json', dense), usage(/inputs\[0\] \(input "x"\): expected shape \[3\]: an array of 3, found number 5/));
    const grid: DataSignature[] = [{ name: 'g', shape: [2, 2], dtype: 'float32' }];
    assert.throws(() => parseData(json({ inputs: [[[1, 2], [3]]] }), 'd.json', grid), usage(/inputs\[0\]\[1\] \(input "g"\): expected an array of 2 \(axis 1 of shape \[2, 2\]\), found an array of 1/));
  });

  it('JSON Lines errors name the line', () => {
    assert.throws(() => parseData('{"input": [1, 2, 3]}\n\n{"input": [1, 2]}\n', 'd.jsonl', dense), usage(/^d\.jsonl: line 3: input \(input "x"\): expected shape \[3\]/));
    assert.throws(() => parseData('{"input": [1, 2, 3], "label": 0}\n{"input": [1, 2, 3], "label": 5}\n', 'd.jsonl', dense, { output: [2] }), usage(/line 2: label: expected an integer class id in \[0, 2\), found 5/));
  });

  it('wrong dtype: non-integer token ids, ids out of [0, vocab), strings, booleans', () => {
    assert.throws(() => parseData(json({ inputs: [[1, 2, 3.5, 0]] }), 'd.json', tokens), usage(/inputs\[0\]\[2\] \(input "ids"\): expected an integer token id in \[0, 10\), found 3\.5/));
    assert.throws(() => parseData(json({ inputs: [[1, 2, 3, 10]] }), 'd.json', tokens), usage(/inputs\[0\]\[3\] \(input "ids"\): expected an integer token id in \[0, 10\), found 10/));
    assert.throws(() => parseData(json({ inputs: [[-1, 2, 3, 0]] }), 'd.json', tokens), usage(/found -1/));
    assert.throws(() => parseData(json({ inputs: [[1, '2', 3]] }), 'd.json', dense), usage(/inputs\[0\]\[1\] \(input "x"\): expected a number, found a string "2"/));
    assert.throws(() => parseData(json({ inputs: [[1, true, 3]] }), 'd.json', dense), usage(/expected a number, found boolean true/));
    const ints: DataSignature[] = [{ name: 'n', shape: [1], dtype: 'int32' }];
    assert.throws(() => parseData(json({ inputs: [[0.5]] }), 'd.json', ints), usage(/expected an integer \(int32 input\), found 0\.5/));
    assert.throws(() => parseData(json({ inputs: [[2 ** 31]] }), 'd.json', ints), usage(/expected an integer \(int32 input\), found 2147483648/));
  });

  it('NaN and Infinity (null in JSON, or numbers too large for a double)', () => {
    assert.throws(() => parseData(json({ inputs: [[1, NaN, 3]] }), 'd.json', dense), usage(/inputs\[0\]\[1\] \(input "x"\): expected a number, found null \(JSON\.stringify writes NaN and Infinity as null\)/));
    assert.throws(() => parseData('{"inputs": [[1, 1e999, 3]]}', 'd.json', dense), usage(/inputs\[0\]\[1\] \(input "x"\): expected a finite number, found Infinity/));
  });

  it('unknown lengths accept any length, but every example must agree', () => {
    const open: DataSignature[] = [{ name: 'ids', shape: [null], dtype: 'int32', vocab: 10 }];
    const d = parseData(json({ inputs: [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]] }), 'd.json', open);
    assert.deepEqual(d.inputs[0].shape, [5]);
    assert.throws(
      () => parseData(json({ inputs: [[1, 2, 3, 4, 5], [5, 4]] }), 'd.json', open),
      usage(/inputs\[1\] \(input "ids"\): expected shape \[\?\]: an array of 5 \(an axis of unknown length: every example must have the length of the first, 5\), found an array of 2/),
    );
    assert.throws(() => parseData(json({ inputs: [[]] }), 'd.json', open), usage(/a non-empty array/));
  });

  it('labels out of range of the output, not integers, or of the wrong shape', () => {
    const x = [[1, 2, 3], [4, 5, 6]];
    assert.throws(() => parseData(json({ inputs: x, labels: [0, 2] }), 'd.json', dense, { output: [2] }), usage(/^d\.json: labels\[1\]: expected an integer class id in \[0, 2\), found 2$/));
    assert.throws(() => parseData(json({ inputs: x, labels: [0, -1] }), 'd.json', dense, { output: [3] }), usage(/labels\[1\]: expected an integer class id in \[0, 3\), found -1/));
    assert.throws(() => parseData(json({ inputs: x, labels: [0, 0.5] }), 'd.json', dense, { output: [2] }), usage(/labels\[1\]: expected an integer class id in \[0, 2\), found 0\.5/));
    assert.throws(() => parseData(json({ inputs: x, labels: [[0, 1], [1, 0]] }), 'd.json', dense, { output: [2] }), usage(/labels\[0\]: expected an integer class id in \[0, 2\), found an array of 2/));
    assert.throws(() => parseData(json({ inputs: x, labels: [1, 0] }), 'd.json', dense, { output: [3, 5] }), usage(/labels\[0\]: expected an array of per-step target ids \(the model's output has shape \[3, 5\] per example\): an array of 3, found number 1/));
    assert.throws(() => parseData(json({ inputs: x, labels: [[1, 2, 3], [1, 2]] }), 'd.json', dense, { output: [null, 5] }), usage(/labels\[1\]: expected .*an array of 3 \(an axis of unknown length/));
    // A single sigmoid unit takes labels 0 and 1.
    assert.deepEqual(Array.from(parseData(json({ inputs: x, labels: [1, 0] }), 'd.json', dense, { output: [1] }).labels!), [1, 0]);
    assert.throws(() => parseData(json({ inputs: x, labels: [1, 2] }), 'd.json', dense, { output: [1] }), usage(/in \[0, 2\), found 2/));
  });

  it('without the output, labels are only checked to be non-negative integers of one shape', () => {
    const x = [[1, 2, 3], [4, 5, 6]];
    assert.deepEqual(parseData(json({ inputs: x, labels: [[1, 7], [3, 4]] }), 'd.json', dense).labelShape, [2]);
    assert.throws(() => parseData(json({ inputs: x, labels: [1, -3] }), 'd.json', dense), usage(/labels\[1\]: expected an integer class id >= 0, found -3/));
  });
});
