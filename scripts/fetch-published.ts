/**
 * Fetches a published TF.js layers model with Dense layers from npm into
 * .cache/published/<name>/ as model.json + group1-shard1of1.bin (git-ignored,
 * never committed). Idempotent: does nothing when the files are present.
 *
 * The model: MobileNetV2 of nsfwjs@4.4.0 (MIT), a Keras 2.2.4 functional
 * model converted to a TF.js layers model with uint8-quantized weights; its
 * head is Flatten -> Dense(1280->256 relu) -> Dropout -> Dense(256->128 relu)
 * -> Dropout -> Dense(128->5 softmax). nsfwjs ships the model.json and shard
 * wrapped as browserify bundles (dist/models/mobilenet_v2/model.min.js and
 * group1-shard1of1.min.js); this script unwraps them without running the
 * package's code in the Node context: the shard is a base64 string literal, the
 * model.json an object literal evaluated in an empty vm context.
 *
 *   npm run build && node dist/scripts/fetch-published.js
 *
 * Exit codes: 0 fetched or already present; 2 the registry is unreachable; 1 otherwise.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runInNewContext } from 'node:vm';
import { PackageFetchError, cacheDir, fetchPackage } from './data.js';

export const PUBLISHED_SPEC = 'nsfwjs@4.4.0';
export const PUBLISHED_NAME = 'nsfwjs-mobilenet-v2';
const BUNDLE_DIR = join('dist', 'models', 'mobilenet_v2');
const SHARD = 'group1-shard1of1.bin';

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16' };
}

interface ModelJsonLike {
  modelTopology: unknown;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/** Folder that holds (or will hold) the unwrapped published model. */
export function publishedModelDir(): string {
  return join(cacheDir, 'published', PUBLISHED_NAME);
}

function bytesPerElement(spec: WeightSpec): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  if (dtype === 'uint8') return 1;
  if (dtype === 'uint16' || dtype === 'float16') return 2;
  return 4;
}

function unwrapModelJson(bundle: string, file: string): ModelJsonLike {
  const sandbox: { module: { exports: unknown }; exports: object } = { module: { exports: {} }, exports: {} };
  sandbox.exports = sandbox.module.exports as object;
  runInNewContext(bundle, sandbox, { filename: file, timeout: 5000 });
  const value = sandbox.module.exports as Partial<ModelJsonLike>;
  if (!value || typeof value !== 'object' || !value.modelTopology || !Array.isArray(value.weightsManifest)) {
    throw new Error(`${file}: expected a bundle exporting {modelTopology, weightsManifest}`);
  }
  // Round-trip through JSON so nothing from the vm context escapes.
  return JSON.parse(JSON.stringify(value)) as ModelJsonLike;
}

function unwrapShard(bundle: string, file: string): Buffer {
  const match = /exports\s*=\s*"([A-Za-z0-9+/=]+)"/.exec(bundle);
  if (!match) throw new Error(`${file}: expected a bundle exporting one base64 string`);
  return Buffer.from(match[1], 'base64');
}

/**
 * Ensures the published model is in publishedModelDir() and returns the path
 * of its model.json. Throws when the registry cannot be reached.
 */
export function fetchPublishedModel(): string {
  const dir = publishedModelDir();
  const modelPath = join(dir, 'model.json');
  if (existsSync(modelPath) && existsSync(join(dir, SHARD))) return modelPath;

  const pkg = fetchPackage(PUBLISHED_SPEC, 'published');
  const modelFile = join(pkg, BUNDLE_DIR, 'model.min.js');
  const shardFile = join(pkg, BUNDLE_DIR, 'group1-shard1of1.min.js');
  const json = unwrapModelJson(readFileSync(modelFile, 'utf8'), modelFile);
  const shard = unwrapShard(readFileSync(shardFile, 'utf8'), shardFile);

  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((p, d) => p * d, 1) * bytesPerElement(s), 0);
  if (shard.byteLength !== expected) {
    throw new Error(`${shardFile}: ${shard.byteLength} bytes of weights, the manifest expects ${expected}`);
  }

  const modelJson = {
    modelTopology: json.modelTopology,
    format: 'layers-model',
    generatedBy: `unwrapped from ${PUBLISHED_SPEC} ${BUNDLE_DIR}/*.min.js`,
    convertedBy: null,
    weightsManifest: [{ paths: [SHARD], weights: specs }],
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'model.json'), JSON.stringify(modelJson));
  writeFileSync(join(tmp, SHARD), shard);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return modelPath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const path = fetchPublishedModel();
    process.stdout.write(`${path}\n`);
  } catch (err) {
    const message = (err as Error).message;
    if (err instanceof PackageFetchError && err.registryUnreachable) {
      process.stderr.write(`fetch-published: cannot fetch ${PUBLISHED_SPEC}: ${message}\n`);
      process.exit(2);
    }
    process.stderr.write(`fetch-published: ${message}\n`);
    process.exit(1);
  }
}
