/**
 * Exports the trained layers fixture fixtures/sentiment-mlp (Dense 2000->256 relu,
 * 256->128 relu, 128->2 softmax) as a graph model in the format the TF.js converter
 * writes for a Keras SavedModel, into fixtures/graph-mlp/. Same weights, same function.
 * The three Dense layers take the forms the converter emits:
 * - hidden1: _FusedMatMul with fused_ops [BiasAdd, Relu];
 * - hidden2: unfused MatMul + BiasAdd + Relu, the kernel read through an Identity node;
 * - output:  _FusedMatMul with fused_ops [BiasAdd], then Softmax and the output Identity.
 * No meta.json (test/fixtures/ loads every folder that has one as a layers model);
 * source.json says where the model and its held-out data come from.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/export-graph-fixture.js
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel, writeModel, type Weight } from '../src/io/index.js';
import type { NodeDef } from '../src/model/graph/graphdef.js';
import { activationNode, biasAddNode, constNode, fusedMatMulNode, matMulNode } from '../src/model/graph/nodes.js';
import { repoRoot } from '../test/helpers.js';

const SOURCE = join(repoRoot, 'fixtures', 'sentiment-mlp');
export const GRAPH_FIXTURE = join(repoRoot, 'fixtures', 'graph-mlp');
const SCOPE = 'StatefulPartitionedCall/sentiment_mlp';
export const GRAPH_INPUT = 'hidden1_input';

function weightOf(weights: readonly Weight[], name: string): Weight {
  const w = weights.find((x) => x.name === name);
  if (!w) throw new Error(`${SOURCE}: no weight ${name}`);
  return w;
}

async function main(): Promise<void> {
  const layers = await readModel(join(SOURCE, 'model.json'));
  const kernel = (l: string) => weightOf(layers.weights, `${l}/kernel`);
  const bias = (l: string) => weightOf(layers.weights, `${l}/bias`);
  const names = {
    k1: `${SCOPE}/hidden1/MatMul/ReadVariableOp`,
    b1: `${SCOPE}/hidden1/BiasAdd/ReadVariableOp`,
    k2: `${SCOPE}/hidden2/MatMul/ReadVariableOp`,
    b2: `${SCOPE}/hidden2/BiasAdd/ReadVariableOp`,
    k3: `${SCOPE}/output/MatMul/ReadVariableOp`,
    b3: `${SCOPE}/output/BiasAdd/ReadVariableOp`,
  };
  const consts: [string, Weight][] = [
    [names.k1, kernel('hidden1')],
    [names.b1, bias('hidden1')],
    [names.k2, kernel('hidden2')],
    [names.b2, bias('hidden2')],
    [names.k3, kernel('output')],
    [names.b3, bias('output')],
  ];
  const weights: Weight[] = consts.map(([name, w]) => ({ name, shape: [...w.shape], dtype: 'float32', values: w.values }));
  const [n] = kernel('hidden1').shape;
  const classes = kernel('output').shape[1];

  const h1 = `${SCOPE}/hidden1/Relu`;
  const k2Read = `${names.k2}/Identity`;
  const mm2 = `${SCOPE}/hidden2/MatMul`;
  const ba2 = `${SCOPE}/hidden2/BiasAdd`;
  const h2 = `${SCOPE}/hidden2/Relu`;
  const logits = `${SCOPE}/output/BiasAdd`;
  const probs = `${SCOPE}/output/Softmax`;
  const nodes: NodeDef[] = [
    ...consts.map(([name, w]) => constNode(name, w.shape, 'DT_FLOAT')),
    {
      name: GRAPH_INPUT,
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: String(n) }] } } },
    },
    fusedMatMulNode(h1, GRAPH_INPUT, names.k1, [names.b1], ['BiasAdd', 'Relu']),
    { name: k2Read, op: 'Identity', input: [names.k2], attr: { T: { type: 'DT_FLOAT' } } },
    matMulNode(mm2, 'MatMul', h1, k2Read, false, undefined),
    biasAddNode(ba2, mm2, names.b2, undefined),
    activationNode(h2, 'relu', ba2, undefined, {}),
    fusedMatMulNode(logits, h2, names.k3, [names.b3], ['BiasAdd']),
    { name: probs, op: 'Softmax', input: [logits], attr: { T: { type: 'DT_FLOAT' } } },
    { name: 'Identity', op: 'Identity', input: [probs], attr: { T: { type: 'DT_FLOAT' } } },
  ];
  const json = {
    format: 'graph-model',
    generatedBy: 'hmf scripts/export-graph-fixture.ts from fixtures/sentiment-mlp',
    convertedBy: 'hmf scripts/export-graph-fixture.ts (TF.js converter format)',
    signature: {
      inputs: { [GRAPH_INPUT]: { name: `${GRAPH_INPUT}:0`, dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: String(n) }] } } },
      outputs: { output: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: String(classes) }] } } },
    },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1395 } },
  };
  await writeModel({ json, weights }, GRAPH_FIXTURE, { force: true });
  const source = {
    from: '../sentiment-mlp',
    test: '../sentiment-mlp/test.json',
    vocab: '../sentiment-mlp/vocab.json',
    note: 'The sentiment-mlp layers model as a graph model: hidden1 _FusedMatMul(BiasAdd, Relu); hidden2 MatMul (kernel through an Identity) + BiasAdd + Relu; output _FusedMatMul(BiasAdd) + Softmax.',
    producedBy: 'npm run build && node dist/scripts/export-graph-fixture.js',
  };
  writeFileSync(join(GRAPH_FIXTURE, 'source.json'), `${JSON.stringify(source, null, 2)}\n`);
  process.stderr.write(`wrote ${GRAPH_FIXTURE}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
