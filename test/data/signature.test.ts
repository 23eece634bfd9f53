import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dataSignatures } from '../../src/data/index.js';
import { readModel, type ModelFile } from '../../src/io/index.js';
import { repoRoot } from '../helpers.js';

const layers = (topology: unknown): ModelFile => ({ json: { modelTopology: topology }, format: 'layers-model', weights: [], path: '/m/model.json' });

describe('dataSignatures', () => {
  it('an open sequence length in a Sequential model becomes null again', () => {
    const model = layers({ class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Embedding', config: { name: 'emb', batch_input_shape: [null, null], input_dim: 50 } }] } });
    const sigs = dataSignatures(model, [{ name: 'emb_input', shape: [32], dtype: 'int32', vocab: 50 }]);
    assert.deepEqual(sigs, [{ name: 'emb_input', shape: [null], dtype: 'int32', vocab: 50 }]);
  });

  it('functional models: InputLayer shapes by input name', () => {
    const model = layers({
      class_name: 'Model',
      config: {
        name: 'f',
        layers: [
          { class_name: 'InputLayer', name: 'a', config: { name: 'a', batch_input_shape: [null, 4] } },
          { class_name: 'InputLayer', name: 'b', config: { name: 'b', batch_input_shape: [null, null, 3] } },
        ],
        input_layers: [['a', 0, 0], ['b', 0, 0]],
      },
    });
    const sigs = dataSignatures(model, [
      { name: 'a', shape: [4], dtype: 'float32' },
      { name: 'b', shape: [32, 3], dtype: 'float32' },
    ]);
    assert.deepEqual(sigs.map((s) => s.shape), [[4], [null, 3]]);
  });

  it('fixed shapes stay; graph models lose the probes\' stand-in vocabulary', async () => {
    const mlp = await readModel(join(repoRoot, 'fixtures', 'sentiment-mlp', 'model.json'));
    assert.deepEqual(dataSignatures(mlp, [{ name: 'hidden1_input', shape: [2000], dtype: 'float32' }])[0].shape, [2000]);
    const graph: ModelFile = {
      json: { modelTopology: { node: [{ name: 'ids', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: '-1' }] } } } }] } },
      format: 'graph-model',
      weights: [],
      path: '/g/model.json',
    };
    assert.deepEqual(dataSignatures(graph, [{ name: 'ids', shape: [16], dtype: 'int32', vocab: 2 }]), [{ name: 'ids', shape: [null], dtype: 'int32' }]);
  });
});
