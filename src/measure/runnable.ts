import { tf } from '../tf.js';

/** A loaded model that measure can run: a layers model or a graph model. */
export interface Runnable {
  readonly outputNames: readonly string[];
  /**
   * Runs the model on one batch (one tensor per input, in input order). Asynchronous
   * because some graph models only run through `executeAsync` (see graphNeedsAsync).
   */
  run(inputs: readonly tf.Tensor[]): Promise<tf.Tensor[]>;
  dispose(): void;
}

export function layersRunnable(model: tf.LayersModel): Runnable {
  return {
    outputNames: model.outputs.map((o) => o.name.replace(/\/.*$/, '')),
    async run(inputs) {
      const y = model.predict(inputs.length === 1 ? inputs[0] : [...inputs]);
      return Array.isArray(y) ? y : [y];
    },
    dispose: () => model.dispose(),
  };
}

/**
 * Ops that make TF.js refuse `execute`/`predict` and require `executeAsync`: control flow
 * (tf.while_loop, tf.cond), ops whose output shape depends on the data, and hash tables
 * (lookup tables and their initializers). The lists of tfjs-converter's model analysis
 * (CONTROL_FLOW_OPS, DYNAMIC_SHAPE_OPS, HASH_TABLE_OPS), which it does not export.
 */
const ASYNC_OPS = new Set([
  'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration', 'StatelessIf', 'StatelessWhile', 'if', 'While',
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV5', 'Where',
  'HashTable', 'HashTableV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableFind', 'LookupTableFindV2', 'LookupTableSize', 'LookupTableSizeV2',
]);

interface GraphDefJson {
  node?: { op?: unknown }[];
  library?: { function?: { nodeDef?: { op?: unknown }[] }[] };
}

/** The async ops of a graph model's topology (nodes and library functions), sorted; empty when `execute` works. */
export function graphAsyncOps(topology: unknown, initializer?: unknown): string[] {
  const found = new Set<string>();
  for (const graph of [topology, initializer] as (GraphDefJson | undefined)[]) {
    const nodes = [...(graph?.node ?? []), ...(graph?.library?.function ?? []).flatMap((f) => f.nodeDef ?? [])];
    for (const n of nodes) if (typeof n?.op === 'string' && ASYNC_OPS.has(n.op)) found.add(n.op);
  }
  return [...found].sort();
}

/** A graph model; `async` runs it through `executeAsync` (needed when graphAsyncOps is not empty). */
export function graphRunnable(model: tf.GraphModel, async = false): Runnable {
  const list = (y: tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>): tf.Tensor[] => {
    if (y instanceof tf.Tensor) return [y];
    return Array.isArray(y) ? y : model.outputNodes.map((n) => y[n]);
  };
  return {
    outputNames: model.outputNodes,
    async run(inputs) {
      const feed = inputs.length === 1 ? inputs[0] : [...inputs];
      return list(async ? await model.executeAsync(feed) : model.predict(feed));
    },
    dispose: () => model.dispose(),
  };
}
