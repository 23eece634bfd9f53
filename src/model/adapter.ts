import * as tf from '@tensorflow/tfjs';
import { toArtifacts, type ModelFile } from '../io/index.js';
import { inputSignatures, type InputSignature } from '../measure/probes.js';
import { layersRunnable, type Runnable } from '../measure/runnable.js';
import { rewriteLayers, type MatrixRewrite } from './rewrite.js';
import { scanTargets, type SkippedMatrix, type TargetMatrix } from './targets.js';
import { parseLayersTopology, serializeLayersTopology } from './topology.js';

/** What the pipeline needs from a model format: its targets, a rewrite, and a way to run it. */
export interface ModelAdapter {
  readonly className: string;
  readonly targets: readonly TargetMatrix[];
  readonly skipped: readonly SkippedMatrix[];
  readonly unknownLayers: readonly { layer: string; className: string }[];
  /** The compressed model: structural rewrites plus weights whose values changed. */
  rewrite(rewrites: readonly MatrixRewrite[], changed: ReadonlyMap<string, Float32Array>): ModelFile;
  /** Loads a model of this format into TF.js (in memory) for measurement. */
  load(model: ModelFile): Promise<{ runnable: Runnable; signatures: InputSignature[] }>;
}

/** The adapter for TF.js layers models. */
export function layersAdapter(model: ModelFile, minParams: number): ModelAdapter {
  const graph = parseLayersTopology(model.json.modelTopology, model.path);
  const scan = scanTargets(graph, model.weights, minParams);
  const topology = model.json.modelTopology as { class_name?: string; model_config?: { class_name?: string } };
  return {
    className: String(topology.model_config?.class_name ?? topology.class_name),
    ...scan,
    rewrite(rewrites, changed) {
      const out = rewriteLayers(graph, model.weights, rewrites, changed);
      return { ...model, json: { ...model.json, modelTopology: serializeLayersTopology(model.json.modelTopology, out.graph) }, weights: out.weights };
    },
    async load(m) {
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(toArtifacts(m)));
      return { runnable: layersRunnable(loaded), signatures: inputSignatures(loaded) };
    },
  };
}
