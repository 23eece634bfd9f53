import type * as Tf from '@tensorflow/tfjs';
import type { TfModule } from './factors.js';
import type { HmfLayerClass, HmfRNN, HmfRecurrentClasses } from './recurrent.js';

type Kwargs = Parameters<Tf.layers.Layer['call']>[1];
type LayerArgs = NonNullable<ConstructorParameters<typeof Tf.layers.Layer>[0]>;

export type MergeMode = 'concat' | 'sum' | 'mul' | 'ave' | null;

/** A serialized runtime recurrent layer: `{className: 'HmfLSTM', config: {...}}`. */
export interface SerializedRecurrent {
  className: string;
  /** The layer's config (HmfLSTMArgs, HmfGRUArgs or HmfSimpleRNNArgs, as getConfig() returns them). */
  config: Record<string, unknown>;
}

export interface HmfBidirectionalArgs extends LayerArgs {
  /** Runs over the sequence as given (its own go_backwards as configured). */
  forwardLayer: SerializedRecurrent;
  /** Runs the other way; its outputs are reversed back in time when sequences are returned. */
  backwardLayer: SerializedRecurrent;
  /** @default 'concat' */
  mergeMode?: MergeMode;
}

/** A Bidirectional wrapper around two runtime recurrent layers. */
export interface HmfBidirectionalLayer extends Tf.layers.Layer {
  readonly forwardLayer: HmfRNN;
  readonly backwardLayer: HmfRNN;
  readonly mergeMode: MergeMode;
  readonly returnSequences: boolean;
  readonly returnState: boolean;
}

