import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../src/tf.js';
import { repoRoot } from '../helpers.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `hmf` binary (bin/hmf.js) with the given arguments. */
export function runHmf(args: string[], options: { env?: Record<string, string> } = {}): Promise<RunResult> {
  return runNode([join(repoRoot, 'bin', 'hmf.js'), ...args], { ...process.env, NO_COLOR: '1', ...options.env });
}

/** Runs `node <args>` from the repository root and collects its exit code and output. */
function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * Loads a model folder with stock TF.js only: the files are read with plain fs and
 * handed to tf.loadLayersModel through tf.io.fromMemory — none of hmf's own I/O code.
 */
export async function loadStock(modelJsonPath: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const dir = join(modelJsonPath, '..');
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** Accuracy of a classifier on a fixture's test.json ({inputs, labels}). */
export function accuracyOn(model: tf.LayersModel, testJsonPath: string): number {
  const data = JSON.parse(readFileSync(testJsonPath, 'utf8')) as { inputs: number[][]; labels: number[] };
  const dtype = model.inputs[0].dtype === 'int32' ? 'int32' : 'float32';
  return tf.tidy(() => {
    const x = tf.tensor(data.inputs, undefined, dtype);
    const y = model.predict(x) as tf.Tensor;
    const predicted = y.argMax(-1).dataSync();
    let correct = 0;
    for (let i = 0; i < data.labels.length; i++) if (predicted[i] === data.labels[i]) correct++;
    return correct / data.labels.length;
  });
}

/** Loads a graph model folder with stock TF.js only (plain fs + tf.loadGraphModel). */
export async function loadStockGraph(modelJsonPath: string): Promise<tf.GraphModel> {
  const json = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const dir = join(modelJsonPath, '..');
  const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  );
}

/**
 * Loads a layers model in a fresh Node process that imports only @tensorflow/tfjs and,
 * when `withRuntime`, hmf's built runtime bundle (what `hmf/runtime` imports); predicts on the given inputs and
 * returns the output (or the error message).
 */
export function predictInFreshProcess(modelJsonPath: string, input: number[][], dtype: 'int32' | 'float32', withRuntime: boolean): Promise<RunResult> {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { readFileSync } from 'node:fs';
    import { join } from 'node:path';
    ${withRuntime ? `const { registerHmfLayers } = await import(${JSON.stringify(join(repoRoot, 'dist', 'runtime', 'hmf-runtime.mjs'))}); registerHmfLayers(tf);` : ''}
    const path = ${JSON.stringify(modelJsonPath)};
    const json = JSON.parse(readFileSync(path, 'utf8'));
    const all = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(path, '..', p)))));
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) }));
    const y = model.predict(tf.tensor(${JSON.stringify(input)}, undefined, ${JSON.stringify(dtype)}));
    process.stdout.write(JSON.stringify({ shape: y.shape, values: Array.from(y.dataSync()) }));
  `;
  return runNode(['--input-type=module', '-e', script]);
}
