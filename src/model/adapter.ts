import { tf } from '../tf.js';
import { toArtifacts, type ModelFile } from '../io/index.js';
import { assertFinite } from '../io/codec.js';
import type { Matrix } from '../linalg/matrix.js';
import { graphMacs, inputSignatures, layersMacs, type InputSignature } from '../measure/probes.js';
import { graphAsyncOps, graphRunnable, layersRunnable, type Runnable } from '../measure/runnable.js';
import { graphInputSignatures, graphKernel, rewriteGraph, scanGraph, type GraphTarget } from './graph/index.js';
import { WeightEdits } from './order.js';
import { isRecurrentTarget } from './recurrent.js';
import { registerHmfLayers } from '../runtime/index.js';
import { rewriteLayers, type MatrixRewrite } from './rewrite.js';
import { scanTargets, type SkippedMatrix, type TargetMatrix } from './targets.js';
import { parseLayersTopology, serializeLayersTopology } from './topology.js';

/** What the pipeline needs from a model format: its targets, a rewrite, and a way to run it. */
export interface ModelAdapter {
  readonly className: string;
  readonly targets: readonly TargetMatrix[];
  readonly skipped: readonly SkippedMatrix[];
  readonly unknownLayers: readonly { layer: string; className: string }[];
  /** Current weights, as edited so far (an HMF layer's consumers get permuted rows). */
  readonly edits: WeightEdits;
  /** K (n x m, y = x K) of a target as it stands now. */
  matrix(target: TargetMatrix): Matrix;
  /** The compressed model: the rewrites plus the edited weights. */
  rewrite(rewrites: readonly MatrixRewrite[]): AdaptedRewrite;
  /**
   * Loads a model of this format into TF.js for measurement: from `stored`, the artifacts of
   * its files exactly as read or to be written (checkedArtifacts, filesArtifacts), when
   * given; else from `model`'s weights encoded as they stand.
   */
  load(model: ModelFile, stored?: tf.io.ModelArtifacts): Promise<LoadedRunnable>;
}

export interface LoadedRunnable {
  runnable: Runnable;
  signatures: InputSignature[];
  macsPerExample: number;
  /** Graph models: the ops that make TF.js run the model through executeAsync (none: predict). */
  asyncOps?: string[];
}

export interface AdaptedRewrite {
  model: ModelFile;
  /** The output needs the hmf runtime (`registerHmfLayers(tf)`) to load. */
  runtimeRequired: boolean;
  /** Compressed matrices the rewrite had to leave dense, with the reason. */
  leftDense: readonly SkippedMatrix[];
}

/** The adapter for TF.js layers models; `portable` forbids hmf runtime layers in the output. */
export function layersAdapter(model: ModelFile, minParams: number, portable = false): ModelAdapter {
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  const scan = scanTargets(graph, model.weights, minParams, { portable });
  const topology = model.json.modelTopology as { class_name?: string; model_config?: { class_name?: string } };
  const edits = new WeightEdits(model.weights);
  return {
    className: String(topology.model_config?.class_name ?? topology.class_name),
    ...scan,
    targets: scan.targets.map((t) => (isRecurrentTarget(t) && !portable ? recurrentOrder(t) : t)),
    edits,
    matrix: (t) => finiteTarget(edits.matrix(t.weight), t, model.path),
    rewrite(rewrites) {
      const out = rewriteLayers(graph, model.weights, rewrites, edits.changed(), { portable });
      return {
        model: { ...model, json: { ...model.json, modelTopology: serializeLayersTopology(model.json.modelTopology, out.graph) }, weights: out.weights },
        runtimeRequired: out.runtimeRequired,
        leftDense: out.leftDense,
      };
    },
    async load(m, stored) {
      registerHmfLayers(tf);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(stored ?? toArtifacts(m)));
      return { runnable: layersRunnable(loaded), signatures: inputSignatures(loaded), macsPerExample: layersMacs(loaded) };
    },
  };
}

