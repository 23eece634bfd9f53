/**
 * Writes a graph model that only runs through `executeAsync`: a word classifier whose
 * string input goes through a lookup table (HashTableV2 filled by LookupTableImportV2 in
 * the model's initializer graph, LookupTableFindV2 in the main graph) into sentiment-mlp's
 * real weights. Per word w: ids = table[w] (0 for an unknown word), then
 * softmax(relu(relu(E[ids] + b1) K2 + b2) K3 + b3), where row i+1 of E is row i of
 * sentiment-mlp's hidden1 kernel (the network applied to a one-word sentence).
 *
 * No Python TensorFlow can be installed here (the registries reachable are npm and Debian,
 * neither ships it), so the TF.js converter cannot be run. The graph is written by hand in
 * the converter's exact format, following the converter output that tfjs-converter 4.22
 * itself ships as a test fixture (dist/executor/test_data/hash_table_v2_model_loader.js:
 * a TF 2.11 StaticHashTable SavedModel converted by tensorflowjs): the same node names,
 * ops, attributes, DT_RESOURCE placeholder captured through `signature.inputs[..].resourceId`
 * and `initializerSignature`. Only the table's contents and the classifier after it are ours.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/export-lookup-graph.js <out folder>
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readModel, writeModel, type Weight } from '../src/io/index.js';
import type { NodeDef } from '../src/model/graph/graphdef.js';
import { biasAddNode, constNode, matMulNode } from '../src/model/graph/nodes.js';
import { repoRoot } from '../test/helpers.js';

const SOURCE = join(repoRoot, 'fixtures', 'sentiment-mlp');
/** The string input: a vector of words. */
export const LOOKUP_INPUT = 'input';
/** Resource id the converter gave the table (as in its fixture). */
const RESOURCE_ID = 66;
const T_FLOAT = { type: 'DT_FLOAT' };
const MANUAL = { _has_manual_control_dependencies: { b: true } };

function weightOf(weights: readonly Weight[], name: string): Weight {
  const w = weights.find((x) => x.name === name);
  if (!w) throw new Error(`${SOURCE}: no weight ${name}`);
  return w;
}

function noOp(name: string, inputs: string[] = [], attr: NodeDef['attr'] = MANUAL): NodeDef {
  return { name, op: 'NoOp', ...(inputs.length ? { input: inputs } : {}), attr };
}

function unary(name: string, op: string, x: string): NodeDef {
  return { name, op, input: [x], attr: { T: T_FLOAT } };
}

function identity(name: string, inputs: string[], type: string, attr: NodeDef['attr'] = {}): NodeDef {
  return { name, op: 'Identity', input: inputs, attr: { T: { type }, ...attr } };
}

