import { tf } from '../tf.js';
import type { TargetMatrix } from '../model/targets.js';
import { diagonalGram, fullGram, type Gram } from './gram.js';
import { addPatchGram } from './patches.js';

const RECURRENT = new Set(['LSTM', 'GRU', 'SimpleRNN']);

/** What to record for one target, and from which symbolic tensor of the model. */
interface Probe {
  target: TargetMatrix;
  kind: 'dense' | 'embedding' | 'sequence' | 'recurrent' | 'conv';
  input: tf.SymbolicTensor;
  /** Token ids whose zeros mask the sequence (an Embedding with mask_zero feeds the layer). */
  maskIds: tf.SymbolicTensor | null;
  /** The recurrent layer whose hidden states feed the recurrent kernel (one direction of a Bidirectional). */
  cell: tf.layers.Layer | null;
  /** Embedding with mask_zero: id 0 is padding, its row is never used downstream. */
  skipZero?: boolean;
}

/** Float64 accumulator of one target's XᵀX (or token counts). */
class Accumulator {
  readonly data: Float64Array;
  rows = 0;
  constructor(
    readonly n: number,
    readonly diagonal: boolean,
  ) {
    this.data = new Float64Array(diagonal ? n : n * n);
  }
  gram(): Gram {
    return this.diagonal ? diagonalGram(this.data, this.rows) : fullGram(this.n, this.data, this.rows);
  }
}

/**
 * Runs `model` (the original) over the calibration batches (one tensor per model
 * input each) and returns, per target weight name, the Gram XᵀX of the matrix's
 * input activations X (rows = examples·steps), accumulated in float64 batch by
 * batch (X itself is never kept): a Dense kernel's input; an Embedding's token
 * counts (diagonal); a convolution's im2col patches, one row per output position,
 * built a band at a time (src/calibrate/patches.ts); a recurrent layer's input sequence for its kernel and its
 * hidden states h_{t-1} (h_0 = 0 adds nothing) for its recurrent kernel. Steps an
 * Embedding's mask_zero masks out are left out. Targets of layers this cannot see
 * (shared or nested layers) are missing from the map.
 */
export function collectActivations(model: tf.LayersModel, targets: readonly TargetMatrix[], batches: readonly (readonly tf.Tensor[])[]): Map<string, Gram> {
  const probes = targets.map((t) => probeOf(model, t)).filter((p): p is Probe => p !== null);
  const symbols: tf.SymbolicTensor[] = [];
  const slot = (s: tf.SymbolicTensor): number => {
    const at = symbols.findIndex((x) => x.id === s.id);
    if (at >= 0) return at;
    symbols.push(s);
    return symbols.length - 1;
  };
  const wiring = probes.map((p) => ({ input: slot(p.input), mask: p.maskIds ? slot(p.maskIds) : -1 }));
  const acc = probes.map((p) => new Accumulator(p.target.rows, p.kind === 'embedding'));
  if (probes.length === 0) return new Map();

  // Symbolic tensors that are model inputs come straight from the batch; the rest from one sub-model.
  const inner = symbols.map((s) => model.inputs.findIndex((i) => i.id === s.id));
  const computed = symbols.filter((_, i) => inner[i] < 0);
  const sub = computed.length ? tf.model({ inputs: model.inputs, outputs: computed }) : null;
  const cells = new Map<tf.layers.Layer, tf.layers.Layer>();

  for (const batch of batches) {
    tf.tidy(() => {
      const out = sub ? sub.predict(batch.length === 1 ? batch[0] : [...batch]) : [];
      const outs = Array.isArray(out) ? out : [out];
      let c = 0;
      const values = symbols.map((_, i) => (inner[i] >= 0 ? batch[inner[i]] : outs[c++]));
      probes.forEach((p, i) => {
        const x = values[wiring[i].input];
        // Float 0/1: the wasm backend mishandles reversing bool tensors.
        const mask = wiring[i].mask >= 0 ? tf.notEqual(values[wiring[i].mask], 0).cast('float32') : null;
        record(p, acc[i], x, mask, cells);
      });
    });
  }
  for (const clone of cells.values()) clone.dispose();
  return new Map(probes.map((p, i) => [p.target.weight, acc[i].gram()]));
}