/** The adapter for TF.js graph models (MatMul-like nodes with 2-D Const weights). */
export function graphAdapter(model: ModelFile, minParams: number): ModelAdapter {
  const scan = scanGraph(model, minParams);
  return {
    className: 'GraphModel',
    targets: scan.targets.map((t) => ({ ...t, restoresOrder: true })),
    skipped: scan.skipped,
    unknownLayers: scan.unknownOps,
    edits: new WeightEdits(model.weights),
    matrix: (t) => finiteTarget(graphKernel(model, t as GraphTarget), t, model.path),
    rewrite: (rewrites) => ({
      model: rewriteGraph(model, rewrites.map((r) => ({ target: r.target as GraphTarget, result: r.result }))),
      runtimeRequired: false,
      leftDense: [],
    }),
    async load(m, stored) {
      const loaded = await tf.loadGraphModel(tf.io.fromMemory(stored ?? toArtifacts(m)));
      const declared = placeholderDtypes(m.json.modelTopology);
      const strings = [...new Set(m.weights.flatMap((w) => (w.dtype === 'string' ? (w.values as string[]) : [])))].slice(0, 4096);
      // A table's DT_RESOURCE placeholder is fed by TF.js itself (from the initializer graph).
      const fed = graphInputSignatures(loaded).filter((s) => declared.get(s.name.replace(/:\d+$/, '')) !== 'DT_RESOURCE');
      const signatures: InputSignature[] = fed.map((s) => {
        const dtype = s.dtype === 'int32' || s.dtype === 'bool' || s.dtype === 'string' ? s.dtype : 'float32';
        // TF.js reads uint8 inputs (images) as int32: probe them with pixel values.
        const vocab = dtype === 'int32' ? (declared.get(s.name.replace(/:\d+$/, '')) === 'DT_UINT8' ? 256 : 2) : undefined;
        return {
          name: s.name,
          shape: s.shape,
          dtype,
          ...(vocab !== undefined ? { vocab } : {}),
          ...(dtype === 'string' ? { strings } : {}),
          ...(s.batch !== null ? { batch: s.batch } : {}),
        };
      });
      const asyncOps = graphAsyncOps(m.json.modelTopology, m.json.modelInitializer);
      return {
        runnable: graphRunnable(loaded, asyncOps.length > 0),
        signatures,
        macsPerExample: graphMacs(m.weights.map((w) => w.shape), signatures),
        asyncOps,
      };
    },
  };
}

/** The TensorFlow dtype of each Placeholder of a graph model's topology, by node name. */
function placeholderDtypes(topology: unknown): Map<string, string> {
  const nodes = (topology as { node?: { name?: unknown; op?: unknown; attr?: { dtype?: { type?: unknown } } }[] } | undefined)?.node ?? [];
  const out = new Map<string, string>();
  for (const n of nodes) if (n.op === 'Placeholder' && typeof n.name === 'string') out.set(n.name, String(n.attr?.dtype?.type ?? ''));
  return out;
}

/**
 * A matrix hmf is about to factorize or prune must be finite (NaN or ±Infinity would spoil
 * every factor); non-finite values elsewhere in a model pass through untouched.
 */
export function finiteTarget(k: Matrix, t: TargetMatrix, file: string): Matrix {
  assertFinite(k.data, { name: t.weight, shape: [k.rows, k.cols], dtype: 'float32' }, `${file}: targeted matrix`);
  return k;
}

/**
 * A runtime recurrent cell puts gate outputs back in order itself: for the input kernel
 * once per sequence, for the recurrent kernel at every step, where the gather costs more
 * than it saves at the sizes measured (scripts/bench-recurrent.ts: 0.75x of stock at
 * 128-256 units, 1.3-1.8x faster than stock from 512), so smaller recurrent kernels keep
 * the leading outputs dense.
 */
const SCATTERED_RECURRENT_MIN_UNITS = 512;

function recurrentOrder(t: TargetMatrix): TargetMatrix {
  if (t.role !== 'recurrent_kernel' || t.rows >= SCATTERED_RECURRENT_MIN_UNITS) return { ...t, restoresOrder: true };
  return { ...t, leadingReason: 'a scattered dense set would cost a gather at every time step; used leading' };
}