/** The converter's initializer graph of a StaticHashTable (string keys `keys`, int32 values `values`). */
function initializerGraph(keys: string, values: string, count: number): { node: NodeDef[]; versions: { producer: number } } {
  const f = 'Func/StatefulPartitionedCall';
  const f1 = 'Func/StatefulPartitionedCall_1';
  const table = 'StatefulPartitionedCall/StatefulPartitionedCall/hash_table';
  const shape = { dim: [{ size: String(count) }] };
  return {
    node: [
      noOp(`${f}/input_control_node/_0`),
      { name: keys, op: 'Const', attr: { value: { tensor: { dtype: 'DT_STRING', tensorShape: shape } }, ...MANUAL, dtype: { type: 'DT_STRING' } } },
      { name: values, op: 'Const', attr: { ...MANUAL, dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: shape } } } },
      noOp(`${f}/StatefulPartitionedCall/input_control_node/_9`, [`^${f}/input_control_node/_0`]),
      {
        name: table,
        op: 'HashTableV2',
        input: [`^${f}/StatefulPartitionedCall/input_control_node/_9`],
        attr: {
          container: { s: '' },
          use_node_name_sharing: { b: true },
          ...MANUAL,
          shared_name: { s: Buffer.from('95_load_1_52').toString('base64') },
          value_dtype: { type: 'DT_INT32' },
          key_dtype: { type: 'DT_STRING' },
        },
      },
      noOp(`${f}/StatefulPartitionedCall/output_control_node/_11`, [`^${table}`]),
      noOp(`${f}/output_control_node/_2`, [`^${f}/StatefulPartitionedCall/output_control_node/_11`]),
      noOp('StatefulPartitionedCall/StatefulPartitionedCall/NoOp', [`^${table}`], { _acd_function_control_output: { b: true }, ...MANUAL }),
      identity('StatefulPartitionedCall/StatefulPartitionedCall/Identity', [table, '^StatefulPartitionedCall/StatefulPartitionedCall/NoOp'], 'DT_RESOURCE'),
      identity(`${f}/StatefulPartitionedCall/output/_10`, ['StatefulPartitionedCall/StatefulPartitionedCall/Identity'], 'DT_RESOURCE'),
      noOp('StatefulPartitionedCall/NoOp', [`^${f}/StatefulPartitionedCall/output_control_node/_11`], { ...MANUAL, _acd_function_control_output: { b: true } }),
      identity('StatefulPartitionedCall/Identity', [`${f}/StatefulPartitionedCall/output/_10`, '^StatefulPartitionedCall/NoOp'], 'DT_RESOURCE'),
      identity(`${f}/output/_1`, ['StatefulPartitionedCall/Identity'], 'DT_RESOURCE', MANUAL),
      noOp(`${f1}/input_control_node/_3`, [`^${keys}`, `^${values}`, `^${f}/output/_1`]),
      identity(`${f1}/input/_4`, [`${f}/output/_1`, `^${f1}/input_control_node/_3`], 'DT_RESOURCE'),
      noOp(`${f1}/StatefulPartitionedCall/input_control_node/_12`, [`^${f1}/input_control_node/_3`]),
      identity(`${f1}/StatefulPartitionedCall/input/_13`, [`${f1}/input/_4`, `^${f1}/StatefulPartitionedCall/input_control_node/_12`], 'DT_RESOURCE'),
      identity(`${f1}/input/_5`, [keys, `^${f1}/input_control_node/_3`], 'DT_STRING'),
      identity(`${f1}/StatefulPartitionedCall/input/_14`, [`${f1}/input/_5`, `^${f1}/StatefulPartitionedCall/input_control_node/_12`], 'DT_STRING'),
      identity(`${f1}/input/_6`, [values, `^${f1}/input_control_node/_3`], 'DT_INT32'),
      identity(`${f1}/StatefulPartitionedCall/input/_15`, [`${f1}/input/_6`, `^${f1}/StatefulPartitionedCall/input_control_node/_12`], 'DT_INT32'),
      {
        name: 'StatefulPartitionedCall_1/StatefulPartitionedCall/key_value_init94/LookupTableImportV2',
        op: 'LookupTableImportV2',
        input: [`${f1}/StatefulPartitionedCall/input/_13`, `${f1}/StatefulPartitionedCall/input/_14`, `${f1}/StatefulPartitionedCall/input/_15`],
        attr: { Tout: { type: 'DT_INT32' }, Tin: { type: 'DT_STRING' }, ...MANUAL },
      },
      noOp(`${f1}/StatefulPartitionedCall/output_control_node/_17`, ['^StatefulPartitionedCall_1/StatefulPartitionedCall/key_value_init94/LookupTableImportV2']),
      noOp(`${f1}/output_control_node/_8`, [`^${f1}/StatefulPartitionedCall/output_control_node/_17`]),
      noOp('NoOp', [`^${f}/output_control_node/_2`, `^${f1}/output_control_node/_8`], { ...MANUAL, _acd_function_control_output: { b: true } }),
      identity('Identity', [`${f}/output/_1`, `^${f1}/output_control_node/_8`, '^NoOp'], 'DT_RESOURCE'),
    ],
    versions: { producer: 1240 },
  };
}

/**
 * The lookup-table word classifier as model.json content and weights. `words` limits the
 * vocabulary (the first n of sentiment-mlp's 2000 words) to keep a test's model small.
 */
