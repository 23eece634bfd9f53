/**
 * The hmf runtime: custom TF.js layers a compressed model may need where stock layers
 * cannot express the rewrite (docs/ARCHITECTURE.md §3). A TF.js add-on: it imports nothing at run
 * time, and its layers are defined on the TF.js the app passes in, so they register in
 * the copy of TF.js that loads the model, however hmf was installed.
 *
 *     import * as tf from '@tensorflow/tfjs';
 *     import { registerHmfLayers } from 'hmf/runtime';
 *     registerHmfLayers(tf);
 *     const model = await tf.loadLayersModel(...);
 *
 * Recurrent layers whose matrices are factored (LMF or HMF) become HmfLSTM, HmfGRU or
 * HmfSimpleRNN, and HmfBidirectional around them. Dense and Embedding compression needs
 * no runtime layer, except pruned kernels stored compactly (`--sparse`): HmfSparseDense,
 * and the recurrent layers with sparse matrices.
 */
import { defineBidirectional, type HmfBidirectionalArgs, type HmfBidirectionalLayer } from './bidirectional.js';
import type { TfModule } from './factors.js';
import { defineRecurrent, type HmfLayerClass, type HmfRecurrentClasses } from './recurrent.js';
import { defineSparseDense, type HmfSparseDenseClasses } from './sparseDense.js';

export type { HmfBidirectionalArgs, HmfBidirectionalLayer, MergeMode, SerializedRecurrent } from './bidirectional.js';
export type { HmfGRUArgs, HmfLayerClass, HmfLSTMArgs, HmfRNN, HmfSimpleRNNArgs } from './recurrent.js';
export type { HmfCell, HmfFactorsArgs } from './cells.js';
export { factorLayout, toRanges, type FactorsConfig, type TfModule } from './factors.js';
export type { HmfSparseDenseArgs } from './sparseDense.js';
export {
  checkSparseConfig,
  decodeSparse,
  densify,
  prefersSparseKernel,
  sparseMatMul,
  sparseProduct,
  sparseWeightShapes,
  SPARSE_FORMATS,
  type Csr,
  type SparseConfig,
  type SparseEngine,
  type SparseFormat,
  type SparseKernelChoice,
  type SparseParts,
} from './sparse.js';

/** The runtime's layer classes, as defined on one TF.js. */
export interface HmfLayers extends HmfRecurrentClasses, HmfSparseDenseClasses {
  HmfBidirectional: HmfLayerClass<HmfBidirectionalArgs, HmfBidirectionalLayer>;
}

/** Defines every runtime layer on `tf`; a new layer family adds its define function here. */
function defineHmfLayers(tf: TfModule): HmfLayers {
  const recurrent = defineRecurrent(tf);
  return { ...recurrent, ...defineBidirectional(tf, recurrent), ...defineSparseDense(tf) };
}

/** Names of the layer classes `registerHmfLayers(tf)` registers. */
export const HMF_LAYER_CLASSES: readonly string[] = ['HmfLSTM', 'HmfGRU', 'HmfSimpleRNN', 'HmfBidirectional', 'HmfSparseDense'];

// Keyed by TF.js's Layer class: one set of runtime classes per copy of tfjs-layers.
const defined = new WeakMap<object, HmfLayers>();

/**
 * Registers the hmf layers with the serialization registry of `tf` (default: the global
 * `tf` of a page that loaded TF.js with a script tag) and returns the layer classes.
 * Safe to call more than once; never logs.
 */
export function registerHmfLayers(tf?: TfModule): HmfLayers {
  const lib = tf ?? globalTf();
  if (typeof lib?.layers?.Layer !== 'function' || typeof lib.serialization?.registerClass !== 'function') {
    throw new TypeError(
      'registerHmfLayers(tf): expected the TF.js module with layers (import * as tf from "@tensorflow/tfjs"), ' +
        `found ${lib === null ? 'null' : typeof lib}${lib && typeof lib === 'object' ? ' without tf.layers.Layer' : ''}`,
    );
  }
  let layers = defined.get(lib.layers.Layer);
  if (!layers) {
    layers = defineHmfLayers(lib);
    defined.set(lib.layers.Layer, layers);
  }
  const registry = lib.serialization.SerializationMap.getMap().classNameMap;
  for (const cls of Object.values(layers)) {
    if (registry[cls.className]?.[0] !== cls) lib.serialization.registerClass(cls);
  }
  return layers;
}

function globalTf(): TfModule {
  const found = (globalThis as { tf?: TfModule }).tf;
  if (!found) {
    throw new TypeError(
      'registerHmfLayers(tf): pass the TF.js you load models with, e.g. import * as tf from "@tensorflow/tfjs"; registerHmfLayers(tf) ' +
        '(without an argument it uses the global tf of a page that loaded TF.js with a script tag, and there is none)',
    );
  }
  return found;
}

