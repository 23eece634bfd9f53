import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataText } from '../../src/data/parse.js';
import { UsageError } from '../../src/errors.js';

const usage = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && err.exitCode === 2 && pattern.test(err.message);

describe('parseDataText', () => {
  it('reads a JSON object with inputs and labels', () => {
    const raw = parseDataText('{"inputs": [[1, 2], [3, 4]], "labels": [0, 1]}', 'd.json', ['x']);
    assert.equal(raw.format, 'json');
    assert.equal(raw.count, 2);
    assert.deepEqual(raw.inputs.get('x'), [[1, 2], [3, 4]]);
    assert.deepEqual(raw.labels, [0, 1]);
    assert.equal(raw.where(1, 'input', 'x'), 'inputs[1]');
    assert.equal(raw.where(1, 'label', 'x'), 'labels[1]');
  });

  it('labels are optional', () => {
    assert.equal(parseDataText('{"inputs": [[1]]}', 'd.json', ['x']).labels, null);
  });

  it('several inputs: an object keyed by input name', () => {
    const raw = parseDataText('{"inputs": {"a": [[1], [2]], "b": [[3, 4], [5, 6]]}}', 'd.json', ['a', 'b']);
    assert.deepEqual(raw.inputs.get('b'), [[3, 4], [5, 6]]);
    assert.equal(raw.where(0, 'input', 'b'), 'inputs.b[0]');
  });

  it('several inputs given as an array, missing or unknown names, counts that differ', () => {
    assert.throws(() => parseDataText('{"inputs": [[1]]}', 'd.json', ['a', 'b']), usage(/d\.json: inputs: the model has 2 inputs: expected an object keyed by input name \(a, b\), found an array/));
    assert.throws(() => parseDataText('{"inputs": {"a": [[1]]}}', 'd.json', ['a', 'b']), usage(/d\.json: inputs: expected the model's inputs a, b, found missing b/));
    assert.throws(() => parseDataText('{"inputs": {"a": [[1]], "b": [[1]], "c": [[1]]}}', 'd.json', ['a', 'b']), usage(/found unknown c/));
    assert.throws(() => parseDataText('{"inputs": {"a": [[1], [2]], "b": [[1]]}}', 'd.json', ['a', 'b']), usage(/inputs\.b: expected 2 examples like inputs\.a, found 1/));
  });

  it('empty data', () => {
    assert.throws(() => parseDataText('', 'd.json', ['x']), usage(/d\.json: empty file/));
    assert.throws(() => parseDataText('  \n', 'd.json', ['x']), usage(/empty file/));
    assert.throws(() => parseDataText('{"inputs": []}', 'd.json', ['x']), usage(/d\.json: inputs: expected at least one example, found none/));
    assert.throws(() => parseDataText('\n\n', 'd.jsonl', ['x']), usage(/empty file/));
  });

  it('labels that do not match the examples', () => {
    assert.throws(() => parseDataText('{"inputs": [[1], [2]], "labels": [0]}', 'd.json', ['x']), usage(/d\.json: labels: expected 2 labels \(one per example in inputs\), found 1/));
    assert.throws(() => parseDataText('{"inputs": [[1]], "labels": 0}', 'd.json', ['x']), usage(/labels: expected an array with one label per example, found number 0/));
  });

  it('the wrong top level or unknown keys', () => {
    assert.throws(() => parseDataText('[[1, 2]]', 'd.json', ['x']), usage(/d\.json: expected an object \{"inputs": \[\.\.\.\], "labels": \[\.\.\.\]\}, found an array of 1/));
    // With "input" it reads as a one-line JSON Lines file.
    assert.throws(() => parseDataText('{"input": [[1]], "labels": [0]}', 'd.json', ['x']), usage(/line 1: unknown key "labels": expected only "input" and "label"/));
    assert.throws(() => parseDataText('{"inputs": [[1]], "extra": 1}', 'd.json', ['x']), usage(/unknown key "extra": expected only "inputs" and "labels"/));
    assert.throws(() => parseDataText('{"inputs": [[1]], "label": [0]}', 'd.json', ['x']), usage(/unknown key "label"/));
    assert.throws(() => parseDataText('{"labels": [0]}', 'd.json', ['x']), usage(/found no "inputs" key/));
  });

  it('malformed JSON names the file and, where the engine says, the line', () => {
    assert.throws(() => parseDataText('{"inputs": [[1, 2],, [3]]}', 'bad.json', ['x']), usage(/^bad\.json: malformed JSON: /));
    assert.throws(() => parseDataText('{"inputs":\n [[1, 2]] x}', 'bad.json', ['x']), usage(/^bad\.json: malformed JSON: .*\(line 2, column 11\)$/));
  });

  it('JSON Lines by extension, with line numbers; blank lines skipped', () => {
    const raw = parseDataText('{"input": [1, 2], "label": 0}\n\n{"input": [3, 4], "label": 1}\n', 'd.jsonl', ['x']);
    assert.equal(raw.format, 'jsonl');
    assert.equal(raw.count, 2);
    assert.deepEqual(raw.inputs.get('x'), [[1, 2], [3, 4]]);
    assert.deepEqual(raw.labels, [0, 1]);
    assert.equal(raw.where(1, 'input', 'x'), 'line 3: input');
    assert.equal(raw.where(1, 'label', 'x'), 'line 3: label');
  });

  it('JSON Lines by content, whatever the extension (also a single line)', () => {
    assert.equal(parseDataText('{"input": [1]}\n{"input": [2]}\n', 'd.json', ['x']).format, 'jsonl');
    const one = parseDataText('{"input": [1], "label": 1}', 'd.txt', ['x']);
    assert.equal(one.format, 'jsonl');
    assert.deepEqual(one.labels, [1]);
  });

  it('JSON Lines with several inputs keyed by name', () => {
    const raw = parseDataText('{"input": {"a": [1], "b": [2, 3]}}\n{"input": {"a": [4], "b": [5, 6]}}', 'd.jsonl', ['a', 'b']);
    assert.deepEqual(raw.inputs.get('b'), [[2, 3], [5, 6]]);
    assert.equal(raw.where(1, 'input', 'b'), 'line 2: input.b');
    assert.throws(() => parseDataText('{"input": [1]}', 'd.jsonl', ['a', 'b']), usage(/line 1: input: the model has 2 inputs/));
  });

  it('malformed JSON Lines name the line', () => {
    assert.throws(() => parseDataText('{"input": [1]}\n{"input": [2]\n', 'd.jsonl', ['x']), usage(/^d\.jsonl: line 2: malformed JSON: .*\(column 14\)$/));
    assert.throws(() => parseDataText('{"input": [1]}\n{"input": [2],}\n', 'd.json', ['x']), usage(/^d\.json: line 2: malformed JSON: /));
    assert.throws(() => parseDataText('{"input": [1]}\n[2]\n', 'd.jsonl', ['x']), usage(/line 2: expected an object \{"input": \.\.\., "label": \.\.\.\}, found an array of 1/));
    assert.throws(() => parseDataText('{"input": [1]}\n{"inputs": [2]}\n', 'd.jsonl', ['x']), usage(/line 2: expected an object/));
  });

  it('JSON Lines: a label on every line or on none', () => {
    assert.throws(
      () => parseDataText('{"input": [1], "label": 0}\n{"input": [2]}\n', 'd.jsonl', ['x']),
      usage(/line 2: every line must have a label or none must: line 1 has one, this line has none/),
    );
  });
});
