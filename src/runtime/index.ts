/**
 * The hmf runtime: custom TF.js layers a compressed model may need where stock layers
 * cannot express the rewrite (DESIGN.md §3). Depends on TF.js alone.
 *
 *     import { registerHmfLayers } from 'hmf/runtime';
 *     registerHmfLayers();
 *     const model = await tf.loadLayersModel(...);
 *
 * Dense and Embedding compression needs no runtime layer, so none is registered yet.
 */

/** Names of the layer classes `registerHmfLayers()` registers. */
export const HMF_LAYER_CLASSES: readonly string[] = [];

let registered = false;

/** Registers the hmf layers with TF.js's serialization registry; safe to call more than once. */
export function registerHmfLayers(): void {
  if (registered) return;
  registered = true;
}
