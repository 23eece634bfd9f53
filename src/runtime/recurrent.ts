import * as tf from '@tensorflow/tfjs';
import { HmfGRUCell, HmfLSTMCell, HmfSimpleRNNCell, type HmfCell, type HmfFactorsArgs } from './cells.js';

type Kwargs = Parameters<tf.layers.Layer['call']>[1];
type StockCellType = tf.RNN['cell'];

/**
 * A stock TF.js RNN (masking, initial and returned states, go_backwards, stateful)
 * around an HmfCell: each call projects the whole input sequence through the input
 * kernel first, then runs the loop over the projected steps.
 */
export abstract class HmfRNN extends tf.RNN {
  get hmfCell(): HmfCell {
    return this.cell as unknown as HmfCell;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = kwargs?.training === true;
      const cell = this.hmfCell;
      const projected = cell.projectInputs(x, training);
      cell.begin(training, x.shape[0]);
      try {
        return super.call(projected, { mask: kwargs?.mask, training: kwargs?.training, initialState: kwargs?.initialState });
      } finally {
        cell.end();
      }
    });
  }

  /** The config holds the cell's keys flat, as in TF.js's LSTM / GRU / SimpleRNN. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }
}

export type HmfLSTMArgs = Omit<tf.LSTMLayerArgs, 'cell'> & HmfFactorsArgs;
export type HmfGRUArgs = Omit<tf.GRULayerArgs, 'cell'> & HmfFactorsArgs;
export type HmfSimpleRNNArgs = Omit<tf.SimpleRNNLayerArgs, 'cell'> & HmfFactorsArgs;

/** TF.js's LSTM with its kernel and recurrent kernel each dense or factored (LMF / HMF). */
export class HmfLSTM extends HmfRNN {
  static override className = 'HmfLSTM';
  constructor(args: HmfLSTMArgs) {
    super({ ...args, cell: new HmfLSTMCell(args) as unknown as StockCellType });
  }
}

/** TF.js's GRU (reset_after false, the only variant TF.js runs) with factored matrices. */
export class HmfGRU extends HmfRNN {
  static override className = 'HmfGRU';
  constructor(args: HmfGRUArgs) {
    super({ ...args, cell: new HmfGRUCell(args) as unknown as StockCellType });
  }
}

/** TF.js's SimpleRNN with factored matrices. */
export class HmfSimpleRNN extends HmfRNN {
  static override className = 'HmfSimpleRNN';
  constructor(args: HmfSimpleRNNArgs) {
    super({ ...args, cell: new HmfSimpleRNNCell(args) as unknown as StockCellType });
  }
}

/** The runtime recurrent layer classes by class name. */
export const RECURRENT_CLASSES: Readonly<Record<string, new (config: tf.serialization.ConfigDict) => HmfRNN>> = {
  HmfLSTM: HmfLSTM as unknown as new (config: tf.serialization.ConfigDict) => HmfRNN,
  HmfGRU: HmfGRU as unknown as new (config: tf.serialization.ConfigDict) => HmfRNN,
  HmfSimpleRNN: HmfSimpleRNN as unknown as new (config: tf.serialization.ConfigDict) => HmfRNN,
};
