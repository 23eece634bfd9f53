import type * as Tf from '@tensorflow/tfjs';
import { defineCells, type HmfCell, type HmfFactorsArgs } from './cells.js';
import type { TfModule } from './factors.js';

type Kwargs = Parameters<Tf.layers.Layer['call']>[1];
type StockCellType = Tf.RNN['cell'];

/** A runtime recurrent layer: TF.js's RNN around an hmf cell. */
export interface HmfRNN extends Tf.RNN {
  readonly hmfCell: HmfCell;
}

/** A runtime layer class as TF.js's serialization registry takes it, constructed from its config. */
export type HmfLayerClass<A, T extends Tf.serialization.Serializable = Tf.layers.Layer> = Tf.serialization.SerializableConstructor<T> & (new (args: A) => T);

export interface HmfRecurrentClasses {
  HmfLSTM: HmfLayerClass<HmfLSTMArgs, HmfRNN>;
  HmfGRU: HmfLayerClass<HmfGRUArgs, HmfRNN>;
  HmfSimpleRNN: HmfLayerClass<HmfSimpleRNNArgs, HmfRNN>;
}

export type HmfLSTMArgs = Omit<Tf.LSTMLayerArgs, 'cell'> & HmfFactorsArgs;
export type HmfGRUArgs = Omit<Tf.GRULayerArgs, 'cell'> & HmfFactorsArgs;
export type HmfSimpleRNNArgs = Omit<Tf.SimpleRNNLayerArgs, 'cell'> & HmfFactorsArgs;

/**
 * The runtime's recurrent layers, defined on the given TF.js.
 */
export function defineRecurrent(tf: TfModule): HmfRecurrentClasses {
  const cells = defineCells(tf);

  /**
   * A stock TF.js RNN (masking, initial and returned states, go_backwards, stateful)
   * around an HmfCell: each call projects the whole input sequence through the input
   * kernel first, time- and gate-major, then runs its own loop over the projected steps.
   *
   * The loop is TF.js's rnn() except for how the steps are taken out of the sequence
   * (`unstackSteps`).
   */
  abstract class HmfRNNBase extends tf.RNN implements HmfRNN {
    get hmfCell(): HmfCell {
      return this.cell as unknown as HmfCell;
    }

    override call(inputs: Tf.Tensor | Tf.Tensor[], kwargs: Kwargs): Tf.Tensor | Tf.Tensor[] {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const training = kwargs?.training === true;
        const cell = this.hmfCell;
        const given = kwargs?.initialState as Tf.Tensor[] | undefined;
        const initial = given ?? (this.stateful ? this.states_ : this.zeroStates(x.shape[0]));
        const stateSizes = Array.isArray(cell.stateSize) ? cell.stateSize : [cell.stateSize];
        if (initial.length !== stateSizes.length) {
          throw new Error(`${this.name}: the layer has ${stateSizes.length} state(s) but was passed ${initial.length} initial state(s)`);
        }
        const differentiable = training || tf.engine().isTapeOn();
        const mask = kwargs?.mask as Tf.Tensor | undefined;
        cell.begin(training, x.shape[0]);
        const outputs: Tf.Tensor[] = [];
        let states = initial;
        let last: Tf.Tensor | null = null;
        try {
          const xks = unstackSteps(tf, cell.projectInputs(x, training), differentiable);
          const masks = mask ? unstackSteps(tf, tf.expandDims(tf.transpose(tf.cast(tf.cast(mask, 'bool'), 'float32')), 2), differentiable) : null;
          const per = cell.stepInputs;
          const steps = xks.length / per;
          for (let i = 0; i < steps; i++) {
            const t = this.goBackwards ? steps - 1 - i : i;
            const out = cell.call([...xks.slice(t * per, (t + 1) * per), ...states], { training }) as Tf.Tensor[];
            if (masks) {
              const prev = states;
              const m = masks[t];
              const keep = tf.sub(1, m);
              last = tf.add(tf.mul(out[0], m), tf.mul(prev[0], keep));
              states = out.slice(1).map((s, j) => tf.add(tf.mul(s, m), tf.mul(prev[j], keep)));
            } else {
              last = out[0];
              states = out.slice(1);
            }
            if (this.returnSequences) outputs.push(last);
          }
        } finally {
          cell.end();
        }
        if (this.stateful) this.resetStates(states, training);
        const output = this.returnSequences ? tf.stack(outputs, 1) : (last as Tf.Tensor);
        return this.returnState ? [output, ...states] : output;
      });
    }

    override dispose(): ReturnType<Tf.RNN['dispose']> {
      // Sparse matrices keep their decoded and expanded forms between calls.
      this.hmfCell.kernel.sparseWeights?.dispose();
      this.hmfCell.recurrentKernel.sparseWeights?.dispose();
      return super.dispose();
    }

    private zeroStates(batch: number): Tf.Tensor[] {
      const s = this.hmfCell.stateSize;
      return (Array.isArray(s) ? s : [s]).map((dim) => tf.zeros([batch, dim]));
    }

    /** The config holds the cell's keys flat, as in TF.js's LSTM / GRU / SimpleRNN. */
    static override fromConfig<T extends Tf.serialization.Serializable>(
      cls: Tf.serialization.SerializableConstructor<T>,
      config: Tf.serialization.ConfigDict,
    ): T {
      return new cls(config);
    }
  }

  /** TF.js's LSTM with its kernel and recurrent kernel each dense or factored (LMF / HMF). */
  class HmfLSTM extends HmfRNNBase {
    static override className = 'HmfLSTM';
    constructor(args: HmfLSTMArgs) {
      super({ ...args, cell: new cells.HmfLSTMCell(args) as unknown as StockCellType });
    }
  }

  /** TF.js's GRU (reset_after false, the only variant TF.js runs) with factored matrices. */
  class HmfGRU extends HmfRNNBase {
    static override className = 'HmfGRU';
    constructor(args: HmfGRUArgs) {
      super({ ...args, cell: new cells.HmfGRUCell(args) as unknown as StockCellType });
    }
  }

  /** TF.js's SimpleRNN with factored matrices. */
  class HmfSimpleRNN extends HmfRNNBase {
    static override className = 'HmfSimpleRNN';
    constructor(args: HmfSimpleRNNArgs) {
      super({ ...args, cell: new cells.HmfSimpleRNNCell(args) as unknown as StockCellType });
    }
  }

  return { HmfLSTM, HmfGRU, HmfSimpleRNN };
}

/**
 * The steps of a time-major tensor [T, ...] as T tensors. tf.unstack slices, and the wasm
 * backend's Slice copies its whole input to the JS heap for every slice: unstacking a
 * [64, 32, 512] projection copied 64 x 4 MB, 117 ms of a 150 ms layer at batch 32. When
 * no gradient is needed, one download and T uploads of one step each do the same in 4 ms.
 */
function unstackSteps(tf: TfModule, x: Tf.Tensor, differentiable: boolean): Tf.Tensor[] {
  if (differentiable || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return tf.unstack(x);
  const [steps, ...shape] = x.shape;
  const data = x.dataSync() as Float32Array;
  const size = data.length / steps;
  return Array.from({ length: steps }, (_, t) => tf.tensor(data.subarray(t * size, (t + 1) * size), shape, 'float32'));
}
