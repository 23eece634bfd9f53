import { tf } from '../tf.js';

/** A loaded model that measure can run: a layers model or a graph model. */
export interface Runnable {
  readonly outputNames: readonly string[];
  /** Runs the model on one batch (one tensor per input, in input order). */
  run(inputs: readonly tf.Tensor[]): tf.Tensor[];
  dispose(): void;
}

export function layersRunnable(model: tf.LayersModel): Runnable {
  return {
    outputNames: model.outputs.map((o) => o.name.replace(/\/.*$/, '')),
    run(inputs) {
      const y = model.predict(inputs.length === 1 ? inputs[0] : [...inputs]);
      return Array.isArray(y) ? y : [y];
    },
    dispose: () => model.dispose(),
  };
}

export function graphRunnable(model: tf.GraphModel): Runnable {
  return {
    outputNames: model.outputNodes,
    run(inputs) {
      const y = model.predict(inputs.length === 1 ? inputs[0] : [...inputs]);
      if (y instanceof tf.Tensor) return [y];
      return Array.isArray(y) ? y : model.outputNodes.map((n) => y[n]);
    },
    dispose: () => model.dispose(),
  };
}
