import { ModelFormatError } from '../errors.js';

/** One entry of a layers model's `config.layers`, in TF.js's Keras JSON form. */
export interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
  /** Functional models only. */
  name?: string;
  /** Functional models only: one list per call of the layer, each a list of [layer, node, tensor, kwargs]. */
  inbound_nodes?: InboundRef[][];
}

export type InboundRef = [string, number, number, Record<string, unknown>?];

/** The topology of a layers model, as a list of layers with explicit edges. */
export interface LayersGraph {
  kind: 'sequential' | 'functional';
  /** Name of the model (`config.name`). */
  name: string;
  layers: LayerJson[];
  /** Functional: `input_layers` / `output_layers`. Sequential: empty. */
  inputLayers: [string, number, number][];
  outputLayers: [string, number, number][];
}

export function layerName(layer: LayerJson): string {
  const name = layer.config.name ?? layer.name;
  if (typeof name !== 'string') throw new ModelFormatError(`layer of class ${layer.class_name} has no name`);
  return name;
}

/** Reads `modelTopology` of a layers model into a LayersGraph. */
export function parseLayersTopology(modelTopology: unknown, file: string): LayersGraph {
  const top = asObject(modelTopology, `${file}: modelTopology`);
  // Keras H5 conversions nest the model under model_config.
  const model = top.model_config !== undefined ? asObject(top.model_config, `${file}: modelTopology.model_config`) : top;
  const className = model.class_name;
  const config = asObject(model.config, `${file}: modelTopology.config`);
  const layersRaw = config.layers;
  if (!Array.isArray(layersRaw)) {
    throw new ModelFormatError(`${file}: modelTopology.config.layers: expected an array of layers, found ${typeof layersRaw}`);
  }
  const layers = layersRaw.map((l, i) => {
    const at = `${file}: modelTopology.config.layers[${i}]`;
    const layer = asObject(l, at);
    if (typeof layer.class_name !== 'string') {
      throw new ModelFormatError(`${at}: expected a string class_name, found ${typeof layer.class_name}`);
    }
    const config = asObject(layer.config, `${at} (${layer.class_name}).config`);
    const name = config.name ?? layer.name;
    if (typeof name !== 'string' || name === '') {
      throw new ModelFormatError(`${at} (${layer.class_name}): expected a non-empty string config.name, found ${JSON.stringify(name) ?? 'none'}`);
    }
    return layer as unknown as LayerJson;
  });
  // Weights, edges and rewrites go by layer name: two layers of one name are ambiguous.
  const seen = new Map<string, number>();
  layers.forEach((l, i) => {
    const n = layerName(l);
    const first = seen.get(n);
    if (first !== undefined) {
      throw new ModelFormatError(`${file}: modelTopology.config.layers[${i}]: expected unique layer names, found "${n}" again (first at layers[${first}])`);
    }
    seen.set(n, i);
  });
  const name = typeof config.name === 'string' ? config.name : 'model';
  if (className === 'Sequential') {
    return { kind: 'sequential', name, layers, inputLayers: [], outputLayers: [] };
  }
  if (className === 'Model' || className === 'Functional') {
    return {
      kind: 'functional',
      name,
      layers,
      inputLayers: (config.input_layers ?? []) as [string, number, number][],
      outputLayers: (config.output_layers ?? []) as [string, number, number][],
    };
  }
  throw new ModelFormatError(`${file}: modelTopology: expected class_name Sequential, Model or Functional, found ${String(className)}`);
}

/** Writes a LayersGraph back into a copy of the original `modelTopology`, keeping every other key. */
export function serializeLayersTopology(original: unknown, graph: LayersGraph): Record<string, unknown> {
  const top = structuredClone(original) as Record<string, unknown>;
  const holder = top.model_config !== undefined ? (top.model_config as Record<string, unknown>) : top;
  const oldConfig = holder.config as Record<string, unknown>;
  if (graph.kind === 'sequential') {
    holder.class_name = 'Sequential';
    holder.config = { ...oldConfig, name: graph.name, layers: graph.layers };
  } else {
    holder.class_name = holder.class_name === 'Functional' ? 'Functional' : 'Model';
    const { name: _n, layers: _l, input_layers: _i, output_layers: _o, ...rest } = oldConfig;
    holder.config = {
      name: graph.name,
      layers: graph.layers,
      input_layers: graph.inputLayers,
      output_layers: graph.outputLayers,
      ...rest,
    };
  }
  return top;
}

/**
 * The same model as a functional graph: a Sequential model gains an explicit
 * InputLayer and one inbound edge per layer. Needed where a rewrite branches.
 */
export function toFunctional(graph: LayersGraph): LayersGraph {
  if (graph.kind === 'functional') return graph;
  if (graph.layers.length === 0) throw new ModelFormatError(`Sequential model ${graph.name} has no layers`);
  const layers: LayerJson[] = [];
  let first = graph.layers[0];
  let inputName: string;
  if (first.class_name === 'InputLayer') {
    inputName = layerName(first);
    layers.push({ name: inputName, class_name: 'InputLayer', config: { ...first.config }, inbound_nodes: [] });
  } else {
    const batchInputShape = first.config.batch_input_shape;
    if (!Array.isArray(batchInputShape)) {
      throw new ModelFormatError(
        `Sequential model ${graph.name}: first layer ${layerName(first)} has no batch_input_shape, so its input is unknown`,
      );
    }
    inputName = `${layerName(first)}_input`;
    layers.push({
      name: inputName,
      class_name: 'InputLayer',
      config: { batch_input_shape: batchInputShape, dtype: first.config.dtype ?? 'float32', sparse: false, name: inputName },
      inbound_nodes: [],
    });
    const { batch_input_shape: _b, ...rest } = first.config;
    first = { ...first, config: rest };
  }
  let previous = inputName;
  const body = graph.layers[0].class_name === 'InputLayer' ? graph.layers.slice(1) : [first, ...graph.layers.slice(1)];
  for (const layer of body) {
    const name = layerName(layer);
    layers.push({ name, class_name: layer.class_name, config: layer.config, inbound_nodes: [[[previous, 0, 0, {}]]] });
    previous = name;
  }
  return {
    kind: 'functional',
    name: graph.name,
    layers,
    inputLayers: [[inputName, 0, 0]],
    outputLayers: [[previous, 0, 0]],
  };
}

/** For each layer name, the names of the layers that take one of its outputs as input. */
export function consumersOf(graph: LayersGraph): Map<string, string[]> {
  const consumers = new Map<string, string[]>();
  const add = (from: string, to: string) => {
    const list = consumers.get(from) ?? [];
    if (!list.includes(to)) list.push(to);
    consumers.set(from, list);
  };
  if (graph.kind === 'sequential') {
    for (let i = 0; i + 1 < graph.layers.length; i++) add(layerName(graph.layers[i]), layerName(graph.layers[i + 1]));
    return consumers;
  }
  for (const layer of graph.layers) {
    for (const node of layer.inbound_nodes ?? []) for (const ref of node) add(ref[0], layerName(layer));
  }
  return consumers;
}

/** Names of the layers whose outputs are outputs of the model. */
export function outputLayerNames(graph: LayersGraph): Set<string> {
  if (graph.kind === 'sequential') {
    return new Set(graph.layers.length ? [layerName(graph.layers[graph.layers.length - 1])] : []);
  }
  return new Set(graph.outputLayers.map((o) => o[0]));
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelFormatError(`${what}: expected an object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  }
  return value as Record<string, unknown>;
}
