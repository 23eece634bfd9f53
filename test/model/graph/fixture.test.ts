import { tf } from '../../../src/tf.js';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../../../src/backend.js';
import { fileLoader, readModel, writeModel, type ModelFile } from '../../../src/io/index.js';
import { graphInputSignatures, graphKernel, rewriteGraph, scanGraph } from '../../../src/model/graph/index.js';
import { repoRoot, tempDir } from '../../helpers.js';
import { exactHmf, exactLmf, maxAbsDiff } from './support.js';

const graphPath = join(repoRoot, 'fixtures', 'graph-mlp', 'model.json');
const layersPath = join(repoRoot, 'fixtures', 'sentiment-mlp', 'model.json');
const INPUT = 'hidden1_input';

async function predictFile(path: string, x: tf.Tensor): Promise<Float32Array> {
  const g = await tf.loadGraphModel(fileLoader(path));
  const y = g.predict(x) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose(y);
  g.dispose();
  return out;
}

describe('graph fixture graph-mlp', () => {
  let x: tf.Tensor2D;
  let model: ModelFile;
  const dirs: string[] = [];

  before(async () => {
    await initBackend('wasm');
    const source = JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'graph-mlp', 'source.json'), 'utf8')) as { test: string };
    const data = JSON.parse(readFileSync(join(repoRoot, 'fixtures', 'graph-mlp', source.test), 'utf8')) as { inputs: number[][] };
    x = tf.tensor2d(data.inputs);
    model = await readModel(graphPath);
  });
  after(() => {
    x.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('is a graph model in the converter format whose predictions equal the layers model on the held-out set', async () => {
    assert.equal(model.format, 'graph-model');
    const ops = (model.json.modelTopology as { node: { op: string }[] }).node.map((n) => n.op);
    for (const op of ['_FusedMatMul', 'MatMul', 'BiasAdd', 'Relu', 'Identity', 'Softmax']) assert.ok(ops.includes(op), `has ${op}`);
    const layers = await tf.loadLayersModel(fileLoader(layersPath));
    const expected = layers.predict(x) as tf.Tensor;
    const got = await predictFile(graphPath, x);
    assert.equal(got.length, 600 * 2);
    assert.ok(maxAbsDiff(got, expected.dataSync()) <= 1e-5, `differs by ${maxAbsDiff(got, expected.dataSync())}`);
    tf.dispose(expected);
    layers.dispose();
  });

  it('scans to the two hidden kernels; the 128x2 output is below --min-params', () => {
    const scan = scanGraph(model, 4096);
    assert.deepEqual(
      scan.targets.map((t) => [t.layer, t.layerClass, t.rows, t.cols]),
      [
        ['StatefulPartitionedCall/sentiment_mlp/hidden1/Relu', '_FusedMatMul', 2000, 256],
        ['StatefulPartitionedCall/sentiment_mlp/hidden2/MatMul', 'MatMul', 256, 128],
      ],
    );
    assert.deepEqual(scan.skipped.map((s) => [s.layer, s.reason]), [['StatefulPartitionedCall/sentiment_mlp/output/BiasAdd', '256 parameters, below --min-params 4096']]);
    assert.deepEqual(scan.unknownOps, []);
  });

  it('exact LMF on one kernel and permuted HMF on the other, written to files, load and reproduce the predictions', async () => {
    const [t1, t2] = scanGraph(model, 4096).targets;
    const dense = Array.from({ length: 40 }, (_, i) => (i * 7) % 128);
    for (const rewrites of [
      [{ target: t1, result: exactLmf(graphKernel(model, t1)) }, { target: t2, result: exactHmf(graphKernel(model, t2), dense) }],
      [{ target: t1, result: exactHmf(graphKernel(model, t1), dense) }, { target: t2, result: exactLmf(graphKernel(model, t2)) }],
    ]) {
      const out = rewriteGraph(model, rewrites);
      const dir = tempDir('hmf-graph-');
      dirs.push(dir);
      await writeModel(out, join(dir, 'out'));
      const got = await predictFile(join(dir, 'out', 'model.json'), x);
      const expected = await predictFile(graphPath, x);
      assert.ok(maxAbsDiff(got, expected) <= 1e-5, `differs by ${maxAbsDiff(got, expected)}`);
      const reread = await readModel(join(dir, 'out', 'model.json'));
      assert.ok(!reread.weights.some((w) => w.name === t1.weight || w.name === t2.weight), 'replaced kernels are gone from the manifest');
    }
  });

  it('graphInputSignatures gives the input without its batch axis', async () => {
    const g = await tf.loadGraphModel(fileLoader(graphPath));
    assert.deepEqual(graphInputSignatures(g), [{ name: INPUT, shape: [2000], dtype: 'float32', batch: null }]);
    g.dispose();
  });
});
