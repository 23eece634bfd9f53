import { tf } from '../tf.js';
import { createHash } from 'node:crypto';
import { toArtifacts, type ModelFile } from '../io/index.js';
import { assertFinite } from '../io/codec.js';
import type { Matrix } from '../linalg/matrix.js';
import { graphMacs, inputSignatures, layersMacs, type InputSignature } from '../measure/probes.js';
import { graphAsyncOps, graphRunnable, layersRunnable, type Runnable } from '../measure/runnable.js';
import { graphInputSignatures, graphKernel, rewriteGraph, scanGraph, type GraphTarget } from './graph/index.js';
import { graphSites, transpose } from './graph/scan.js';
import { WeightEdits } from './order.js';
import { isRecurrentTarget } from './recurrent.js';
import { registerHmfLayers } from '../runtime/index.js';
import { rewriteLayers, type MatrixRewrite } from './rewrite.js';
import { scanTargets, type SkippedMatrix, type TargetMatrix } from './targets.js';
import { parseLayersTopology, serializeLayersTopology, type LayersGraph } from './topology.js';
import { oneLayerModel, randomResult } from './bench.js';
import { graphTargetInputShapes, oneNodeGraph } from './graph/bench.js';
import type { InputSpec } from '../measure/timing.js';
import type { LatencySubject } from '../plan/latency.js';

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
  load(model: ModelFile, stored?: tf.io.ModelArtifacts): Promise<LoadedModel>;
}

/** A model loaded into TF.js for measurement. */
export interface LoadedModel {
  runnable: Runnable;
  signatures: InputSignature[];
  macsPerExample: number;
  /** Graph models: the ops that make TF.js run the model through executeAsync (none: predict). */
  asyncOps?: string[];
  /**
   * Replaces a target's matrix (n x m, as `matrix()` gives it) in the loaded model, or
   * restores the original with null: how the planner measures a matrix's sensitivity
   * without rewriting the model. Only for the model the targets were found in.
   */
  setMatrix(target: TargetMatrix, k: Matrix | null): void;
  /**
   * One latency micro-benchmark subject per layer (or graph node) holding targets, for the
   * planner's run-time awareness; `targets` as the adapter lists them.
   */
  latencySubjects(targets: readonly TargetMatrix[]): Promise<LatencySubject[]>;
  /** The whole model as the latency worker times it (the planner's yardstick for "beyond noise"); null when its inputs cannot be generated there (strings, booleans). */
  readonly timingModel: WholeModel | null;
}

/** A whole model for the latency worker: its artifacts, inputs, and a key naming its structure (not its values). */
export interface WholeModel {
  readonly format: ModelFile['format'];
  readonly artifacts: tf.io.ModelArtifacts;
  readonly inputs: InputSpec[];
  readonly key: string;
}

