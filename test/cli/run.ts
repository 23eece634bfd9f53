import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../helpers.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `hmf` binary (bin/hmf.js) with the given arguments. */
export function runHmf(args: string[], options: { env?: Record<string, string> } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'hmf.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
