import type * as Tf from '@tensorflow/tfjs';
import { MatrixWeights, multiply, multiplyBlocks, type FactorsConfig, type Initializer, type PreparedBlock, type TfModule } from './factors.js';
import { checkSparseConfig, type SparseConfig } from './sparse.js';

/** The matrices' storage of a runtime recurrent layer (config keys). */
export interface HmfFactorsArgs {
  /** Input kernel: null (dense) or its factors. @default null */
  kernelFactors?: FactorsConfig | null;
  /** Recurrent kernel: null (dense) or its factors. @default null */
  recurrentKernelFactors?: FactorsConfig | null;
  /** Input kernel pruned and stored compactly (not with kernelFactors). @default null */
  kernelSparse?: SparseConfig | null;
  /** Recurrent kernel pruned and stored compactly (not with recurrentKernelFactors). @default null */
  recurrentKernelSparse?: SparseConfig | null;
}

type StockCell = ReturnType<typeof Tf.layers.lstmCell> | ReturnType<typeof Tf.layers.gruCell> | ReturnType<typeof Tf.layers.simpleRNNCell>;
type Activation = ReturnType<typeof Tf.layers.lstmCell>['activation'];
type Kwargs = Parameters<Tf.layers.Layer['call']>[1];
type LayerArgs = NonNullable<ConstructorParameters<typeof Tf.layers.Layer>[0]>;

/** What a runtime recurrent layer and the Bidirectional wrapper use of their cell. */
export interface HmfCell extends Tf.layers.Layer {
  readonly stateSize: number | number[];
  /** Prefix of the weight names when a wrapper owns the layer (e.g. `forward_lstm_1/`). */
  weightPrefix: string;
  /** Inputs per step that the cell's call() takes before the states. */
  readonly stepInputs: number;
  /** Chooses how the steps of one call run and reads the recurrent weights once for them. */
  begin(training: boolean, batch: number): void;
  end(): void;
  /** x K + b for every step of `x` (batch, time, n) at once, time-major. Call begin() first. */
  projectInputs(x: Tf.Tensor, training: boolean): Tf.Tensor3D;
  /** The input kernel and the recurrent kernel. */
  readonly kernel: MatrixWeights;
  readonly recurrentKernel: MatrixWeights;
}

/** A runtime cell class: constructed from its config. */
export type HmfCellClass<A> = new (args: A) => HmfCell;

export interface HmfCellClasses {
  HmfLSTMCell: HmfCellClass<HmfLSTMCellArgs>;
  HmfGRUCell: HmfCellClass<HmfGRUCellArgs>;
  HmfSimpleRNNCell: HmfCellClass<HmfSimpleRNNCellArgs>;
}

export type HmfLSTMCellArgs = Tf.LSTMCellLayerArgs & HmfFactorsArgs;
export type HmfGRUCellArgs = Tf.GRUCellLayerArgs & HmfFactorsArgs;
export type HmfSimpleRNNCellArgs = Tf.SimpleRNNCellLayerArgs & HmfFactorsArgs;

function toConfig(f: FactorsConfig | null): Tf.serialization.ConfigDict | null {
  return f ? { rank: f.rank, denseRanges: f.denseRanges.map((r) => [...r]) } : null;
}

function act(a: Activation, x: Tf.Tensor): Tf.Tensor {
  return a.apply(x);
}

