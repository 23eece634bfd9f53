import { tf } from '../../../src/tf.js';
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../src/backend.js';
import { toArtifacts } from '../../../src/io/index.js';
import { graphInputSignatures } from '../../../src/model/graph/index.js';
import { nodesOf, syntheticGraph } from './support.js';

function placeholder(name: string, dims: number[], dtype: string) {
  return { name, op: 'Placeholder', attr: { dtype: { type: dtype }, shape: { shape: { dim: dims.map((d) => ({ size: String(d) })) } } } };
}

describe('graphInputSignatures', () => {
  before(async () => {
    await initBackend('wasm');
  });

  it('drops the batch axis, fixes unknown dimensions and reports a fixed batch size', async () => {
    const { model } = syntheticGraph({ op: 'MatMul' });
    nodesOf(model).push(placeholder('image', [1, -1, -1, 3], 'DT_FLOAT'), placeholder('ids', [-1, 12], 'DT_INT32'));
    model.json.signature = {
      inputs: {
        x: { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '24' }] } },
        image: { name: 'image:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }, { size: '-1' }, { size: '-1' }, { size: '3' }] } },
        ids: { name: 'ids:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: '-1' }, { size: '12' }] } },
      },
      outputs: { y: { name: 'out:0', dtype: 'DT_FLOAT' } },
    };
    const g = await tf.loadGraphModel(tf.io.fromMemory(toArtifacts(model)));
    const byName = new Map(graphInputSignatures(g, 8).map((s) => [s.name, s]));
    g.dispose();
    assert.deepEqual(byName.get('x'), { name: 'x', shape: [24], dtype: 'float32', batch: null });
    assert.deepEqual(byName.get('image'), { name: 'image', shape: [8, 8, 3], dtype: 'float32', batch: 1 });
    assert.deepEqual(byName.get('ids'), { name: 'ids', shape: [12], dtype: 'int32', batch: null });
  });
});
