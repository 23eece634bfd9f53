/**
 * The hmf runtime: custom TF.js layers a compressed model may need where stock layers
 * cannot express the rewrite (DESIGN.md §3). Depends on TF.js alone.
 *
 *     import { registerHmfLayers } from 'hmf/runtime';
 *     registerHmfLayers();
 *     const model = await tf.loadLayersModel(...);
 *
 * Recurrent layers whose matrices are factored (LMF or HMF) become HmfLSTM, HmfGRU or
 * HmfSimpleRNN, and HmfBidirectional around them. Dense and Embedding compression needs
 * no runtime layer.
 */
import { tf } from '../tf.js';
import { HmfBidirectional } from './bidirectional.js';
import { HmfGRU, HmfLSTM, HmfSimpleRNN } from './recurrent.js';

export { HmfBidirectional, type HmfBidirectionalArgs, type MergeMode, type SerializedRecurrent } from './bidirectional.js';
export { HmfGRU, HmfLSTM, HmfRNN, HmfSimpleRNN, type HmfGRUArgs, type HmfLSTMArgs, type HmfSimpleRNNArgs } from './recurrent.js';
export type { HmfFactorsArgs } from './cells.js';
export { factorLayout, toRanges, type FactorsConfig } from './factors.js';

/** Names of the layer classes `registerHmfLayers()` registers. */
export const HMF_LAYER_CLASSES: readonly string[] = ['HmfLSTM', 'HmfGRU', 'HmfSimpleRNN', 'HmfBidirectional'];

let registered = false;

/** Registers the hmf layers with TF.js's serialization registry; safe to call more than once. */
export function registerHmfLayers(): void {
  if (registered) return;
  for (const cls of [HmfLSTM, HmfGRU, HmfSimpleRNN, HmfBidirectional]) tf.serialization.registerClass(cls);
  registered = true;
}
