import { UsageError } from '../errors.js';
import type { ModelFile } from '../io/index.js';
import type { InputSignature } from '../measure/probes.js';
import type { DataSignature } from './types.js';

/**
 * What a data file is checked against, from a loaded model's input signatures:
 * lengths the model leaves open (null in model.json; probes resolve them to a
 * fixed size) become null again, so examples of any length pass as long as they
 * agree. Graph models know no vocabulary, so their int32 inputs take any int32.
 */
export function dataSignatures(model: ModelFile, signatures: readonly InputSignature[]): DataSignature[] {
  const declared = model.format === 'graph-model' ? graphShapes(model.json) : layersShapes(model.json);
  return signatures.map((sig, i) => {
    if (sig.dtype === 'string' || sig.dtype === 'bool') {
      throw new UsageError(`${model.path}: input "${sig.name}" takes ${sig.dtype} values; data files (--calibration, --finetune, --eval, --data) give numbers, so they cannot feed it`);
    }
    const open = declared.get(sig.name) ?? (declared.size === signatures.length ? [...declared.values()][i] : undefined);
    const shape = open && open.length === sig.shape.length ? sig.shape.map((d, j) => (open[j] === null ? null : d)) : sig.shape;
    const vocab = model.format === 'graph-model' ? undefined : sig.vocab;
    return { name: sig.name, shape, dtype: sig.dtype, ...(vocab !== undefined ? { vocab } : {}) };
  });
}

type Shapes = Map<string, (number | null)[]>;

/** Declared input shapes (without the batch axis) of a layers model, by input name where known. */
function layersShapes(json: Record<string, unknown>): Shapes {
  const shapes: Shapes = new Map();
  const top = asRecord(json.modelTopology);
  const model = asRecord(top?.model_config) ?? top;
  const config = asRecord(model?.config);
  const layers = Array.isArray(config?.layers) ? config.layers.map(asRecord) : [];
  const configOf = (l: Record<string, unknown> | undefined) => asRecord(l?.config);
  const batchShape = (l: Record<string, unknown> | undefined) => {
    const c = configOf(l);
    const s = c?.batch_input_shape ?? c?.batch_shape;
    return Array.isArray(s) ? s.slice(1).map((d) => (typeof d === 'number' ? d : null)) : undefined;
  };
  if (model?.class_name === 'Sequential') {
    const first = layers[0];
    const s = batchShape(first);
    if (s) shapes.set(`${String(configOf(first)?.name)}_input`, s);
    return shapes;
  }
  const inputLayers = Array.isArray(config?.input_layers) ? config.input_layers : [];
  for (const ref of inputLayers) {
    const name = Array.isArray(ref) ? String(ref[0]) : '';
    const layer = layers.find((l) => l?.name === name || configOf(l)?.name === name);
    const s = batchShape(layer);
    if (s) shapes.set(name, s);
  }
  return shapes;
}

/** Declared shapes of a graph model's Placeholder nodes (without the batch axis). */
function graphShapes(json: Record<string, unknown>): Shapes {
  const shapes: Shapes = new Map();
  const nodes = asRecord(json.modelTopology)?.node;
  if (!Array.isArray(nodes)) return shapes;
  for (const n of nodes.map(asRecord)) {
    if (n?.op !== 'Placeholder' || typeof n.name !== 'string') continue;
    const dims = asRecord(asRecord(asRecord(n.attr)?.shape)?.shape)?.dim;
    if (!Array.isArray(dims)) continue;
    shapes.set(
      n.name,
      dims.slice(1).map((d) => {
        const size = Number(asRecord(d)?.size ?? -1);
        return size >= 0 ? size : null;
      }),
    );
  }
  return shapes;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