function record(p: Probe, acc: Accumulator, x: tf.Tensor, mask: tf.Tensor | null, cells: Map<tf.layers.Layer, tf.layers.Layer>): void {
  const n = acc.n;
  if (p.kind === 'embedding') {
    const ids = x.dataSync();
    const keep = mask?.dataSync();
    for (let i = 0; i < ids.length; i++) {
      if (keep && !keep[i]) continue;
      const id = ids[i];
      if (p.skipZero && id === 0) continue;
      if (id >= 0 && id < n) {
        acc.data[id]++;
        acc.rows++;
      }
    }
    return;
  }
  if (p.kind === 'conv') {
    acc.rows += addPatchGram(acc.data, x, p.target.conv!);
    return;
  }
  let rows: tf.Tensor;
  let weights: tf.Tensor | null = null;
  if (p.kind === 'recurrent') {
    const steps = x.shape[1] ?? 0;
    const backwards = Boolean((p.cell!.getConfig() as { goBackwards?: boolean }).goBackwards);
    // Run the direction forwards over a reversed sequence: states come out in processing order.
    const seq = backwards ? tf.reverse(x, 1) : x;
    const m = mask ? (backwards ? tf.reverse(mask, 1) : mask) : null;
    const states = cellClone(p.cell!, cells, seq.shape).apply(seq, m ? { mask: m.cast('bool') } : {}) as tf.Tensor;
    if (steps < 2) return;
    // Step t (t >= 1) multiplies h_{t-1} by the recurrent kernel.
    rows = states.slice([0, 0, 0], [-1, steps - 1, -1]).reshape([-1, n]);
    if (m) weights = m.slice([0, 1], [-1, steps - 1]).reshape([-1, 1]);
  } else {
    rows = x.reshape([-1, n]).cast('float32');
    if (mask && p.kind === 'sequence') weights = mask.reshape([-1, 1]);
  }
  const xs = weights ? rows.mul(weights) : rows;
  const g = tf.matMul(xs, xs, true, false).dataSync();
  for (let i = 0; i < g.length; i++) acc.data[i] += g[i];
  acc.rows += weights ? Math.round(weights.sum().dataSync()[0]) : rows.shape[0];
}

/** A copy of a recurrent layer that returns every step's state, runs forwards and keeps no state between calls. */
function cellClone(layer: tf.layers.Layer, cells: Map<tf.layers.Layer, tf.layers.Layer>, shape: number[]): tf.layers.Layer {
  let clone = cells.get(layer);
  if (!clone) {
    const config = { ...layer.getConfig(), returnSequences: true, returnState: false, goBackwards: false, stateful: false, name: undefined, batchInputShape: undefined };
    const Ctor = layer.constructor as new (args: Record<string, unknown>) => tf.layers.Layer;
    clone = new Ctor(config);
    // Building by a first call (build() alone leaves the layer unbuilt for apply()).
    tf.tidy(() => {
      clone!.apply(tf.zeros([1, ...shape.slice(1)]));
    });
    clone.setWeights(layer.getWeights());
    cells.set(layer, clone);
  }
  return clone;
}

function probeOf(model: tf.LayersModel, t: TargetMatrix): Probe | null {
  let layer: tf.layers.Layer;
  try {
    layer = model.getLayer(t.layer);
  } catch {
    return null;
  }
  if (layer.inboundNodes.length !== 1) return null;
  const input = layer.input;
  if (Array.isArray(input)) return null;
  const className = layer.getClassName();
  if (t.role === 'embeddings') {
    const skipZero = Boolean((layer.getConfig() as { maskZero?: boolean }).maskZero);
    return { target: t, kind: 'embedding', input, maskIds: null, cell: null, skipZero };
  }
  // A separable convolution's pointwise kernel reads the depthwise part's output, inside the layer.
  if (t.conv && className === 'SeparableConv2D') return null;
  if (t.conv) return { target: t, kind: 'conv', input, maskIds: null, cell: null };
  const sequenceLayer = RECURRENT.has(className) || className === 'Bidirectional';
  if (!sequenceLayer) return { target: t, kind: 'dense', input, maskIds: null, cell: null };
  const maskIds = maskSource(layer);
  if (t.role === 'kernel') return { target: t, kind: 'sequence', input, maskIds, cell: null };
  let cell = layer;
  if (className === 'Bidirectional') {
    const dirs = layer as unknown as { forwardLayer: tf.layers.Layer; backwardLayer: tf.layers.Layer };
    cell = /\/backward_[^/]*\//.test(t.weight) ? dirs.backwardLayer : dirs.forwardLayer;
  }
  return { target: t, kind: 'recurrent', input, maskIds, cell };
}

/** The ids of an Embedding with mask_zero that feeds `layer` directly, if one does. */
function maskSource(layer: tf.layers.Layer): tf.SymbolicTensor | null {
  const source = layer.inboundNodes[0]?.inboundLayers[0];
  if (!source || source.getClassName() !== 'Embedding') return null;
  if (!(source.getConfig() as { maskZero?: boolean }).maskZero) return null;
  const ids = source.input;
  return Array.isArray(ids) ? null : ids;
}