function wholeModel(m: ModelFile, artifacts: tf.io.ModelArtifacts, signatures: readonly InputSignature[]): WholeModel | null {
  if (signatures.some((sig) => sig.dtype !== 'float32' && sig.dtype !== 'int32')) return null;
  const shape = createHash('sha1')
    .update(JSON.stringify([m.json.modelTopology ?? null, m.weights.map((w) => [w.name, w.shape, w.dtype])]))
    .digest('hex');
  return {
    format: m.format,
    artifacts,
    inputs: signatures.map((sig) => ({ shape: sig.shape, dtype: sig.dtype as InputSpec['dtype'], ...(sig.vocab !== undefined ? { vocab: sig.vocab } : {}) })),
    key: `model:${shape}:${JSON.stringify(signatures.map((sig) => sig.shape))}`,
  };
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
      const artifacts = stored ?? toArtifacts(m);
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const originals = new Map<string, tf.Tensor>();
      const signatures = inputSignatures(loaded);
      return {
        runnable: layersRunnable(loaded),
        signatures,
        timingModel: wholeModel(m, artifacts, signatures),
        macsPerExample: layersMacs(loaded),
        latencySubjects: async (targets) => layerSubjects(m, graph, loaded, targets),
        setMatrix(target, k) {
          const variable = loaded.weights.find((w) => w.originalName === target.weight);
          if (!variable) throw new Error(`internal: no weight ${target.weight} in the loaded model`);
          if (!originals.has(target.weight)) originals.set(target.weight, variable.read().clone());
          if (k) {
            const value = tf.tensor(k.data, variable.shape as number[]);
            variable.write(value);
            value.dispose();
          }
          else variable.write(originals.get(target.weight)!);
        },
      };
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
      const artifacts = stored ?? toArtifacts(m);
      const loaded = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
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
      const weights = loaded.weights;
      const originals = new Map<string, tf.Tensor[]>();
      return {
        runnable: graphRunnable(loaded, asyncOps.length > 0),
        signatures,
        macsPerExample: graphMacs(m.weights.map((w) => w.shape), signatures),
        asyncOps,
        timingModel: wholeModel(m, artifacts, signatures),
        // Graphs that need executeAsync (control flow) are not taken apart node by node.
        latencySubjects: async (targets) => (asyncOps.length > 0 ? [] : graphSubjects(m, loaded, targets as GraphTarget[])),
        setMatrix(target, k) {
          const name = target.weight;
          if (!weights[name]) throw new Error(`internal: no weight ${name} in the loaded graph model`);
          if (!originals.has(name)) originals.set(name, weights[name]);
          else if (weights[name] !== originals.get(name)) tf.dispose(weights[name]);
          if (!k) {
            weights[name] = originals.get(name)!;
            return;
          }
          const [stored] = graphSites(m, [target as GraphTarget]);
          // A MatMul's Const may hold Kᵀ; a convolution's filter (kh, kw, cin, cout) is K's own layout.
          const value = 'transposeB' in stored && stored.transposeB ? transpose(k) : k;
          weights[name] = [tf.tensor(value.data, stored.weight.shape, 'float32')];
        },
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

/** Multiply-accumulates a micro-benchmark run may take at batch 32 before its time axis is shortened (~2-4 ms on one wasm thread). */
const BENCH_MAX_MACS = 2 ** 25;

/** The layers holding targets, each as a one-layer model at its input size in the loaded model. */
function layerSubjects(model: ModelFile, graph: LayersGraph, loaded: tf.LayersModel, targets: readonly TargetMatrix[]): LatencySubject[] {
  const layers = [...new Set(targets.map((t) => t.layer))];
  return layers.flatMap((name): LatencySubject[] => {
    const ts = targets.filter((t) => t.layer === name);
    const layer = loaded.getLayer(name);
    const inputs = Array.isArray(layer.input) ? layer.input : [layer.input];
    if (inputs.length !== 1) return [];
    const shape = inputs[0].shape.slice(1);
    if (shape.some((d) => d === null) && shape.length > 2) return [];
    const embedding = layer.getClassName() === 'Embedding';
    const full = shape.map((d) => d ?? 32);
    // A time axis (ids of an Embedding, or [steps, features]) is shortened for big layers and the time scaled back.
    const timeAxis = (embedding && full.length === 1) || (!embedding && full.length === 2);
    const perPosition = ts.reduce((s, t) => s + (t.role === 'embeddings' ? t.cols : t.rows * t.cols), 0);
    const steps = timeAxis ? Math.min(full[0], Math.max(1, Math.floor(BENCH_MAX_MACS / (32 * perPosition)))) : null;
    const benchShape = steps !== null ? [steps, ...full.slice(1)] : full;
    // Output positions a kernel is applied at (a convolution's h x w; 1 for a Dense on a vector).
    const positions = (layer.outputShape as (number | null)[]).slice(1, -1).reduce<number>((p, d) => p * (d ?? 1), 1);
    const input: InputSpec = embedding
      ? { shape: benchShape, dtype: 'int32', vocab: Number((layer.getConfig() as { inputDim?: number }).inputDim ?? 2) }
      : { shape: benchShape, dtype: 'float32' };
    const config = graph.layers.find((l) => (l.config.name ?? l.name) === name)?.config ?? {};
    const { name: _n, batch_input_shape: _b, ...shapeConfig } = config;
    return [
      {
        layer: name,
        targets: ts,
        key: JSON.stringify([layer.getClassName(), shapeConfig, benchShape, ts.map((t) => [t.role, t.rows, t.cols, t.restoresOrder ?? false])]),
        scale: steps !== null ? full[0] / steps : 1,
        batchOne: steps === null && 32 * positions * perPosition > BENCH_MAX_MACS,
        macs: (steps !== null ? full[0] : positions) * perPosition,
        build: (structures) => oneLayerModel(model, graph, name, input, ts, structures, 7),
        inputs: [input],
        format: 'layers-model',
      },
    ];
  });
}

/**
 * Each graph target's node alone (oneNodeGraph) at the operand shape it has in the model
 * (a convolution's [h, w, cin] at the model's own input size); none when the model cannot
 * run on zeros of its signature (the planner then plans without micro-benchmarks).
 */
async function graphSubjects(model: ModelFile, loaded: tf.GraphModel, targets: readonly GraphTarget[]): Promise<LatencySubject[]> {
  let shapes: Map<string, number[]>;
  try {
    shapes = await graphTargetInputShapes(model, loaded, targets);
  } catch {
    return [];
  }
  return targets.flatMap((t): LatencySubject[] => {
    const shape = shapes.get(t.weight);
    if (!shape || shape.length === 0 || shape.some((d) => !(d > 0))) return [];
    const [site] = graphSites(model, [t]);
    const { name: _n, input: _i, device: _d, ...node } = site.node;
    const positions = t.conv ? shape.slice(0, -1).reduce((p, d, i) => p * Math.ceil(d / (t.conv!.strides[i] ?? 1)), 1) : shape.slice(0, -1).reduce((p, d) => p * d, 1);
    return [
      {
        layer: t.layer,
        targets: [t],
        key: JSON.stringify(['graph', node, shape, t.rows, t.cols]),
        scale: 1,
        batchOne: 32 * positions * t.rows * t.cols > BENCH_MAX_MACS,
        macs: positions * t.rows * t.cols,
        build: (structures) => {
          const s = structures.get(t.weight);
          return oneNodeGraph(model, t, shape, s && s.kind !== 'dense' ? randomResult(t, s, 7) : null);
        },
        inputs: [{ shape, dtype: 'float32' }],
        format: 'graph-model',
      },
    ];
  });
}

