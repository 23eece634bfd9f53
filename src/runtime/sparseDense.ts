import type * as Tf from '@tensorflow/tfjs';
import type { TfModule } from './factors.js';
import type { HmfLayerClass } from './recurrent.js';
import { checkSparseConfig, type SparseConfig } from './sparse.js';
import { SparseWeights } from './sparseWeights.js';

type Kwargs = Parameters<Tf.layers.Layer['call']>[1];
type LayerArgs = NonNullable<ConstructorParameters<typeof Tf.layers.Layer>[0]>;

export interface HmfSparseDenseArgs extends LayerArgs {
  units: number;
  /** A TF.js activation name. @default 'linear' */
  activation?: string;
  /** @default true */
  useBias?: boolean;
  /** How the pruned kernel is stored (see SparseConfig). */
  kernelSparse: SparseConfig;
}

export interface HmfSparseDenseClasses {
  HmfSparseDense: HmfLayerClass<HmfSparseDenseArgs>;
}

/** The runtime's sparse Dense layer, defined on the given TF.js. */
export function defineSparseDense(tf: TfModule): HmfSparseDenseClasses {
  /**
   * TF.js's Dense (on the last axis of any input) with a pruned kernel stored compactly
   * (`kernel_values` plus indices or a mask, see SparseConfig) and multiplied with a
   * sparse kernel where that is not slower than the dense product. Inference only.
   */
  class HmfSparseDense extends tf.layers.Layer {
    static className = 'HmfSparseDense';
    readonly units: number;
    readonly activationName: string;
    readonly useBias: boolean;
    readonly kernelSparse: SparseConfig;
    private readonly activationLayer: Tf.layers.Layer;
    private kernel: SparseWeights | null = null;
    private bias: Tf.LayerVariable | null = null;

    constructor(args: HmfSparseDenseArgs) {
      super(args);
      if (!Number.isInteger(args.units) || args.units < 1) throw new Error(`HmfSparseDense ${this.name}: units must be a positive integer, found ${args.units}`);
      this.units = args.units;
      this.activationName = args.activation ?? 'linear';
      this.activationLayer = tf.layers.activation({ activation: this.activationName as never });
      this.useBias = args.useBias ?? true;
      this.kernelSparse = checkSparseConfig(args.kernelSparse, `HmfSparseDense ${this.name} kernelSparse`);
      this.supportsMasking = true;
    }

    override build(inputShape: Tf.Shape | Tf.Shape[]): void {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Tf.Shape;
      const inputDim = shape[shape.length - 1];
      if (inputDim == null) throw new Error(`HmfSparseDense ${this.name}: the input's last dimension must be known`);
      const kernel = new SparseWeights(tf, 'kernel', this.kernelSparse, this.units, this.name);
      kernel.build((name, s, dtype, trainable) => this.addWeight(name, s, dtype, tf.initializers.zeros(), undefined, trainable), inputDim);
      this.kernel = kernel;
      if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tf.initializers.zeros());
      this.built = true;
    }

    override computeOutputShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape | Tf.Shape[] {
      const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Tf.Shape;
      return [...shape.slice(0, -1), this.units];
    }

    override call(inputs: Tf.Tensor | Tf.Tensor[], _kwargs: Kwargs): Tf.Tensor {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const kernel = this.kernel;
        if (!kernel) throw new Error(`HmfSparseDense ${this.name}: called before build()`);
        const n = x.shape[x.shape.length - 1];
        let y: Tf.Tensor = kernel.multiply(tf.reshape(x, [-1, n]) as Tf.Tensor2D);
        if (this.bias) y = tf.add(y, this.bias.read());
        y = this.activationLayer.apply(y) as Tf.Tensor;
        return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), this.units]);
      });
    }

    override dispose(): ReturnType<Tf.layers.Layer['dispose']> {
      this.kernel?.dispose();
      return super.dispose();
    }

    override getConfig(): Tf.serialization.ConfigDict {
      return {
        ...super.getConfig(),
        units: this.units,
        activation: this.activationName,
        useBias: this.useBias,
        kernelSparse: { ...this.kernelSparse },
      };
    }
  }

  return { HmfSparseDense: HmfSparseDense as unknown as HmfLayerClass<HmfSparseDenseArgs> };
}
