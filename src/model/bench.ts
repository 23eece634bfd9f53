import type { ModelFile, Weight } from '../io/index.js';
import type { InputSpec } from '../measure/timing.js';
import { gaussianArray } from '../linalg/random.js';
import type { Matrix } from '../linalg/matrix.js';
import type { Compressed } from '../methods/types.js';
import { rewriteLayers, type MatrixRewrite } from './rewrite.js';
import type { TargetMatrix } from './targets.js';
import { layerName, serializeLayersTopology, type LayerJson, type LayersGraph } from './topology.js';

/**
 * A structure a target can be written in, as far as its run time is concerned (the
 * values do not matter to a latency micro-benchmark, only the shapes and the layers).
 */
export type Structure =
  | { readonly kind: 'dense' }
  | { readonly kind: 'lmf'; readonly rank: number }
  | { readonly kind: 'hmf'; readonly rank: number; readonly k: number; readonly scattered: boolean };

export function structureKey(s: Structure): string {
  return s.kind === 'dense' ? 'dense' : s.kind === 'lmf' ? `lmf${s.rank}` : `hmf${s.k}/${s.rank}${s.scattered ? 's' : ''}`;
}


/**
 * A layers model holding only `layer` of `model`, fed by an InputLayer of `input`'s shape,
 * with each of `structures` (by weight name; the others stay dense) written as the real
 * rewrite writes it, and factors of random values. What a latency micro-benchmark runs.
 */
export function oneLayerModel(model: ModelFile, graph: LayersGraph, layer: string, input: InputSpec, targets: readonly TargetMatrix[], structures: ReadonlyMap<string, Structure>, seed: number): ModelFile {
  const original = graph.layers.find((l) => layerName(l) === layer);
  if (!original) throw new Error(`internal: no layer ${layer}`);
  const inputName = `${layer}__bench_input`;
  // An Embedding's input_dim is its vocabulary; elsewhere it is a declared input shape, which the InputLayer now holds.
  const { batch_input_shape: _b, input_shape: _s, ...withDim } = original.config;
  const { input_dim: _d, ...withoutDim } = withDim;
  const config = original.class_name === 'Embedding' ? withDim : withoutDim;
  const single: LayersGraph = {
    kind: 'functional',
    name: `${layer}__bench`,
    layers: [
      { name: inputName, class_name: 'InputLayer', config: { batch_input_shape: [null, ...input.shape], dtype: input.dtype, sparse: false, name: inputName }, inbound_nodes: [] },
      { ...original, name: layer, config: { ...config }, inbound_nodes: [[[inputName, 0, 0, {}]]] } as LayerJson,
    ],
    inputLayers: [[inputName, 0, 0]],
    outputLayers: [[layer, 0, 0]],
  };
  const weights = model.weights.filter((w) => w.name.startsWith(`${layer}/`));
  const rewrites: MatrixRewrite[] = [];
  targets.forEach((t, i) => {
    const s = structures.get(t.weight);
    if (!s || s.kind === 'dense') return;
    // A single layer has no consumer to absorb a new output order: scattered HMF outputs are
    // timed as such (the consumer's permuted rows cost nothing at run time).
    rewrites.push({ target: { ...t, orderAbsorbers: [], restoresOrder: t.restoresOrder }, result: randomResult(t, s, seed + i) });
  });
  const out = rewriteLayers(single, weights, rewrites, new Map());
  const json = { ...model.json, modelTopology: serializeLayersTopology({ class_name: 'Model', config: {} }, out.graph) };
  return { ...model, json, weights: out.weights.map(plain) };
}

/** Timing does not depend on the encoding: every benchmark weight is plain float32. */
function plain(w: Weight): Weight {
  const { quantization: _q, ...rest } = w;
  return rest;
}

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const data = Float32Array.from(gaussianArray(rows * cols, seed), (v) => v * 0.05);
  return { rows, cols, data };
}

/** A result of the structure's shapes with random values. */
export function randomResult(t: TargetMatrix, s: Exclude<Structure, { kind: 'dense' }>, seed: number): Compressed {
  const { rows: n, cols: m } = t;
  const p = randomMatrix(n, s.rank, seed);
  if (s.kind === 'lmf') return { kind: 'lmf', rank: s.rank, p, q: randomMatrix(s.rank, m, seed + 1), params: s.rank * (n + m), error: 0 };
  const k = Math.min(s.k, m - 1);
  // Scattered: every (m / k)-th output dense, as a residual selection spreads them; leading: the first k.
  const isDense = new Uint8Array(m);
  for (let i = 0; i < k; i++) isDense[s.scattered ? Math.floor((i * m) / k) : i] = 1;
  const all = Int32Array.from({ length: m }, (_, j) => j);
  const denseOutputs = all.filter((j) => isDense[j] === 1);
  const lowRankOutputs = all.filter((j) => isDense[j] === 0);
  return {
    kind: 'hmf',
    rank: s.rank,
    k,
    denseOutputs,
    lowRankOutputs,
    dense: randomMatrix(n, k, seed + 2),
    p,
    q: randomMatrix(s.rank, lowRankOutputs.length, seed + 1),
    params: k * n + s.rank * (n + m - k),
    error: 0,
  };
}