/** The runtime's recurrent cells, defined on the given TF.js. */
export function defineCells(tf: TfModule): HmfCellClasses {
  /**
   * A recurrent cell whose input projection x K + b is computed for the whole sequence
   * before the loop (`projectInputs`), so each step only multiplies the state by the
   * recurrent matrix, dense or factored. From batch `perGateFrom` on, steps work gate by
   * gate (one [batch, units] tensor per gate, from the projection and from the recurrent
   * matrix's column blocks): the wasm backend's split copies its whole input for every
   * piece, which at batch 32 costs more than the extra products and adds; below it, one
   * product and a split per step take fewer ops (per-op overhead dominates at batch 1).
   * A stock cell of the same kind (never built) holds the configuration, so activations and config keys are exactly TF.js's.
   */
  abstract class HmfCellBase extends tf.layers.Layer implements HmfCell {
    abstract readonly stateSize: number | number[];
    dropoutMask: Tf.Tensor | null = null;
    recurrentDropoutMask: Tf.Tensor | null = null;
    /** Prefix of the weight names when a wrapper owns the layer (e.g. `forward_lstm_1/`). */
    weightPrefix = '';
    readonly units: number;
    /** Gate blocks of `units` columns in the matrices (LSTM 4, GRU 3, SimpleRNN 1). */
    readonly gates: number;
    readonly kernel: MatrixWeights;
    readonly recurrentKernel: MatrixWeights;
    protected bias: Tf.LayerVariable | null = null;
    protected recurrent: PreparedBlock[] | null = null;
    /** Smallest batch that steps gate by gate. */
    protected readonly perGateFrom: number = 1;
    /** Whether the current call steps gate by gate (set by begin()). */
    perGate = true;

    protected constructor(
      args: LayerArgs & HmfFactorsArgs,
      protected readonly stock: StockCell,
      gates: number,
    ) {
      super(args);
      this.units = stock.units;
      this.gates = gates;
      const sparse = (c: SparseConfig | null | undefined, key: string) => (c ? checkSparseConfig(c, `${this.name} ${key}`) : null);
      this.kernel = new MatrixWeights(tf, 'kernel', args.kernelFactors ?? null, gates * this.units, sparse(args.kernelSparse, 'kernelSparse'), this.name);
      this.recurrentKernel = new MatrixWeights(
        tf,
        'recurrent_kernel',
        args.recurrentKernelFactors ?? null,
        gates * this.units,
        sparse(args.recurrentKernelSparse, 'recurrentKernelSparse'),
        this.name,
      );
    }

    override build(inputShape: Tf.Shape | Tf.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Tf.Shape;
      const inputDim = shape[shape.length - 1];
      if (inputDim == null) throw new Error(`${this.name}: the input's last dimension must be known`);
      const add = (name: string, s: number[], init: Initializer, dtype: 'float32' | 'int32' = 'float32', trainable = true) =>
        this.addWeight(`${this.weightPrefix}${name}`, s, dtype, init, undefined, trainable);
      this.kernel.build(add, inputDim, this.stock.kernelInitializer);
      this.recurrentKernel.build(add, this.units, this.recurrentKernel.factors ? this.stock.kernelInitializer : this.stock.recurrentInitializer);
      if (this.stock.useBias) this.bias = add('bias', [this.kernel.cols], this.stock.biasInitializer);
      this.initBias();
      this.built = true;
    }

    /** Hook for bias initialisation beyond the initializer (LSTM's unit forget bias). */
    protected initBias(): void {}

    /**
     * x K + b for every step of `x` (batch, time, n) at once, time-major: (time, batch,
     * gates * units), or (time * gates, batch, units) when stepping gate by gate; input
     * dropout when training. Call begin() first.
     */
    projectInputs(x: Tf.Tensor, training: boolean): Tf.Tensor3D {
      const [batch, steps, n] = x.shape;
      // Transposing x (n wide) is cheaper than transposing the projection (gates wide).
      let xs = tf.transpose(x, [1, 0, 2]);
      if (training && this.stock.dropout > 0 && this.stock.dropout < 1) {
        xs = tf.mul(xs, tf.dropout(tf.ones([batch, n]), this.stock.dropout));
      }
      let y = multiply(tf, tf.reshape(xs, [steps * batch, n]), this.kernel.prepare()[0]);
      if (this.bias) y = tf.add(y, this.bias.read());
      const u = this.units;
      if (this.gates === 1 || !this.perGate) return tf.reshape(y, [steps, batch, this.kernel.cols]);
      return tf.reshape(tf.transpose(tf.reshape(y, [steps, batch, this.gates, u]), [0, 2, 1, 3]), [steps * this.gates, batch, u]);
    }

    /** Inputs per step that the cell's call() takes before the states. */
    get stepInputs(): number {
      return this.perGate ? this.gates : 1;
    }

    /** Chooses how the steps of one call run and reads the recurrent weights once for them. */
    begin(training: boolean, batch: number): void {
      this.perGate = batch >= this.perGateFrom;
      const u = this.units;
      this.recurrent = this.recurrentKernel.prepare(this.perGate ? new Array<number>(this.gates).fill(u) : [this.gates * u]);
      const rate = this.stock.recurrentDropout;
      this.recurrentDropoutMask = training && rate > 0 && rate < 1 ? tf.dropout(tf.ones([batch, this.units]), rate) : null;
    }

    end(): void {
      this.recurrent = null;
      this.recurrentDropoutMask = null;
    }

    /** One step: inputs are this step's x K + b (`stepInputs` tensors: whole, or one per gate), then the states. */
    override call(inputs: Tf.Tensor | Tf.Tensor[], _kwargs: Kwargs): Tf.Tensor[] {
      if (!this.recurrent) throw new Error(`${this.name}: the cell runs only inside its layer's call()`);
      const rec = this.recurrent;
      return tf.tidy(() => {
        const all = inputs as Tf.Tensor2D[];
        const xk = all.slice(0, this.stepInputs);
        const states = all.slice(this.stepInputs);
        const h = this.recurrentDropoutMask ? (tf.mul(states[0], this.recurrentDropoutMask) as Tf.Tensor2D) : states[0];
        return this.step(xk, h, states, rec);
      });
    }

    /** One step: `xk` is this step's x K + b, per gate if perGate, `h` the (dropped-out) previous output. Returns [output, ...new states]. */
    protected abstract step(xk: Tf.Tensor2D[], h: Tf.Tensor2D, states: Tf.Tensor2D[], rec: PreparedBlock[]): Tf.Tensor[];

    override getConfig(): Tf.serialization.ConfigDict {
      return {
        ...this.stock.getConfig(),
        kernelFactors: toConfig(this.kernel.factors),
        recurrentKernelFactors: toConfig(this.recurrentKernel.factors),
        ...(this.kernel.sparse ? { kernelSparse: { ...this.kernel.sparse } } : {}),
        ...(this.recurrentKernel.sparse ? { recurrentKernelSparse: { ...this.recurrentKernel.sparse } } : {}),
      };
    }
  }

  class HmfLSTMCell extends HmfCellBase {
    static className = 'HmfLSTMCell';
    readonly stateSize: number[];
    private readonly lstm: ReturnType<typeof Tf.layers.lstmCell>;
    // Per gate an LMF step runs 9 ops instead of 4 and a split: at batch 1 about 0.8x as fast
    // (~12 µs per op), at batch 32 1.1-1.3x (the split's copies). GRU splits twice: always per gate.
    protected override readonly perGateFrom = 8;

    constructor(args: HmfLSTMCellArgs) {
      const stock = tf.layers.lstmCell(args);
      super(args, stock, 4);
      this.lstm = stock;
      this.stateSize = [this.units, this.units];
    }

    protected override initBias(): void {
      if (!this.bias || !this.lstm.unitForgetBias) return;
      const u = this.units;
      const b = this.bias;
      tf.tidy(() => {
        const v = b.read();
        b.write(tf.concat([tf.slice(v, 0, u), tf.ones([u]), tf.slice(v, 2 * u, 2 * u)]));
      });
    }

    protected step(xk: Tf.Tensor2D[], h: Tf.Tensor2D, states: Tf.Tensor2D[], rec: PreparedBlock[]): Tf.Tensor[] {
      const [z0, z1, z2, z3] = this.perGate
        ? multiplyBlocks(tf, h, rec).map((r, g) => tf.add(xk[g], r))
        : tf.split(tf.add(xk[0], multiply(tf, h, rec[0])), 4, 1);
      const ra = this.lstm.recurrentActivation;
      const i = act(ra, z0);
      const f = act(ra, z1);
      const c = tf.add(tf.mul(f, states[1]), tf.mul(i, act(this.lstm.activation, z2)));
      const o = act(ra, z3);
      const out = tf.mul(o, act(this.lstm.activation, c));
      return [out, out, c];
    }
  }

  class HmfGRUCell extends HmfCellBase {
    static className = 'HmfGRUCell';
    readonly stateSize: number;
    private readonly gru: ReturnType<typeof Tf.layers.gruCell>;

    constructor(args: HmfGRUCellArgs) {
      // tf.layers.gruCell refuses resetAfter: true, which TF.js does not implement.
      const stock = tf.layers.gruCell(args);
      super(args, stock, 3);
      this.gru = stock;
      this.stateSize = this.units;
    }

    protected step(xk: Tf.Tensor2D[], h: Tf.Tensor2D, _states: Tf.Tensor2D[], rec: PreparedBlock[]): Tf.Tensor[] {
      const [xZ, xR, xH] = xk;
      const [recZ, recR] = multiplyBlocks(tf, h, rec.slice(0, 2));
      const ra = this.gru.recurrentActivation;
      const z = act(ra, tf.add(xZ, recZ));
      const r = act(ra, tf.add(xR, recR));
      const hh = act(this.gru.activation, tf.add(xH, multiply(tf, tf.mul(r, h) as Tf.Tensor2D, rec[2])));
      const out = tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), hh));
      return [out, out];
    }
  }

  class HmfSimpleRNNCell extends HmfCellBase {
    static className = 'HmfSimpleRNNCell';
    readonly stateSize: number;
    private readonly simple: ReturnType<typeof Tf.layers.simpleRNNCell>;

    constructor(args: HmfSimpleRNNCellArgs) {
      const stock = tf.layers.simpleRNNCell(args);
      super(args, stock, 1);
      this.simple = stock;
      this.stateSize = this.units;
    }

    protected step(xk: Tf.Tensor2D[], h: Tf.Tensor2D, _states: Tf.Tensor2D[], rec: PreparedBlock[]): Tf.Tensor[] {
      const out = act(this.simple.activation, tf.add(xk[0], multiply(tf, h, rec[0])));
      return [out, out];
    }
  }

  return { HmfLSTMCell, HmfGRUCell, HmfSimpleRNNCell };
}