/** The runtime's Bidirectional wrapper, defined on the given TF.js around its recurrent layers. */
export function defineBidirectional(tf: TfModule, recurrent: HmfRecurrentClasses): { HmfBidirectional: HmfLayerClass<HmfBidirectionalArgs, HmfBidirectionalLayer> } {
  /**
   * TF.js's Bidirectional wrapper for two runtime recurrent layers that each carry their
   * own configuration: the stock wrapper derives the backward layer from the forward
   * layer's config, which cannot hold the backward direction's own factor shapes.
   * Weights are saved as `<wrapper>/<forward layer name>/<weight>`, as TF.js names them.
   * Initial states passed as inputs are not supported.
   */
  class HmfBidirectional extends tf.layers.Layer {
    static className = 'HmfBidirectional';
    readonly forwardLayer: HmfRNN;
    readonly backwardLayer: HmfRNN;
    readonly mergeMode: MergeMode;
    readonly returnSequences: boolean;
    readonly returnState: boolean;

    constructor(args: HmfBidirectionalArgs) {
      super(args);
      this.forwardLayer = instantiate(recurrent, args.forwardLayer, 'forwardLayer');
      this.backwardLayer = instantiate(recurrent, args.backwardLayer, 'backwardLayer');
      this.mergeMode = args.mergeMode === undefined ? 'concat' : args.mergeMode;
      if (!['concat', 'sum', 'mul', 'ave', null].includes(this.mergeMode)) {
        throw new Error(`HmfBidirectional ${this.name}: mergeMode must be concat, sum, mul, ave or null, found ${String(this.mergeMode)}`);
      }
      this.returnSequences = this.forwardLayer.returnSequences;
      this.returnState = this.forwardLayer.returnState;
      this._stateful = this.forwardLayer.stateful;
      this.supportsMasking = true;
    }

    override build(inputShape: Tf.Shape | Tf.Shape[]): void {
      for (const layer of [this.forwardLayer, this.backwardLayer]) {
        layer.hmfCell.weightPrefix = `${layer.name}/`;
        layer.build(inputShape);
        layer.built = true;
      }
      this.built = true;
    }

    override computeOutputShape(inputShape: Tf.Shape | Tf.Shape[]): Tf.Shape | Tf.Shape[] {
      const raw = this.forwardLayer.computeOutputShape(inputShape);
      const shapes = (Array.isArray(raw[0]) ? raw : [raw]) as Tf.Shape[];
      const output = [...shapes[0]];
      const states = shapes.slice(1);
      if (this.mergeMode === 'concat') output[output.length - 1] = (output[output.length - 1] as number) * 2;
      const outputs = this.mergeMode === null ? [output, [...output]] : [output];
      if (this.returnState) return [...outputs, ...states, ...states.map((s) => [...s])];
      return outputs.length === 1 ? outputs[0] : outputs;
    }

    override call(inputs: Tf.Tensor | Tf.Tensor[], kwargs: Kwargs): Tf.Tensor | Tf.Tensor[] {
      return tf.tidy(() => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const passed = { mask: kwargs?.mask, training: kwargs?.training };
        let y = this.forwardLayer.call(x, passed);
        let yRev = this.backwardLayer.call(x, passed);
        let states: Tf.Tensor[] = [];
        if (this.returnState) {
          const ys = y as Tf.Tensor[];
          const ysRev = yRev as Tf.Tensor[];
          states = [...ys.slice(1), ...ysRev.slice(1)];
          y = ys[0];
          yRev = ysRev[0];
        }
        let forward = y as Tf.Tensor;
        let backward = yRev as Tf.Tensor;
        if (this.returnSequences) backward = tf.reverse(backward, 1);
        let output: Tf.Tensor[];
        if (this.mergeMode === 'concat') output = [tf.concat([forward, backward], -1)];
        else if (this.mergeMode === 'sum') output = [tf.add(forward, backward)];
        else if (this.mergeMode === 'ave') output = [tf.mul(0.5, tf.add(forward, backward))];
        else if (this.mergeMode === 'mul') output = [tf.mul(forward, backward)];
        else output = [forward, backward];
        const all = [...output, ...states];
        return all.length === 1 ? all[0] : all;
      });
    }

    override computeMask(_inputs: Tf.Tensor | Tf.Tensor[], mask?: Tf.Tensor | Tf.Tensor[]): Tf.Tensor | Tf.Tensor[] {
      const m = (Array.isArray(mask) ? mask[0] : mask) ?? null;
      const outputMask = this.returnSequences ? m : null;
      const masks: (Tf.Tensor | null)[] = this.mergeMode === null ? [outputMask, outputMask] : [outputMask];
      if (this.returnState) {
        const perLayer = Array.isArray(this.forwardLayer.hmfCell.stateSize) ? this.forwardLayer.hmfCell.stateSize.length : 1;
        for (let i = 0; i < 2 * perLayer; i++) masks.push(null);
      }
      // TF.js's own signature says Tensor, but null masks are what it passes around.
      return (masks.length === 1 ? masks[0] : masks) as Tf.Tensor | Tf.Tensor[];
    }

    override get trainableWeights(): Tf.LayerVariable[] {
      return [...this.forwardLayer.trainableWeights, ...this.backwardLayer.trainableWeights];
    }

    override get nonTrainableWeights(): Tf.LayerVariable[] {
      return [...this.forwardLayer.nonTrainableWeights, ...this.backwardLayer.nonTrainableWeights];
    }

    override resetStates(): void {
      this.forwardLayer.resetStates();
      this.backwardLayer.resetStates();
    }

    override setFastWeightInitDuringBuild(value: boolean): void {
      super.setFastWeightInitDuringBuild(value);
      this.forwardLayer?.setFastWeightInitDuringBuild(value);
      this.backwardLayer?.setFastWeightInitDuringBuild(value);
    }

    override getConfig(): Tf.serialization.ConfigDict {
      const serialize = (l: HmfRNN): Tf.serialization.ConfigDict => ({ className: l.getClassName(), config: l.getConfig() });
      return {
        ...super.getConfig(),
        mergeMode: this.mergeMode,
        forwardLayer: serialize(this.forwardLayer),
        backwardLayer: serialize(this.backwardLayer),
      };
    }
  }

  return { HmfBidirectional };
}

function instantiate(recurrent: HmfRecurrentClasses, s: SerializedRecurrent | undefined, key: string): HmfRNN {
  const classes: Record<string, HmfRecurrentClasses[keyof HmfRecurrentClasses]> = { ...recurrent };
  const cls = s ? classes[s.className] : undefined;
  if (!s || !cls) {
    throw new Error(`HmfBidirectional: ${key} must be one of ${Object.keys(classes).join(', ')}, found ${s?.className}`);
  }
  return new cls({ ...s.config } as never);
}
