/**
 * `--sparse`: pruned matrices of a layers model written compactly (src/runtime/sparse.ts
 * describes the formats) and run by the hmf runtime: a Dense (or TimeDistributed(Dense))
 * kernel becomes an HmfSparseDense layer, a recurrent layer's matrices the sparse storage
 * of HmfLSTM / HmfGRU / HmfSimpleRNN. Applied to the model as it is after pruning and
 * fine-tuning: its zeros are the pruned entries.
 */
import type { ModelFile, QuantizeMode, Weight } from '../io/index.js';
import { prefersSparseKernel, type SparseConfig, type SparseFormat } from '../runtime/sparse.js';
import { isRecurrentTarget, rewriteRecurrent } from './recurrent.js';
import { chooseStorage, encodeSparse, nonZeros, sparseMatrixWeights, valueBytes, type SparseMatrix } from './sparseEncode.js';
import type { TargetMatrix } from './targets.js';
import { findLayerWeight } from './targets.js';
import { layerName, parseLayersTopology, serializeLayersTopology, type LayerJson } from './topology.js';

/** How the written model stores one pruned matrix (report.matrices[].storage). */
export interface StorageChoice {
  weight: string;
  /** `csr` / `bitmap`: compact, run by the hmf runtime; `dense`: the zeros are stored. */
  format: SparseFormat | 'dense';
  /** Bytes of the matrix's weights as written (values plus indices or mask). */
  bytes: number;
  /** Bytes of the same matrix stored dense. */
  denseBytes: number;
  nnz: number;
  /** rows x cols. */
  entries: number;
  /** What the runtime multiplies with on wasm (prefersSparseKernel) for one input row and for several. */
  kernelOnWasm: { oneRow: 'sparse' | 'dense'; rows: 'sparse' | 'dense' } | null;
  /** Why it stayed dense. */
  note: string | null;
}

export interface SparsifiedModel {
  model: ModelFile;
  storage: StorageChoice[];
  /** The output uses HmfSparseDense or sparse recurrent layers. */
  runtimeRequired: boolean;
}

const SPARSE_CONFIG_KERNEL = 'auto';

/**
 * Rewrites the pruned `targets` of a layers model into compact storage where that is
 * smaller than dense (Embedding tables stay dense: a lookup gains nothing from a sparse
 * kernel and no runtime layer expands them).
 */
export function sparsifyLayers(model: ModelFile, targets: readonly TargetMatrix[], quantize: QuantizeMode): SparsifiedModel {
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  const byName = new Map(model.weights.map((w) => [w.name, w]));
  const storage: StorageChoice[] = [];
  const compact = new Map<string, { target: TargetMatrix; config: SparseConfig; parts: Record<string, Float32Array | Int32Array> }>();
  for (const t of targets) {
    const w = byName.get(t.weight);
    if (!w || !(w.values instanceof Float32Array)) throw new Error(`internal: pruned weight ${t.weight} is not in the model`);
    const nnz = nonZeros(w.values);
    const { format, bytes } = chooseStorage(t.rows, t.cols, nnz, valueBytes(w, quantize));
    let note: string | null = null;
    if (t.role === 'embeddings') note = 'Embedding tables stay dense: a lookup gains nothing from a sparse kernel';
    else if (t.conv) note = 'convolution kernels stay dense: the hmf runtime has no sparse convolution';
    else if (format === 'dense') note = `compact storage would not be smaller (CSR ${bytes.csr} B, bitmap ${bytes.bitmap} B, dense ${bytes.dense} B)`;
    const stored = note === null ? format : 'dense';
    const d = nnz / Math.max(1, t.rows * t.cols);
    const kernel = (rows: number) => (prefersSparseKernel('wasm', rows, d, t.rows) ? ('sparse' as const) : ('dense' as const));
    const kernelOnWasm = stored === 'dense' ? null : { oneRow: kernel(1), rows: kernel(32) };
    storage.push({ weight: t.weight, format: stored, bytes: bytes[stored], denseBytes: bytes.dense, nnz, entries: t.rows * t.cols, kernelOnWasm, note });
    if (stored !== 'dense') {
      compact.set(t.weight, { target: t, config: { format: stored, nnz, kernel: SPARSE_CONFIG_KERNEL }, parts: encodeSparse(w.values, t.rows, t.cols, stored) });
    }
  }
  if (compact.size === 0) return { model, storage, runtimeRequired: false };

  const newWeights = new Map<string, Weight[]>();
  const dropped = new Set<string>();
  const layers = graph.layers.map((layer): LayerJson => {
    const name = layerName(layer);
    const mine = [...compact.values()].filter((c) => c.target.layer === name);
    if (mine.length === 0) return layer;
    if (isRecurrentTarget(mine[0].target)) {
      const sparse = new Map<string, SparseMatrix>(mine.map((c) => [c.target.weight, { config: c.config, parts: c.parts }]));
      const rw = rewriteRecurrent(layer, [], model.weights, { functional: graph.kind === 'functional', sparse });
      newWeights.set(rw.replaces[0], rw.weights);
      for (const w of rw.replaces.slice(1)) dropped.add(w);
      return rw.layers[0];
    }
    const c = mine[0];
    const kernel = byName.get(c.target.weight) as Weight;
    const inner = layer.class_name === 'TimeDistributed' ? ((layer.config.layer as { config: Record<string, unknown> }).config ?? {}) : layer.config;
    const useBias = inner.use_bias !== false;
    const bias = useBias ? findLayerWeight(model.weights, name, 'bias') : undefined;
    const ws = sparseMatrixWeights(name, 'kernel', c.parts, c.target.cols, kernel);
    if (bias) ws.push({ ...bias, name: `${name}/bias` });
    newWeights.set(kernel.name, ws);
    if (bias) dropped.add(bias.name);
    const config: Record<string, unknown> = {
      name,
      trainable: layer.config.trainable ?? true,
      ...(layer.config.dtype !== undefined ? { dtype: layer.config.dtype } : {}),
      ...(layer.config.batch_input_shape !== undefined ? { batch_input_shape: layer.config.batch_input_shape } : {}),
      units: c.target.cols,
      activation: inner.activation ?? 'linear',
      use_bias: bias !== undefined,
      kernel_sparse: { ...c.config },
    };
    return { ...layer, class_name: 'HmfSparseDense', config };
  });
  const weights: Weight[] = [];
  for (const w of model.weights) {
    const replacement = newWeights.get(w.name);
    if (replacement) weights.push(...replacement);
    else if (!dropped.has(w.name)) weights.push(w);
  }
  const json = { ...model.json, modelTopology: serializeLayersTopology(model.json.modelTopology, { ...graph, layers }) };
  return { model: { ...model, json, weights }, storage, runtimeRequired: true };
}
