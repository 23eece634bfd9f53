import { tf } from '../tf.js';
import { ModelFormatError } from '../errors.js';
import { decodeEntry, layoutGroup } from './codec.js';
import { encodeWeights, withManifest } from './encode.js';
import { parseWeightSpecs } from './manifest.js';
import { loadChecked, type CheckedModel } from './read.js';
import type { ModelFile, QuantizeMode, Weight, WriteOptions } from './types.js';
import { writeModel } from './write.js';

/** An ArrayBuffer holding exactly the bytes of `b` (a Node Buffer may be a view into a larger pool). */
function exactBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return new Uint8Array(b).buffer;
}

/**
 * In-memory `tf.io.ModelArtifacts` for a model, weights encoded exactly as
 * `writeModel` with the same `quantize` mode would store them, so
 * `tf.loadLayersModel(tf.io.fromMemory(toArtifacts(m)))` sees what the files would hold.
 */
export function toArtifacts(model: Pick<ModelFile, 'json' | 'weights'>, options: { quantize?: QuantizeMode } = {}): tf.io.ModelArtifacts {
  const { specs, data } = encodeWeights(model.weights, options.quantize ?? 'keep');
  const json = withManifest(model.json, [{ paths: [], weights: specs }]) as unknown as tf.io.ModelJSON;
  return tf.io.getModelArtifactsForJSONSync(json, specs as unknown as tf.io.WeightsManifestEntry[], exactBuffer(data));
}

/**
 * A stock-TF.js IOHandler loading a local model.json and its shards, for
 * `tf.loadLayersModel` / `tf.loadGraphModel` without tfjs-node. Applies the
 * same path and shard-length checks as `readModel`; weights reach TF.js as
 * stored (TF.js itself dequantizes them).
 */
export function fileLoader(modelJsonPath: string): tf.io.IOHandler {
  return { load: async (): Promise<tf.io.ModelArtifacts> => checkedArtifacts(await loadChecked(modelJsonPath)) };
}

/** TF.js artifacts of a checked model's bytes as read: nothing decoded or encoded again. */
export function checkedArtifacts(checked: CheckedModel): tf.io.ModelArtifacts {
  const specs = checked.groups.flatMap((g) => g.group.raw) as unknown as tf.io.WeightsManifestEntry[];
  const buffers = checked.groups.map((g) => exactBuffer(g.data));
  const weightData = buffers.length === 1 ? buffers[0] : buffers;
  return tf.io.getModelArtifactsForJSONSync(checked.parsed.full as unknown as tf.io.ModelJSON, specs, weightData);
}

/**
 * TF.js artifacts of a model's files in memory (`encodeModel`'s map: model.json and the
 * shards its manifest names), exactly as they will be written: nothing encoded again.
 */
export function filesArtifacts(files: ReadonlyMap<string, Uint8Array>, source: string): tf.io.ModelArtifacts {
  const jsonBytes = files.get('model.json');
  if (!jsonBytes) throw new ModelFormatError(`${source}: expected a model.json among the model's files, found ${[...files.keys()].join(', ') || 'none'}`);
  const json = JSON.parse(new TextDecoder().decode(jsonBytes)) as tf.io.ModelJSON;
  const groups = json.weightsManifest ?? [];
  const buffers = groups.flatMap((g) =>
    g.paths.map((p) => {
      const shard = files.get(p);
      if (!shard) throw new ModelFormatError(`${source}: model.json names shard ${p}, found no such file among the model's files`);
      return exactBuffer(shard);
    }),
  );
  const specs = groups.flatMap((g) => g.weights);
  return tf.io.getModelArtifactsForJSONSync(json, specs, buffers.length === 1 ? buffers[0] : buffers);
}

/** The model.json keys TF.js artifacts carry, in the order TF.js writes them. */
const ARTIFACT_KEYS = [
  'modelTopology',
  'format',
  'generatedBy',
  'convertedBy',
  'trainingConfig',
  'signature',
  'userDefinedMetadata',
  'modelInitializer',
  'initializerSignature',
] as const;

/** Decodes ModelArtifacts' weights into Weights; `source` names them in errors. */
export function artifactsWeights(artifacts: tf.io.ModelArtifacts, source: string): Weight[] {
  const entries = parseWeightSpecs(artifacts.weightSpecs ?? [], source);
  const data = new Uint8Array(
    artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData),
  );
  const layout = layoutGroup(entries, data.byteLength, data);
  if (layout.needed !== data.byteLength) {
    throw new ModelFormatError(`${source}: weightSpecs need ${layout.needed} bytes, found ${data.byteLength} bytes of weightData`);
  }
  return entries.map((e, i) => decodeEntry(e, data.subarray(layout.starts[i], layout.starts[i + 1] ?? data.byteLength), source));
}

/**
 * A stock-TF.js IOHandler saving into a folder through `writeModel`
 * (`model.save(fileSaver(dir))`); `options` as for writeModel.
 */
export function fileSaver(outDir: string, options: WriteOptions = {}): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new ModelFormatError(`${outDir}: expected a JSON model topology to save, found binary (ArrayBuffer) topology`);
      }
      const json: Record<string, unknown> = {};
      for (const k of ARTIFACT_KEYS) if (artifacts[k] !== undefined && artifacts[k] !== null) json[k] = artifacts[k];
      await writeModel({ json, weights: artifactsWeights(artifacts, `${outDir} (model being saved)`) }, outDir, options);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