export async function lookupGraph(words = 2000): Promise<{ json: Record<string, unknown>; weights: Weight[] }> {
  const layers = await readModel(join(SOURCE, 'model.json'));
  const vocab = (JSON.parse(readFileSync(join(SOURCE, 'vocab.json'), 'utf8')) as string[]).slice(0, words);
  const k1 = weightOf(layers.weights, 'hidden1/kernel');
  const width = k1.shape[1];
  // Row 0: unknown words (zeros); row i + 1: hidden1's kernel row of vocab[i].
  const embedding = new Float32Array((vocab.length + 1) * width);
  embedding.set((k1.values as Float32Array).subarray(0, vocab.length * width), width);
  const scope = 'StatefulPartitionedCall/sequential';
  const n = {
    table: 'unknown',
    missing: 'unknown_0',
    find: 'StatefulPartitionedCall/None_Lookup/LookupTableFindV2',
    embedding: `${scope}/embedding/embedding_lookup/ReadVariableOp`,
    axis: `${scope}/embedding/embedding_lookup/axis`,
    gather: `${scope}/embedding/embedding_lookup`,
    b1: `${scope}/hidden1/BiasAdd/ReadVariableOp`,
    k2: `${scope}/hidden2/MatMul/ReadVariableOp`,
    b2: `${scope}/hidden2/BiasAdd/ReadVariableOp`,
    k3: `${scope}/output/MatMul/ReadVariableOp`,
    b3: `${scope}/output/BiasAdd/ReadVariableOp`,
  };
  const from = (name: string, w: Weight): Weight => ({ name, shape: [...w.shape], dtype: 'float32', values: w.values });
  const weights: Weight[] = [
    { name: n.missing, shape: [], dtype: 'int32', values: new Int32Array([0]) },
    { name: n.axis, shape: [], dtype: 'int32', values: new Int32Array([0]) },
    { name: n.embedding, shape: [vocab.length + 1, width], dtype: 'float32', values: embedding },
    from(n.b1, weightOf(layers.weights, 'hidden1/bias')),
    from(n.k2, weightOf(layers.weights, 'hidden2/kernel')),
    from(n.b2, weightOf(layers.weights, 'hidden2/bias')),
    from(n.k3, weightOf(layers.weights, 'output/kernel')),
    from(n.b3, weightOf(layers.weights, 'output/bias')),
    // The initializer graph's constants: the table's keys and values.
    { name: '114', shape: [vocab.length], dtype: 'string', values: vocab },
    { name: '116', shape: [vocab.length], dtype: 'int32', values: Int32Array.from(vocab, (_, i) => i + 1) },
  ];
  const shapeOf = (name: string) => weights.find((w) => w.name === name)!.shape;
  const floatConst = (name: string) => constNode(name, shapeOf(name), 'DT_FLOAT');
  const nodes: NodeDef[] = [
    constNode(n.missing, [], 'DT_INT32'),
    { name: LOOKUP_INPUT, op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }] } }, dtype: { type: 'DT_STRING' } } },
    { name: n.table, op: 'Placeholder', attr: { shape: { shape: {} }, dtype: { type: 'DT_RESOURCE' } } },
    { name: n.find, op: 'LookupTableFindV2', input: [n.table, LOOKUP_INPUT, n.missing], attr: { Tout: { type: 'DT_INT32' }, Tin: { type: 'DT_STRING' }, ...MANUAL } },
    floatConst(n.embedding),
    constNode(n.axis, [], 'DT_INT32'),
    {
      name: n.gather,
      op: 'GatherV2',
      input: [n.embedding, n.find, n.axis],
      attr: { Tparams: T_FLOAT, Tindices: { type: 'DT_INT32' }, Taxis: { type: 'DT_INT32' }, batch_dims: { i: '0' } },
    },
    floatConst(n.b1),
    { name: `${scope}/hidden1/add`, op: 'AddV2', input: [n.gather, n.b1], attr: { T: T_FLOAT } },
    unary(`${scope}/hidden1/Relu`, 'Relu', `${scope}/hidden1/add`),
    floatConst(n.k2),
    matMulNode(`${scope}/hidden2/MatMul`, 'MatMul', `${scope}/hidden1/Relu`, n.k2, false, T_FLOAT),
    floatConst(n.b2),
    biasAddNode(`${scope}/hidden2/BiasAdd`, `${scope}/hidden2/MatMul`, n.b2, T_FLOAT),
    unary(`${scope}/hidden2/Relu`, 'Relu', `${scope}/hidden2/BiasAdd`),
    floatConst(n.k3),
    matMulNode(`${scope}/output/MatMul`, 'MatMul', `${scope}/hidden2/Relu`, n.k3, false, T_FLOAT),
    floatConst(n.b3),
    biasAddNode(`${scope}/output/BiasAdd`, `${scope}/output/MatMul`, n.b3, T_FLOAT),
    unary(`${scope}/output/Softmax`, 'Softmax', `${scope}/output/BiasAdd`),
    identity('Identity', [`${scope}/output/Softmax`], 'DT_FLOAT'),
    identity('Identity_1', [n.find], 'DT_INT32'),
  ];
  const json: Record<string, unknown> = {
    format: 'graph-model',
    generatedBy: '2.11.0-dev20220822',
    convertedBy: 'TensorFlow.js Converter v1.7.0',
    signature: {
      inputs: {
        [LOOKUP_INPUT]: { name: `${LOOKUP_INPUT}:0`, dtype: 'DT_STRING', tensorShape: { dim: [{ size: '-1' }] } },
        'unknown:0': { name: 'unknown:0', dtype: 'DT_RESOURCE', tensorShape: {}, resourceId: RESOURCE_ID },
      },
      outputs: {
        output_0: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '2' }] } },
        output_1: { name: 'Identity_1:0', dtype: 'DT_INT32', tensorShape: { dim: [{ size: '-1' }] } },
      },
    },
    modelTopology: { node: nodes, library: {}, versions: { producer: 1240 } },
    modelInitializer: initializerGraph('114', '116', vocab.length),
    initializerSignature: { outputs: { 'Identity:0': { name: 'Identity:0', dtype: 'DT_RESOURCE', tensorShape: {}, resourceId: RESOURCE_ID } } },
  };
  return { json, weights };
}

/** Writes the model (model.json + shard) into `dir`. */
export async function writeLookupGraph(dir: string, words?: number): Promise<string> {
  await writeModel(await lookupGraph(words), dir);
  return join(dir, 'model.json');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write('usage: node dist/scripts/export-lookup-graph.js <out folder>\n');
    process.exit(2);
  }
  process.stdout.write(`${await writeLookupGraph(resolve(out))}\n`);
}
