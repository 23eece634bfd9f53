/**
 * The latency worker (see timing.ts): its own TF.js, on the backend and thread count that
 * latency is reported on, timing pairs of models sent to it. Layer micro-benchmarks run here
 * so that the main thread's backend keeps every core for factorizing.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { tf } from '../tf.js';
import { initBackend, type BackendName } from '../backend.js';
import { registerHmfLayers } from '../runtime/index.js';
import { pairedTimes, runOnce } from './latency.js';
import { graphRunnable, layersRunnable, type Runnable } from './runnable.js';
import type { TimingRequest, TimingReply } from './timing.js';

// TF.js's own messages (the tfjs-node banner on the cpu backend) would reach hmf's stderr from here (see cli/main.ts quietDependencies).
for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) console[level] = () => {};

const ready = initBackend((workerData as { backend?: BackendName }).backend).then(() => registerHmfLayers(tf));

async function load(format: TimingRequest['format'], artifacts: tf.io.ModelArtifacts): Promise<Runnable> {
  return format === 'graph-model'
    ? graphRunnable(await tf.loadGraphModel(tf.io.fromMemory(artifacts)))
    : layersRunnable(await tf.loadLayersModel(tf.io.fromMemory(artifacts)));
}

parentPort?.on('message', (request: TimingRequest) => {
  void (async (): Promise<TimingReply> => {
    await ready;
    const a = await load(request.format, request.a);
    const b = request.b ? await load(request.format, request.b) : null;
    const inputs = request.inputs.map((spec, i) =>
      spec.dtype === 'int32'
        ? tf.randomUniform([request.batch, ...spec.shape], 0, spec.vocab ?? 2, 'int32', 7 + i)
        : tf.randomNormal([request.batch, ...spec.shape], 0, 1, 'float32', 7 + i),
    );
    try {
      if (!b) return { id: request.id, ...(await pairedTimes(() => runOnce(a, inputs), async () => 0, request.options)), b: [] };
      return { id: request.id, ...(await pairedTimes(() => runOnce(a, inputs), () => runOnce(b, inputs), request.options)) };
    } finally {
      tf.dispose(inputs);
      a.dispose();
      b?.dispose();
    }
  })()
    .catch((err: Error) => ({ id: request.id, error: err.message }))
    .then((reply) => parentPort?.postMessage(reply));
});
