import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelFile } from '../../../src/io/index.js';
import { constNode, matMulNode } from '../../../src/model/graph/nodes.js';
import { graphKernel, scanGraph } from '../../../src/model/graph/index.js';
import { LAYER, nodesOf, syntheticGraph } from './support.js';

function addConst(model: ModelFile, name: string, shape: number[], dtype: 'float32' | 'int32' = 'float32'): void {
  const size = shape.reduce((a, b) => a * b, 1);
  nodesOf(model).push(constNode(name, shape, dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32'));
  model.weights.push({ name, shape, dtype, values: dtype === 'float32' ? new Float32Array(size).fill(0.5) : new Int32Array(size) });
}

describe('scanGraph', () => {
  it('finds the MatMul-like node and describes K as used (transpose_b / adj_y honoured)', () => {
    for (const op of ['MatMul', '_FusedMatMul', 'BatchMatMulV2', 'BatchMatMul'] as const) {
      for (const transposeB of [false, true]) {
        const { model } = syntheticGraph({ op, transposeB, n: 30, m: 7, rank3: op.startsWith('Batch') });
        const scan = scanGraph(model, 0);
        assert.deepEqual(scan.targets, [
          { weight: 'dense/kernel', layer: LAYER, layerClass: op, role: 'kernel', rows: 30, cols: 7, orderAbsorbers: null },
        ]);
        assert.deepEqual(scan.skipped, []);
        assert.deepEqual(scan.unknownOps, []);
      }
    }
  });

  it('graphKernel transposes a Const stored as K^T', () => {
    const plain = syntheticGraph({ op: 'MatMul', n: 5, m: 3, seed: 4 });
    const transposed = syntheticGraph({ op: 'MatMul', n: 5, m: 3, seed: 4, transposeB: true });
    const k1 = graphKernel(plain.model, scanGraph(plain.model, 0).targets[0]);
    const k2 = graphKernel(transposed.model, scanGraph(transposed.model, 0).targets[0]);
    assert.deepEqual([k2.rows, k2.cols], [5, 3]);
    assert.deepEqual(k2.data, k1.data);
    assert.deepEqual(k1.data, plain.kernel.data);
    assert.notDeepEqual(transposed.model.weights[0].values, k2.data, 'the stored layout differs from K');
  });

  it('follows Identity nodes between the Const and the MatMul', () => {
    const { model } = syntheticGraph({ op: 'MatMul', identity: true });
    assert.equal(scanGraph(model, 0).targets[0]?.weight, 'dense/kernel');
  });

  it('skips small matrices with the --min-params reason', () => {
    const { model } = syntheticGraph({ op: 'MatMul', n: 24, m: 10 });
    const scan = scanGraph(model, 241);
    assert.deepEqual(scan.targets, []);
    assert.deepEqual(scan.skipped, [{ weight: 'dense/kernel', layer: LAYER, shape: [24, 10], reason: '240 parameters, below --min-params 241' }]);
    assert.equal(scanGraph(model, 240).targets.length, 1);
  });

  it('skips a Const shared by two MatMuls, directly or through one Identity', () => {
    for (const identity of [false, true]) {
      const { model } = syntheticGraph({ op: 'MatMul', identity });
      nodesOf(model).push(matMulNode('other/mm', 'MatMul', 'x', identity ? 'dense/kernel/read' : 'dense/kernel', false, undefined));
      const scan = scanGraph(model, 0);
      assert.deepEqual(scan.targets, []);
      assert.equal(scan.skipped.length, 2);
      for (const s of scan.skipped) {
        assert.equal(s.weight, 'dense/kernel');
        assert.match(s.reason, /shared by 2 nodes/);
      }
    }
  });

  it('skips a Const on the left operand, non-float and non-2-D Consts, and unsupported fused ops, with reasons', () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    addConst(model, 'left', [4, 24]);
    nodesOf(model).push(matMulNode('left/mm', 'MatMul', 'left', 'x', false, undefined));
    addConst(model, 'ints', [24, 6], 'int32');
    nodesOf(model).push(matMulNode('ints/mm', 'MatMul', 'x', 'ints', false, undefined));
    addConst(model, 'cube', [2, 24, 6]);
    nodesOf(model).push(matMulNode('cube/mm', 'BatchMatMulV2', 'x', 'cube', false, undefined));
    const scan = scanGraph(model, 0);
    const reasons = new Map(scan.skipped.map((s) => [s.layer, s.reason]));
    assert.match(reasons.get('left/mm') ?? '', /left operand/);
    assert.match(reasons.get('ints/mm') ?? '', /int32 weights are not compressed/);
    assert.match(reasons.get('cube/mm') ?? '', /expected a 2-D Const, found shape \[2, 24, 6\]/);
    assert.equal(scan.targets.length, 1);

    const gelu = syntheticGraph({ op: '_FusedMatMul', fusedOps: ['BiasAdd', 'GeluExact'] }).model;
    assert.match(scanGraph(gelu, 0).skipped[0]?.reason ?? '', /fused activation "geluexact" is not supported/);
  });

  it('lists ops stock TF.js does not know, and MatMuls inside graph functions, without failing', () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    nodesOf(model).push({ name: 'custom', op: 'MyCustomOp', input: ['x'] });
    const topology = model.json.modelTopology as Record<string, unknown>;
    topology.library = {
      function: [
        {
          signature: { name: 'while_body_1', inputArg: [], outputArg: [] },
          nodeDef: [constNode('body/w', [8, 8], 'DT_FLOAT'), matMulNode('body/mm', 'MatMul', 'arg:output:0', 'body/w:output:0', false, undefined)],
          ret: {},
        },
      ],
    };
    const scan = scanGraph(model, 0);
    assert.deepEqual(scan.unknownOps, [{ layer: 'custom', className: 'MyCustomOp' }]);
    assert.deepEqual(scan.skipped, [
      { weight: 'body/w', layer: 'body/mm', shape: [8, 8], reason: 'inside graph function "while_body_1" (control-flow bodies are not rewritten)' },
    ]);
    assert.equal(scan.targets.length, 1);
  });

  it('finds nothing in a graph without MatMul', () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    const topology = model.json.modelTopology as { node: unknown[] };
    topology.node = nodesOf(model).filter((n) => n.op !== 'MatMul');
    assert.deepEqual(scanGraph(model, 0), { targets: [], skipped: [], unknownOps: [] });
  });

  it('rejects a topology that is not a GraphDef', () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    assert.throws(() => scanGraph({ ...model, json: { ...model.json, modelTopology: [] } }, 0), /expected modelTopology to be a GraphDef/);
    assert.throws(() => scanGraph({ ...model, json: { ...model.json, modelTopology: { node: [{ op: 'X' }] } } }, 0), /node\[0\]/);
  });
});
